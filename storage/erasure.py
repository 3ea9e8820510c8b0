"""SQL of account deletion (DSGVO Art. 17): who knows the actor, wiping the account's
personal data, and the queue of erasures whose private keys are dropped once the Delete
activities signed with them have been delivered.

The actor row stays as a tombstone (``deleted_at`` set, no name, no profile): the
actor's id answers 410, kept posts keep an author, and ``actors_handle`` keeps the
username from being taken again.
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

TABLE = queue.ERASURES

# Columns of a table that hold an address to compare with the erased account's.
_ADDRESS_COLUMNS = ("email", "recipient")


class ErasureState(StrEnum):
    """The CHECK on ``account_erasures.state``."""

    QUEUED = "queued"
    DONE = "done"


@dataclass(frozen=True)
class ErasureJob:
    id: int
    actor_id: int
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    claimed_by: uuid.UUID | None
    created_at: datetime
    finished_at: datetime | None


async def known_inboxes(conn: Any, actor_id: int) -> list[str]:
    """Every remote inbox that knows the actor: its followers' (shared) inboxes, the
    inboxes its activities were delivered to, and the shared inbox of every actor whose
    activities we received naming it."""
    rows = await conn.fetch(
        """
        SELECT coalesce(a.shared_inbox, a.inbox) AS inbox
          FROM follows f JOIN actors a ON a.id = f.follower_id
         WHERE f.target_id = $1 AND NOT a.local
        UNION
        SELECT d.inbox_url FROM deliveries d JOIN activities act ON act.id = d.activity_id
         WHERE act.actor_id = $1
        UNION
        SELECT coalesce(a.shared_inbox, a.inbox)
          FROM inbox_activities i JOIN actors a ON a.ap_id = i.actor_ap_id
         WHERE NOT a.local AND strpos(i.payload::text, (SELECT ap_id FROM actors
                                                        WHERE id = $1)) > 0
        """,
        actor_id,
    )
    return [r["inbox"] for r in rows if r["inbox"]]


async def live_post_ids(conn: Any, author_id: int) -> list[int]:
    """The author's posts that are not deleted yet (removed ones included)."""
    rows = await conn.fetch(
        "SELECT id FROM posts WHERE author_id = $1 AND deleted_at IS NULL ORDER BY id",
        author_id)
    return [r["id"] for r in rows]


