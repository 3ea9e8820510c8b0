"""The gettext catalogs: complete, well-formed, and the language choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from fedi.web import i18n
from fedi.web.messages import translate_message

WEB = Path(i18n.__file__).resolve().parent
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "Gone": None, "NotFound": None,
            "Forbidden": None, "TooManyRequests": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(WEB), METHODS, OPTIONS, KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(lang: str) -> dict[str, object]:
    with (WEB / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {str(m.id[0] if isinstance(m.id, tuple | list) else m.id): m.string
                for m in read_po(f) if m.id}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_string_is_in_the_catalog(lang: str) -> None:
    catalog = _catalog(lang)
    missing = sorted(_extracted() - set(catalog))
    assert not missing, f"run the extraction (fedi/web/README.md); missing in {lang}: {missing}"


def test_every_german_string_is_translated() -> None:
    untranslated = [msgid for msgid, text in _catalog("de").items()
                    if not text or (isinstance(text, tuple) and not all(text))]
    assert untranslated == []


@pytest.mark.parametrize(("cookie", "header", "expected"), [
    (None, None, "de"),
    (None, "en-US,en;q=0.9", "en"),
    (None, "fr-FR, en;q=0.5, de;q=0.8", "de"),
    (None, "fr, it", "de"),
    (None, "en;q=0", "de"),
    ("en", "de", "en"),
    ("xx", "en", "en"),
])
def test_language_choice(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.pick_language(cookie, header) == expected


def test_service_messages_with_values_are_translated() -> None:
    assert translate_message("de", "the name 'alice' is already taken") == \
        "Der Name alice ist schon vergeben."
    assert translate_message("de", "title is required") == "Bitte gib einen Titel an."
    assert translate_message("en", "title is required") == "title is required"
    assert translate_message("de", "a message nobody translated") == \
        "a message nobody translated"


def test_plural_forms() -> None:
    german = i18n.translations("de")
    assert german.ungettext("%(num)s reply", "%(num)s replies", 1) == "%(num)s Antwort"
    assert german.ungettext("%(num)s reply", "%(num)s replies", 2) == "%(num)s Antworten"
