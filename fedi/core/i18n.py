"""Languages of the web forum: German first, English second.

The gettext catalogs live as ``locale/<lang>/LC_MESSAGES/messages.po`` and are compiled
with Babel in memory when the app starts, so a clean clone needs no build step and the
``.po`` files are the only source of truth. Dates and numbers are formatted per language
with Babel, in the German time zone (the forum's users are German municipalities).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_month_names
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


# Babel parses the pattern and looks up the locale on every call (tens of microseconds;
# a thread page shows hundreds of dates): the known patterns as format strings.
_FAST_LAYOUTS = {"d. MMMM y, HH:mm": "{d}. {m} {y}, {H:02d}:{M:02d}",
                 "d MMMM y, HH:mm": "{d} {m} {y}, {H:02d}:{M:02d}"}
_SAMPLES = (datetime(2026, 12, 4, 13, 5, tzinfo=UTC), datetime(2025, 3, 30, 0, 59, tzinfo=UTC),
            datetime(2024, 10, 27, 1, 0, tzinfo=UTC), datetime(999, 1, 1, 23, 30, tzinfo=UTC))


@functools.cache
def date_time_formatter(lang: str) -> Callable[[datetime | None], str]:
    """:func:`format_date_time` for ``lang``, made once: the same text (checked against
    Babel on sample dates when made; Babel itself for a pattern it does not know)."""
    pattern = DATE_TIME_PATTERNS.get(lang, DATE_TIME_PATTERNS[DEFAULT_LANGUAGE])
    layout = _FAST_LAYOUTS.get(pattern)

    def slow(value: datetime | None) -> str:
        return format_date_time(value, lang)

    if layout is None:
        return slow
    months = get_month_names("wide", context="format", locale=lang)

    @functools.lru_cache(maxsize=16384)
    def minute_text(minute: int) -> str:  # shown to the minute: one text per minute
        local = datetime.fromtimestamp(minute * 60, TIME_ZONE)
        return layout.format(d=local.day, m=months[local.month], y=local.year,
                             H=local.hour, M=local.minute)

    def fast(value: datetime | None) -> str:
        if value is None:
            return ""
        if value.tzinfo is None:  # as Babel reads a naive moment: UTC
            value = value.replace(tzinfo=UTC)
        return minute_text(math.floor(value.timestamp()) // 60)

    if any(fast(sample) != slow(sample) for sample in _SAMPLES):
        return slow
    return fast


def machine_date_time(value: datetime | None) -> str:
    """The same moment for ``<time datetime>``: UTC to the second. Python's isoformat()
    writes microseconds, and HTML allows at most three digits of a second's fraction."""
    if value is None:
        return ""
    moment = value.astimezone(UTC)
    if moment.year < 1000:  # strftime's year is not padded; keep its text there
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    # isoformat is several times faster than strftime (a thread page has hundreds).
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def format_number(value: int | float, lang: str) -> str:
    if type(value) is int and -1000 < value < 1000:  # no grouping: Babel's text, faster
        return str(value)
    return format_decimal(value, locale=lang)