async def tables_with_column(conn: Any, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, column) of every base table's text column named one of ``names``: tables
    added by later migrations are covered without a change here."""
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
        " WHERE c.table_schema = current_schema() AND c.column_name = ANY ($1::text[])"
        "  AND c.data_type = 'text' ORDER BY 1, 2",
        list(names))
    return [(r["table_name"], r["column_name"]) for r in rows]


async def wipe_account(conn: Any, *, account_id: int, actor_id: int, email: str) -> None:
    """Delete the account's personal data; the actor row becomes a nameless tombstone.

    The account row goes, and with it (ON DELETE CASCADE) its tokens, sessions, profile
    and whatever else later tables hang on ``account_id``. Rows elsewhere that carry the
    address (mail queued or sent to it) go too. The actor's follows and likes go (counts
    corrected); reports it made stay for the moderators, without the reporter.
    """
    for table, column in await tables_with_column(conn, _ADDRESS_COLUMNS):
        if table != "accounts":
            await conn.execute(
                f'DELETE FROM "{table}" WHERE lower("{column}") = lower($1)', email)
    await conn.execute("DELETE FROM accounts WHERE id = $1", account_id)
    # A deleted thread's tombstone keeps its title when an author deletes it; an erased
    # person's titles go too (kept posts are not deleted and keep theirs).
    await conn.execute(
        "UPDATE posts SET title = '' WHERE author_id = $1 AND deleted_at IS NOT NULL"
        " AND parent_id IS NULL AND title IS NOT NULL", actor_id)
    await conn.execute(
        "UPDATE posts p SET like_count = greatest(p.like_count - 1, 0) FROM likes l"
        " WHERE l.post_id = p.id AND l.actor_id = $1 AND l.kind = 'like'", actor_id)
    await conn.execute(
        "UPDATE posts p SET dislike_count = greatest(p.dislike_count - 1, 0) FROM likes l"
        " WHERE l.post_id = p.id AND l.actor_id = $1 AND l.kind = 'dislike'", actor_id)
    await conn.execute("DELETE FROM likes WHERE actor_id = $1", actor_id)
    await conn.execute("DELETE FROM follows WHERE follower_id = $1 OR target_id = $1",
                       actor_id)
    await conn.execute("UPDATE reports SET reporter_id = NULL WHERE reporter_id = $1",
                       actor_id)
    await conn.execute("DELETE FROM group_moderators WHERE actor_id = $1", actor_id)
    # Event registrations carry a message to the organisers (migration 0016); the
    # counts of the events are recounted.
    await conn.execute(
        "WITH gone AS (DELETE FROM event_participants WHERE actor_id = $1 RETURNING event_id)"
        " UPDATE events e SET participant_count = (SELECT count(*) FROM event_participants p"
        " WHERE p.event_id = e.id AND p.state = 'accepted' AND p.actor_id <> $1)"
        " WHERE e.id IN (SELECT event_id FROM gone)", actor_id)
    # Sent activities carry the profile (Update of the Person), likes and follows; the
    # Deletes being sent now are kept until delivered (drop_spent_activities).
    await conn.execute(
        "DELETE FROM activities WHERE actor_id = $1 AND type <> 'Delete'", actor_id)
    # The groups' relays (Announces) of the deleted posts embed their text; the relays of
    # the Deletes stay until delivered.
    await conn.execute(
        "DELETE FROM activities WHERE post_id IN (SELECT id FROM posts WHERE author_id = $1"
        " AND deleted_at IS NOT NULL) AND type <> 'Delete'"
        " AND coalesce(payload->'object'->>'type', '') <> 'Delete'", actor_id)
    await conn.execute(
        "UPDATE actors SET name = NULL, summary = NULL, icon_url = NULL, raw = NULL,"
        " url = NULL, manually_approves_followers = false, moved_to = NULL,"
        " official_position = NULL,"
        " deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = $1",
        actor_id)


async def enqueue(conn: Any, actor_id: int) -> None:
    await conn.execute(
        "INSERT INTO account_erasures (actor_id) VALUES ($1) ON CONFLICT (actor_id) DO"
        " UPDATE SET state = 'queued', next_attempt_at = now(), finished_at = NULL",
        actor_id)


async def claim(conn: Any, *, worker: uuid.UUID, now: datetime, limit: int,
                lease: timedelta) -> list[ErasureJob]:
    rows = await queue.claim(conn, TABLE, worker=worker, now=now, limit=limit, lease=lease)
    return [to_row(ErasureJob, r) for r in rows]


async def deliveries_pending(conn: Any, actor_id: int) -> int:
    """Deliveries of the actor's activities still queued (to be signed with its key)."""
    value = await conn.fetchval(
        "SELECT count(*) FROM deliveries d JOIN activities a ON a.id = d.activity_id"
        " WHERE a.actor_id = $1 AND d.state = 'queued'", actor_id)
    return int(value)


async def drop_keys(conn: Any, actor_id: int) -> None:
    """The private keys go; the public key stays on the tombstone row (it verified what
    the actor signed)."""
    await conn.execute("DELETE FROM actor_keys WHERE actor_id = $1", actor_id)


async def mark_done(conn: Any, job_id: int) -> None:
    await conn.execute(
        "UPDATE account_erasures SET state = 'done', attempts = attempts + 1,"
        f" last_error = NULL, finished_at = now(), {FINISHED} WHERE id = $1", job_id)


async def reschedule(conn: Any, job_id: int, *, at: datetime, note: str) -> None:
    await conn.execute(
        "UPDATE account_erasures SET attempts = attempts + 1, next_attempt_at = $2,"
        f" last_error = $3, {FINISHED} WHERE id = $1", job_id, at, note)


async def by_actor(conn: Any, actor_id: int) -> ErasureJob | None:
    row = await conn.fetchrow("SELECT * FROM account_erasures WHERE actor_id = $1", actor_id)
    return to_row(ErasureJob, row) if row is not None else None
