"""The gettext catalogs: complete, well-formed, and the language choice."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from fedi.core import i18n
from fedi.web.messages import translate_message

# Messages are extracted from the whole application (services mark theirs with N_).
FEDI = Path(i18n.__file__).resolve().parents[1]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "Gone": None, "NotFound": None,
            "Forbidden": None, "TooManyRequests": None}
METHODS = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
OPTIONS = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
REMOVE_POST_HINT = ("The public no longer sees it, here and on other servers; moderators still "
                    "can, and can restore it. The reason appears in the public moderation log.")
REMOVE_THREAD_HINT = ("The public no longer sees this thread, here and on other servers; "
                      "moderators still can, and can restore it. The reason appears in the "
                      "public moderation log.")
RESTORE_THREAD_HINT = "Everyone sees this thread again, here and on other servers."


def _extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(FEDI), METHODS, OPTIONS, KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(lang: str) -> dict[str, object]:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
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
    assert translate_message("de", "title is required") == "Bitte geben Sie einen Titel an."
    assert translate_message("en", "title is required") == "Please enter a title."
    # Text nobody translated (an exception's, say) is never shown: a general sentence is.
    assert translate_message("de", "a message nobody translated", 404) == \
        "Diese Seite gibt es nicht."


def test_plural_forms() -> None:
    german = i18n.translations("de")
    assert german.ungettext("%(num)s reply", "%(num)s replies", 1) == "%(num)s Antwort"
    assert german.ungettext("%(num)s reply", "%(num)s replies", 2) == "%(num)s Antworten"


# German wording (testers, issue 11): "sperren" is for bans only; a locked thread is
# "geschlossen" (as in German Discourse), and "Thema" is neuter.

_LOCK = re.compile(r"\b(un)?lock(s|ed|ing)?\b", re.IGNORECASE)
_BAN = re.compile(r"\b(un)?ban(s|ned|ning)?\b", re.IGNORECASE)


def _german_texts() -> dict[str, str]:
    return {msgid: " ".join(text) if isinstance(text, tuple) else str(text)
            for msgid, text in _catalog("de").items()}


def test_german_lock_wording_is_not_the_ban_wording() -> None:
    lock_entries = {m: t for m, t in _german_texts().items() if _LOCK.search(m)}
    assert len(lock_entries) >= 8  # the check must see the lock strings at all
    for msgid, text in lock_entries.items():
        assert re.search(r"schlie(ß|ss)|geschlossen|öffne", text, re.I), (msgid, text)
        if not _BAN.search(msgid):
            assert "sperr" not in text.lower(), (msgid, text)
    texts = _german_texts()
    assert texts["Lock thread"] == "Thema schließen"
    assert texts["Unlock thread"] == "Thema wieder öffnen"
    assert texts["Locked"] == "Geschlossen"
    assert texts["Ban"] == "Sperren"  # bans keep "sperren"


def test_german_pronouns_for_a_thread_are_neuter() -> None:
    texts = _german_texts()
    thread_removed = texts[REMOVE_THREAD_HINT]
    assert "sieht es dann nicht mehr" in thread_removed and "ihn" not in thread_removed.split()
    assert "kann es wiederherstellen" in thread_removed
    assert texts[RESTORE_THREAD_HINT] == "Alle sehen es wieder, hier und auf anderen Servern."
    # A post ("der Beitrag") stays masculine.
    assert "sieht ihn dann nicht mehr" in texts[REMOVE_POST_HINT]


# Dates: one format per language, no seconds; machine-readable in <time datetime>.

WHEN = datetime(2026, 12, 4, 13, 5, 33, 123456, tzinfo=UTC)  # 14:05:33 in Berlin


@pytest.mark.parametrize(("lang", "expected"), [
    ("de", "4. Dezember 2026, 14:05"),
    ("en", "4 December 2026, 14:05"),
])
def test_one_date_format_per_language_without_seconds(lang: str, expected: str) -> None:
    assert i18n.format_date_time(WHEN, lang) == expected
    summer = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 08:30 in Berlin (summer time)
    assert i18n.format_date_time(summer, lang).endswith(", 08:30")
    assert i18n.format_date_time(None, lang) == ""


def test_machine_readable_date_is_a_valid_html_datetime() -> None:
    assert i18n.machine_date_time(WHEN) == "2026-12-04T13:05:33Z"
    assert i18n.machine_date_time(None) == ""
