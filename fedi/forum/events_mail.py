"""E-mail to the local people registered for an event: at once when its time or place
changes or it is cancelled (:func:`tell_participants`, in the change's transaction), and
a reminder the day before (:func:`send_due_reminders`, run every few minutes by the
startup hook :func:`start_event_reminders`; ``event_reminders`` rows make it once per
person and event). The in-app side is a ``notification_events`` row of kind
``event_reminder`` / ``event_changed`` (the notification worker may show them).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.dates import format_datetime

from fedi.core.context import Context
from fedi.core.mail import enqueue_mail, mail_language
from fedi.core.runtime import run_periodically
from fedi.federation.events import zone
from storage import events as event_store
from storage import notification_events
from storage.events import Event

__all__ = ["REMINDER_INTERVAL", "send_due_reminders", "start_event_reminders",
           "tell_participants", "when"]

log = logging.getLogger("fedi.events")
REMINDER_INTERVAL = 300.0  # seconds between looks for events starting tomorrow


_PATTERNS = {"de": "EEEE, d. MMMM y, HH:mm 'Uhr'", "en": "EEEE, d MMMM y, HH:mm"}


def when(event: Event, lang: str, *, moment: datetime | None = None) -> str:
    """The start (or ``moment``) in the event's own time zone, as people read it, with
    the zone's name."""
    text = format_datetime(moment or event.starts_at, _PATTERNS.get(lang, _PATTERNS["de"]),
                           tzinfo=zone(event.timezone), locale=lang)
    return f"{text} ({event.timezone})"


def _values(ctx: Context, event: Event, name: str, lang: str) -> dict[str, str]:
    place = ", ".join(p for p in (event.place_name, event.street,
                                  " ".join(x for x in (event.postal_code, event.locality) if x))
                      if p)
    return {
        "name": name,
        "title": event.title,
        "when": when(event, lang),
        "where": place or ("online" if event.online_url else "–"),
        "link": f"{ctx.settings.base_url}/events/{event.id}",
    }


async def tell_participants(conn: Any, ctx: Context, event: Event, kind: str) -> int:
    """Mail every registered local user that ``event`` changed (``changed``) or was
    cancelled (``cancelled``); returns how many."""
    recipients = await event_store.local_recipients(conn, event.id)
    for person in recipients:
        lang = mail_language(person)
        await enqueue_mail(conn, ctx, to=person.email, template=f"event_{kind}", lang=lang,
                           values=_values(ctx, event, person.name, lang))
    if recipients:
        await notification_events.enqueue_event(
            conn, "event_changed", {"event_id": event.id, "change": kind})
    return len(recipients)


async def send_due_reminders(ctx: Context, *, now: datetime | None = None) -> int:
    """Remind the registered local users of events starting within the next 24 hours
    (once each); returns how many mails were queued."""
    moment = now or datetime.now(UTC)
    sent = 0
    async with ctx.pool.acquire() as conn:
        due = await event_store.due_reminders(conn, start=moment,
                                              end=moment + timedelta(hours=24))
        for event_id, account_id in due:
            async with conn.transaction():
                if not await event_store.mark_reminded(conn, event_id, account_id):
                    continue  # another process did it
                event = await event_store.get(conn, event_id)
                person = next((p for p in await event_store.local_recipients(conn, event_id)
                               if p.account_id == account_id), None)
                if event is None or person is None:
                    continue
                lang = mail_language(person)
                await enqueue_mail(conn, ctx, to=person.email, template="event_reminder",
                                   lang=lang, values=_values(ctx, event, person.name, lang))
                await notification_events.enqueue_event(
                    conn, "event_reminder", {"event_id": event_id, "account_id": account_id})
                sent += 1
    return sent


async def start_event_reminders(ctx: Context, run_workers: bool
                                ) -> Callable[[], Awaitable[None]] | None:
    """Startup hook: while workers run, send the day-before reminders every 5 minutes."""
    if not run_workers:
        return None

    return run_periodically(lambda: send_due_reminders(ctx), REMINDER_INTERVAL,
                            "sending event reminders", log)
