"""Languages of the web forum: German first, English second.

The gettext catalogs live as ``locale/<lang>/LC_MESSAGES/messages.po`` and are compiled
with Babel in memory when the app starts, so a clean clone needs no build step and the
``.po`` files are the only source of truth. Dates and numbers are formatted per language
with Babel, in the German time zone (the forum's users are German municipalities).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TIME_ZONE = ZoneInfo("Europe/Berlin")


@functools.cache
def translations(lang: str) -> Translations:
    """The compiled catalog of ``lang`` (fuzzy entries left out, as msgfmt does)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def gettext(lang: str, message: str) -> str:
    return translations(lang).ugettext(message)


def parse_accept_language(header: str | None) -> str | None:
    """The best of our languages in an Accept-Language header, or None."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0].lower()
        if quality > 0 and primary in LANGUAGES:
            # Higher quality first; among equals the order of the header decides.
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The switch (cookie) wins over the browser's Accept-Language; German by default."""
    if cookie in LANGUAGES:
        return cookie
    return parse_accept_language(accept_language) or DEFAULT_LANGUAGE


# One date format per language, to the minute (testers found seconds noise, and two
# formats side by side confusing): "4. Dezember 2026, 14:05", "4 December 2026, 14:05".
DATE_TIME_PATTERNS = {"de": "d. MMMM y, HH:mm", "en": "d MMMM y, HH:mm"}


def format_date_time(value: datetime | None, lang: str) -> str:
    """A moment as people read it, in the forum's time zone."""
    if value is None:
        return ""
    pattern = DATE_TIME_PATTERNS.get(lang, DATE_TIME_PATTERNS[DEFAULT_LANGUAGE])
    return format_datetime(value, pattern, tzinfo=TIME_ZONE, locale=lang)


def machine_date_time(value: datetime | None) -> str:
    """The same moment for ``<time datetime>``: UTC to the second. Python's isoformat()
    writes microseconds, and HTML allows at most three digits of a second's fraction."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_number(value: int | float, lang: str) -> str:
    return format_decimal(value, locale=lang)
