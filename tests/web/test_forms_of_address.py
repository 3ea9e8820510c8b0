"""The German interface addresses people with "Sie" (issue 18): no "du" form in the catalog,
the German mail templates, the templates' literal text or the German strings in the code
(demo content, the data export's explanations).

The check is a list of words that mark the "du" form, matched case-sensitively as whole
words: the pronouns in lower case ("Ihr", "Ihre" capitalised are the Sie form; "ihr" in
lower case is only a pronoun or the "ihr" of "ihr Konto" (her/their), see ALLOWED), the
capitalised forms that open a sentence ("Du", "Dein", ...), and the du-imperatives
interfaces use ("Melde dich", "Gib", "Klicke", ...) where a sentence starts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2] / "fedi"
CATALOG = ROOT / "core" / "locale" / "de" / "LC_MESSAGES" / "messages.po"

# Pronouns and possessives of the "du"/"ihr" form, lower case anywhere and capitalised at the
# start of a sentence. "ihr"/"euer"/"eure" lower case only: "Ihr", "Ihre" are the Sie form.
_PRONOUNS = ("du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines",
             "euch", "euer", "eure", "euren", "eurem", "eurer", "eures")
_CAPITALISED = ("Du", "Dich", "Dir", "Dein", "Deine", "Deinen", "Deinem", "Deiner", "Deines",
                "Euch")
# Du-imperatives seen in interfaces, flagged at the start of a sentence (or after
# "bitte"): "Gib ..." is always the du form, "Geben Sie ..." the Sie form.
_IMPERATIVES = ("Gib", "Klicke", "Klick", "Schreibe", "Schreib", "Lade", "Wähle", "Prüfe",
                "Melde", "Suche", "Folge", "Bestätige", "Öffne", "Trage", "Nutze", "Gehe",
                "Sieh", "Lies", "Antworte", "Sende", "Ändere", "Setze", "Lege", "Füge",
                "Entferne", "Besuche", "Registriere", "Beachte", "Verwende", "Kopiere",
                "Schau", "Hilf", "Erstelle", "Vergiss", "Nimm", "Lass", "Tippe",
                "Warte", "Versuche", "Melde", "Logge", "Frag", "Achte", "Gebe")
_WORDS = re.compile(r"(?<![\w-])(" + "|".join((*_PRONOUNS, "ihr")) + r")(?![\w-])")
_START = r"(?:^|[.!?:;„\"(]\s*|\b[Bb]itte\s+)"
# An imperative is followed by a word ("Suche dort ..."); "Suche" alone or "Suche: ..." is the
# noun, as is "Versuche" in "Zu viele Versuche".
_SENTENCE = re.compile(_START + r"(?:(" + "|".join(_CAPITALISED) + r")(?![\w-])|("
                       + "|".join(_IMPERATIVES) + r")(?=\s+\w))")
_LOWER_IMPERATIVE = re.compile(
    r"\b(?:[Bb]itte|oder|und)\s+(" + "|".join(w.lower() for w in _IMPERATIVES) + r")\b(?!\s+Sie)")
# "ihr" in lower case that is not the du-plural: "ein Konto und ihr Passwort" (her/its).
ALLOWED = (re.compile(r"\b(Administratoren|Gruppen|Moderatoren|Moderation|Personen|sie)"
                      r"\b[^.]{0,60}\bihr(e|en|em|er)?\b"),
           # "allen, die ihr folgen" (who follow it: the group), "hat ihr Impressum" (its).
           re.compile(r"\bdie ihr folgen\b"), re.compile(r"\bhat ihr\b"))


def du_words(text: str) -> list[str]:
    """The words in ``text`` that mark the "du" form (empty when it uses the Sie form)."""
    found = [m.group(1) for m in _WORDS.finditer(text)]
    if "ihr" in found and any(allowed.search(text) for allowed in ALLOWED):
        found = [word for word in found if word != "ihr"]
    found += [m.group(1) or m.group(2) for m in _SENTENCE.finditer(text)
              if not text[m.end():].lstrip().startswith("Sie")]
    found += [m.group(1) for m in _LOWER_IMPERATIVE.finditer(text)]
    return found


def test_matcher_flags_du_forms_and_passes_sie_forms() -> None:
    assert du_words("Melde dich an, um zu antworten") == ["dich", "Melde"]
    assert du_words("Bitte prüfe deine Eingaben") == ["deine", "prüfe"]
    assert du_words("Du bist angemeldet.") == ["Du"]
    assert du_words("Gib das Ende der Sperre an.") == ["Gib"]
    assert du_words("Was wollt ihr wissen?") == ["ihr"]
    assert du_words("Die Meldung ist dir zugewiesen.") == ["dir"]
    assert du_words("Klicke hier. Wähle eine Gruppe.") == ["Klicke", "Wähle"]
    for polite in ("Melden Sie sich an, um zu antworten", "Bitte prüfen Sie Ihre Eingaben",
                   "Sie sind angemeldet.", "Ihre Antwort", "Ihr Konto wurde angelegt.",
                   "Geben Sie das Ende der Sperre an.", "Suche", "Suche: %(query)s",
                   "Frage: Sie suchen eine Antwort", "Zu viele Versuche.",
                   "Versuchen Sie es noch einmal.",
                   "Administratoren löschen ihr eigenes Konto mit DELETE /api/v1/me",
                   "Eine Durchsage für den Dirigenten, Ihr Duden und Ihre Duschen"):
        assert du_words(polite) == [], polite


def _catalog_strings() -> list[tuple[str, str]]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="de")
    found = []
    for message in catalog:
        if not message.id:
            continue
        texts = message.string if isinstance(message.string, (list, tuple)) else [
            message.string]
        found += [(str(message.id), text) for text in texts if text]
    return found


def test_catalog_uses_the_sie_form() -> None:
    strings = _catalog_strings()
    assert len(strings) > 300  # the catalog was read
    offending = [(msgid, text, du_words(text)) for msgid, text in strings if du_words(text)]
    assert offending == [], "\n".join(f"{text!r} ({words})" for _, text, words in offending)


def test_german_mail_templates_use_the_sie_form() -> None:
    files = sorted((ROOT / "core" / "mail_templates").glob("*.de.txt"))
    assert files
    offending = []
    for path in files:
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", path.read_text("utf-8"),
                      flags=re.S)
        offending += [(path.name, line, du_words(line)) for line in text.splitlines()
                      if du_words(line)]
    assert offending == []


def test_templates_hold_no_du_form_text() -> None:
    offending = []
    for path in sorted((ROOT / "web" / "templates").rglob("*.html")):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]*>", " ", path.read_text("utf-8"),
                      flags=re.S)
        offending += [(path.name, line.strip(), du_words(line)) for line in text.splitlines()
                      if du_words(line)]
    assert offending == []


_GERMAN = re.compile(r"[äöüÄÖÜß]|\b(und|der|die|das|nicht|Sie|Ihre?|werden|wird|ist)\b")


def _german_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                                       ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and _GERMAN.search(node.value)]


def test_german_strings_in_the_code_use_the_sie_form() -> None:
    """Demo content (fedi/demo.py), the export's explanations and any other German text
    that does not go through the catalog."""
    offending = []
    checked = 0
    for path in sorted(ROOT.rglob("*.py")):
        for text in _german_literals(path):
            checked += 1
            if du_words(text):
                offending.append((str(path.relative_to(ROOT)), text, du_words(text)))
    assert checked > 20
    assert offending == [], "\n".join(map(str, offending))
