"""The queue of things that may notify somebody (``notification_events``, migration 0011).

Any service that stores something people should hear about calls :func:`enqueue_event` in
its own transaction; a worker (``fedi.forum.notify_queue``) turns the event into
notifications after the commit, so requests and the inbox never do that work.

Kinds and their payloads (ids only; the worker reads the rows):

- ``post``: ``{"post_id"}`` — a thread or reply was stored (local or remote);
- ``like``: ``{"post_id", "actor_id"}``;
- ``moderation``: ``{"action", "actor_id" (the moderator), "target_actor_id",
  "post_id" (optional), "group_id" (optional), "reason"}`` — removal, restore, lock,
  ban of someone's content or account;
- ``report``: ``{"report_id"}``;
- ``signup``: ``{"account_id"}`` — a sign-up waits for approval;
- ``accepted_answer``: ``{"thread_id", "answer_id", "actor_id"}`` (who accepted).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage import queue
from storage.queue import FINISHED
from storage.rows import to_row

TABLE = queue.NOTIFICATION_EVENTS
CHANNEL = TABLE.channel

__all__ = ["CHANNEL", "TABLE", "EventState", "NotificationEvent", "claim", "enqueue_event",
           "mark_done", "mark_failed", "reschedule"]


class EventState(StrEnum):
    """The CHECK on ``notification_events.state``."""

    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class NotificationEvent:
    id: int
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    claimed_by: uuid.UUID | None
    created_at: datetime
    finished_at: datetime | None


async def enqueue_event(conn: Any, kind: str, payload: dict[str, Any]) -> int:
    """Queue one event in the caller's transaction and wake the workers (at commit), in
    one round trip; returns its id."""
    row = await conn.fetchrow(
        "WITH ins AS (INSERT INTO notification_events (kind, payload) VALUES ($1, $2)"
        " RETURNING id) SELECT ins.id, pg_notify($3, '')::text AS woke FROM ins",
        kind, payload, CHANNEL)
    return int(row["id"])


async def claim(conn: Any, *, worker: uuid.UUID, now: datetime, limit: int,
                lease: timedelta) -> list[NotificationEvent]:
    rows = await queue.claim(conn, TABLE, worker=worker, now=now, limit=limit, lease=lease)
    return [to_row(NotificationEvent, r) for r in rows]


async def mark_done(conn: Any, event_id: int, *, note: str | None = None) -> None:
    await conn.execute(
        "UPDATE notification_events SET state = 'done', attempts = attempts + 1,"
        f" last_error = $2, finished_at = now(), {FINISHED} WHERE id = $1", event_id, note)


async def reschedule(conn: Any, event_id: int, *, at: datetime, error: str) -> None:
    await conn.execute(
        "UPDATE notification_events SET attempts = attempts + 1, next_attempt_at = $2,"
        f" last_error = $3, {FINISHED} WHERE id = $1", event_id, at, error)


async def mark_failed(conn: Any, event_id: int, *, error: str) -> None:
    await conn.execute(
        "UPDATE notification_events SET state = 'failed', attempts = attempts + 1,"
        f" last_error = $2, finished_at = now(), {FINISHED} WHERE id = $1", event_id, error)
