"""Events as iCalendar (RFC 5545), with the ``icalendar`` library: one event, a group's
events, the instance's. Subscriptions (Outlook, Thunderbird) stay current because:

- ``UID`` is the event's ActivityPub id (stable; a remote event keeps its origin's id);
- ``DTSTART``/``DTEND`` carry ``TZID`` = the event's IANA zone, and the calendar holds a
  ``VTIMEZONE`` for every zone used (``add_missing_timezones``);
- ``SEQUENCE`` is bumped on every change, ``LAST-MODIFIED``/``DTSTAMP`` say when;
- a cancelled (or deleted) event stays in the feed with ``STATUS:CANCELLED`` so
  calendars remove it instead of keeping a stale copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from icalendar import Calendar
from icalendar import Event as VEvent

from fedi.core.markup import html_to_text
from fedi.federation.events import local_time
from storage.events import Event

__all__ = ["ICS_MEDIA_TYPE", "calendar_bytes"]

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//dEMiSA//Veranstaltungen//DE"


def _location(event: Event) -> str | None:
    parts = [event.place_name, event.street,
             " ".join(p for p in (event.postal_code, event.locality) if p), event.country]
    text = ", ".join(p for p in parts if p)
    if text:
        return text
    if event.online_url and event.online_visibility == "public":
        return event.online_url
    return None


def _vevent(event: Event, *, link: str) -> VEvent:
    item = VEvent()
    item.add("uid", event.ap_id)
    item.add("summary", event.title)
    item.add("dtstamp", event.updated_at.astimezone(UTC))
    item.add("last-modified", event.updated_at.astimezone(UTC))
    item.add("created", event.published.astimezone(UTC))
    item.add("dtstart", local_time(event.starts_at, event.timezone))
    if event.ends_at is not None:
        item.add("dtend", local_time(event.ends_at, event.timezone))
    item.add("sequence", event.sequence)
    cancelled = event.status == "cancelled" or event.deleted_at is not None
    item.add("status", "CANCELLED" if cancelled else event.status.upper())
    description = html_to_text(event.description_html) if event.description_html else ""
    item.add("description", f"{description}\n\n{link}".strip())
    item.add("url", link)
    location = _location(event)
    if location:
        item.add("location", location)
    if event.latitude is not None and event.longitude is not None:
        item.add("geo", (event.latitude, event.longitude))
    return item


def calendar_bytes(events: Iterable[Event], *, name: str, links: dict[int, str]) -> bytes:
    """A VCALENDAR with one VEVENT per event (``links``: event id -> its page)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_vevent(event, link=links.get(event.id, event.url or event.ap_id)))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


