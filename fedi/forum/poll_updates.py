"""Coalesced poll updates: the followers of a local poll learn its counts from one
``Update(Question)`` per minute at most, and learn that it ended from one more.

A counted vote (fedi/forum/poll_votes.py) only marks the poll (``update_due_at``, at most
:data:`UPDATE_DELAY` ahead); :func:`send_due_updates`, run every :data:`CHECK_INTERVAL`
seconds by the startup hook in ``fedi serve`` and ``fedi worker``, sends the Update of
each marked poll with the counts of that moment, and the Update of each local poll that
has ended (its document then carries ``closed``). Mastodon delays and merges its poll
updates the same way; sending one per vote made a popular poll in a group with many
followers cost votes × followers deliveries. The page and the API show the counts at
once; a server that fetches the Question gets them at once too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from fedi.core.context import Context
from fedi.core.runtime import run_periodically
from fedi.forum import posts as post_service
from storage import polls as poll_store
from storage import posts as post_store

__all__ = ["CHECK_INTERVAL", "UPDATE_DELAY", "schedule", "send_due_updates",
           "start_poll_updates"]

log = logging.getLogger("fedi.polls")

UPDATE_DELAY = timedelta(seconds=60)
CHECK_INTERVAL = 15.0
BATCH = 50


async def schedule(conn: Any, thread_id: int, now: datetime | None = None) -> None:
    """After a counted vote on a local poll (in the vote's transaction)."""
    await poll_store.schedule_update(conn, thread_id, (now or datetime.now(UTC)) + UPDATE_DELAY)


async def send_due_updates(ctx: Context, *, now: datetime | None = None) -> int:
    """Send the Updates due at ``now``; returns how many went out. Several processes may
    run this at once (the polls are taken with SKIP LOCKED)."""
    moment = now or datetime.now(UTC)
    sent = 0
    while True:
        async with ctx.pool.acquire() as conn, conn.transaction():
            due = await poll_store.due_updates(conn, moment, BATCH)
            for post_id, ended in due:
                thread = await post_store.get(conn, post_id)
                # A remote poll's ending is its origin's to tell; a hidden or deleted
                # thread has nothing to tell.
                if thread is not None and thread.local and thread.visible:
                    try:
                        async with conn.transaction():  # a savepoint: one poll's failure
                            await post_service.send_thread_update(conn, ctx, thread)
                        sent += 1
                    except (asyncpg.PostgresConnectionError, OSError):
                        raise  # the database is gone: the batch is tried again later
                    except Exception:
                        # Not sent now, and not tried again and again: the next vote
                        # marks it anew; a server fetching the poll sees the counts.
                        log.exception("the Update of poll %d could not be sent", post_id)
                await poll_store.update_sent(conn, post_id, ended=ended)
        if len(due) < BATCH:
            return sent


async def start_poll_updates(ctx: Context, run_workers: bool
                             ) -> Callable[[], Awaitable[None]] | None:
    """Startup hook: while workers run, send the due poll updates every few seconds."""
    if not run_workers:
        return None
    return run_periodically(lambda: send_due_updates(ctx), CHECK_INTERVAL,
                            "sending poll updates", log)
