-- Profiles: what a person tells about themselves (bio, organisation, municipality, the
-- capacity in which they speak), shown on their page and federated on their Person
-- actor. One row per local account; the rendered bio lives in actors.summary (what the
-- actor document sends), its Markdown here.
CREATE TABLE profiles (
    account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    bio_source text NOT NULL DEFAULT '',
    organisation text NOT NULL DEFAULT '',
    municipality text NOT NULL DEFAULT '',
    affiliation text CHECK (affiliation IN ('administration', 'mayor', 'council', 'business',
                                            'citizen', 'association', 'research', 'other')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- An official voice: set by an administrator (or by a confirmed address under a
-- configured domain). On the actor, so every post, list and page that shows an author
-- can show the badge without another query.
ALTER TABLE actors ADD COLUMN official_position text;

-- A requested change of the e-mail address, waiting for the link mailed to the new
-- address. Only the SHA-256 of the token is stored; it works once and until expires_at.
CREATE TABLE email_changes (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    new_email text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX email_changes_account ON email_changes (account_id);
