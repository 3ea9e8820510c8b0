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

from typing import Any

from storage import queue

TABLE = queue.NOTIFICATION_EVENTS
CHANNEL = TABLE.channel

__all__ = ["CHANNEL", "TABLE", "enqueue_event"]


async def enqueue_event(conn: Any, kind: str, payload: dict[str, Any]) -> int:
    """Queue one event in the caller's transaction; returns its id."""
    event_id: int = await conn.fetchval(
        "INSERT INTO notification_events (kind, payload) VALUES ($1, $2) RETURNING id",
        kind, payload)
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
    return event_id
