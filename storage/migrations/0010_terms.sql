-- Terms of use and privacy policy, versioned, and who accepted which version when
-- (issue 13 point 9).

-- Every published version of each document: Markdown as the administration wrote it and
-- the sanitised HTML rendered from it at publication (fedi.core.markup), never edited
-- afterwards. The current version of a kind is its highest.
CREATE TABLE legal_documents (
    kind text NOT NULL CHECK (kind IN ('terms', 'privacy')),
    version integer NOT NULL CHECK (version >= 1),
    source text NOT NULL,
    html text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- NULL for the built-in first version (and when the publishing account is gone).
    created_by bigint REFERENCES accounts(id) ON DELETE SET NULL,
    PRIMARY KEY (kind, version)
);

-- One row per account, document and version it accepted (at sign-up, or later when a
-- new version asked for it). Gone with the account.
CREATE TABLE legal_acceptances (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind text NOT NULL,
    version integer NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, kind, version),
    FOREIGN KEY (kind, version) REFERENCES legal_documents (kind, version)
);

-- Version 1 of each: a short German template, clearly marked as one, so that sign-up
-- works on a fresh instance; the administration replaces it (version 2 and up).
INSERT INTO legal_documents (kind, version, source, html) VALUES
('terms', 1, $legal$> **Vorlage:** Diese Nutzungsbedingungen sind ein Platzhalter. Die Verwaltung dieser Instanz muss sie an ihre Verhältnisse anpassen, bevor das Forum öffentlich genutzt wird.

## Nutzungsbedingungen

1. Dieses Forum dient dem Austausch über die Digitalisierung von Kommunen. Bitte bleiben Sie sachlich und respektvoll.
2. Beiträge dürfen keine rechtswidrigen Inhalte, keine Beleidigungen und keine Werbung enthalten.
3. Öffentliche Beiträge werden über das Fediverse an andere Server weitergegeben und können dort gespeichert bleiben.
4. Die Moderation kann Beiträge entfernen und Konten sperren, die gegen diese Bedingungen verstoßen; jede solche Maßnahme steht im Moderationsprotokoll.
5. Sie können Ihr Konto jederzeit löschen.
$legal$,
$legal$<blockquote>
<p><strong>Vorlage:</strong> Diese Nutzungsbedingungen sind ein Platzhalter. Die Verwaltung dieser Instanz muss sie an ihre Verhältnisse anpassen, bevor das Forum öffentlich genutzt wird.</p>
</blockquote>
<h2>Nutzungsbedingungen</h2>
<ol>
<li>Dieses Forum dient dem Austausch über die Digitalisierung von Kommunen. Bitte bleiben Sie sachlich und respektvoll.</li>
<li>Beiträge dürfen keine rechtswidrigen Inhalte, keine Beleidigungen und keine Werbung enthalten.</li>
<li>Öffentliche Beiträge werden über das Fediverse an andere Server weitergegeben und können dort gespeichert bleiben.</li>
<li>Die Moderation kann Beiträge entfernen und Konten sperren, die gegen diese Bedingungen verstoßen; jede solche Maßnahme steht im Moderationsprotokoll.</li>
<li>Sie können Ihr Konto jederzeit löschen.</li>
</ol>$legal$),
('privacy', 1, $legal$> **Vorlage:** Diese Datenschutzerklärung ist ein Platzhalter. Die Verwaltung dieser Instanz muss sie an ihre Verhältnisse anpassen (Verantwortliche Stelle, Datenschutzbeauftragte, Speicherfristen), bevor das Forum öffentlich genutzt wird.

## Datenschutzerklärung

- **Verantwortlich:** die Verwaltung, die diese Instanz betreibt (bitte Name und Anschrift eintragen).
- **Welche Daten:** Benutzername, Anzeigename, E-Mail-Adresse, Passwort (nur als Hash), Ihre Beiträge, Likes und Abonnements sowie die Zeitpunkte Ihrer Anmeldungen.
- **Wozu:** für den Betrieb des Forums (Art. 6 Abs. 1 lit. b DSGVO). Öffentliche Beiträge und Ihr Profil werden an andere Server im Fediverse übermittelt.
- **Ihre Rechte:** Auskunft und Datenübertragbarkeit (Art. 15, 20 DSGVO: Datenexport in den Einstellungen), Berichtigung, Löschung (Art. 17 DSGVO: Konto löschen) und Beschwerde bei einer Aufsichtsbehörde.
$legal$,
$legal$<blockquote>
<p><strong>Vorlage:</strong> Diese Datenschutzerklärung ist ein Platzhalter. Die Verwaltung dieser Instanz muss sie an ihre Verhältnisse anpassen (Verantwortliche Stelle, Datenschutzbeauftragte, Speicherfristen), bevor das Forum öffentlich genutzt wird.</p>
</blockquote>
<h2>Datenschutzerklärung</h2>
<ul>
<li><strong>Verantwortlich:</strong> die Verwaltung, die diese Instanz betreibt (bitte Name und Anschrift eintragen).</li>
<li><strong>Welche Daten:</strong> Benutzername, Anzeigename, E-Mail-Adresse, Passwort (nur als Hash), Ihre Beiträge, Likes und Abonnements sowie die Zeitpunkte Ihrer Anmeldungen.</li>
<li><strong>Wozu:</strong> für den Betrieb des Forums (Art. 6 Abs. 1 lit. b DSGVO). Öffentliche Beiträge und Ihr Profil werden an andere Server im Fediverse übermittelt.</li>
<li><strong>Ihre Rechte:</strong> Auskunft und Datenübertragbarkeit (Art. 15, 20 DSGVO: Datenexport in den Einstellungen), Berichtigung, Löschung (Art. 17 DSGVO: Konto löschen) und Beschwerde bei einer Aufsichtsbehörde.</li>
</ul>$legal$);
