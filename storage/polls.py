"""Polls of threads (migration 0029): their options and end, the votes counted here, and
for remote polls the counts their origin published (fedi/forum/polls.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row

__all__ = [
    "Poll",
    "add_votes",
    "choices_of",
    "due_updates",
    "get",
    "get_for_update",
    "insert",
    "schedule_update",
    "set_remote_counts",
    "update_sent",
    "voted_in",
    "with_polls",
]


@dataclass(frozen=True)
class Poll:
    post_id: int
    options: list[str]
    multiple: bool
    ends_at: datetime | None
    remote_counts: list[int] | None
    voters_count: int | None
    updated_at: datetime
    # Computed from poll_votes: votes per option and distinct voters.
    counts: list[int]
    voters: int


_SELECT = """
SELECT p.*,
       coalesce((SELECT array_agg(coalesce(v.n, 0) ORDER BY i.i)
                 FROM generate_subscripts(p.options, 1) AS i(i)
                 LEFT JOIN (SELECT choice, count(*)::int AS n FROM poll_votes
                            WHERE post_id = p.post_id GROUP BY choice) v
                   ON v.choice = i.i - 1), '{}') AS counts,
       (SELECT count(DISTINCT actor_id)::int FROM poll_votes
        WHERE post_id = p.post_id) AS voters
FROM polls p WHERE p.post_id = $1
"""


def _poll(record: Any) -> Poll | None:
    if record is None:
        return None
    return maybe_row(Poll, {**dict(record), "options": list(record["options"]),
                            "counts": list(record["counts"]),
                            "remote_counts": (list(record["remote_counts"])
                                              if record["remote_counts"] is not None
                                              else None)})


async def insert(conn: Any, post_id: int, *, options: Sequence[str], multiple: bool,
                 ends_at: datetime | None, remote_counts: Sequence[int] | None = None,
                 voters_count: int | None = None) -> None:
    """A thread's poll; a second insert for the same thread keeps the first."""
    await conn.execute(
        "INSERT INTO polls (post_id, options, multiple, ends_at, remote_counts, voters_count)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (post_id) DO NOTHING",
        post_id, list(options), multiple, ends_at,
        list(remote_counts) if remote_counts is not None else None, voters_count)


async def with_polls(conn: Any, post_ids: Sequence[int]) -> set[int]:
    """Which of ``post_ids`` carry a poll (a thread list marks them)."""
    rows = await conn.fetch("SELECT post_id FROM polls WHERE post_id = ANY($1::bigint[])",
                            list(post_ids))
    return {int(r["post_id"]) for r in rows}


async def schedule_update(conn: Any, post_id: int, due: datetime) -> None:
    """A vote changed the counts: the Update(Question) goes out at ``due``, or at the
    time an earlier vote set already (one Update for all the votes until then)."""
    await conn.execute(
        "UPDATE polls SET update_due_at = coalesce(update_due_at, $2) WHERE post_id = $1",
        post_id, due)


async def due_updates(conn: Any, now: datetime, limit: int) -> list[tuple[int, bool]]:
    """(post_id, ended) of the polls whose Update is due at ``now``: counts changed, or
    the poll ended and that was not told yet. The rows stay locked (SKIP LOCKED: several
    processes share the work) until the caller's transaction ends."""
    rows = await conn.fetch(
        "SELECT post_id, (ends_at IS NOT NULL AND ends_at <= $1 AND NOT end_sent) AS ended"
        " FROM polls WHERE update_due_at <= $1"
        " OR (NOT end_sent AND ends_at IS NOT NULL AND ends_at <= $1)"
        " ORDER BY post_id LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit)
    return [(int(r["post_id"]), bool(r["ended"])) for r in rows]


async def update_sent(conn: Any, post_id: int, *, ended: bool) -> None:
    await conn.execute(
        "UPDATE polls SET update_due_at = NULL, end_sent = end_sent OR $2 WHERE post_id = $1",
        post_id, ended)


async def get(conn: Any, post_id: int) -> Poll | None:
    return _poll(await conn.fetchrow(_SELECT, post_id))


async def get_for_update(conn: Any, post_id: int) -> Poll | None:
    """The poll, its row locked until the end of the transaction (votes are checked and
    added under it, so one actor's concurrent votes are counted once)."""
    if await conn.fetchval("SELECT 1 FROM polls WHERE post_id = $1 FOR UPDATE", post_id) is None:
        return None
    return await get(conn, post_id)


async def set_remote_counts(conn: Any, post_id: int, *, options: Sequence[str],
                            multiple: bool, ends_at: datetime | None,
                            counts: Sequence[int], voters_count: int | None) -> None:
    """What a remote poll's origin published last (an Update of its Question)."""
    await conn.execute(
        "INSERT INTO polls (post_id, options, multiple, ends_at, remote_counts, voters_count)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (post_id) DO UPDATE SET"
        " options = EXCLUDED.options, multiple = EXCLUDED.multiple,"
        " ends_at = EXCLUDED.ends_at, remote_counts = EXCLUDED.remote_counts,"
        " voters_count = EXCLUDED.voters_count, updated_at = now()",
        post_id, list(options), multiple, ends_at, list(counts), voters_count)


async def choices_of(conn: Any, post_id: int, actor_id: int) -> list[int]:
    """The options ``actor_id`` voted for (indexes, ascending)."""
    rows = await conn.fetch(
        "SELECT choice FROM poll_votes WHERE post_id = $1 AND actor_id = $2 ORDER BY choice",
        post_id, actor_id)
    return [int(r["choice"]) for r in rows]


async def voted_in(conn: Any, actor_id: int, post_ids: Sequence[int]) -> set[int]:
    rows = await conn.fetch(
        "SELECT DISTINCT post_id FROM poll_votes WHERE actor_id = $1 AND post_id = ANY($2)",
        actor_id, list(post_ids))
    return {int(r["post_id"]) for r in rows}


async def add_votes(conn: Any, post_id: int, actor_id: int,
                    votes: Sequence[tuple[int, str | None]]) -> list[int]:
    """Count ``votes`` (choice, the vote's ActivityPub id or None) of ``actor_id``; a
    choice already counted for the actor, or a known vote id, is skipped. Returns the
    choices added."""
    added: list[int] = []
    for choice, ap_id in votes:
        row = await conn.fetchrow(
            "INSERT INTO poll_votes (post_id, actor_id, choice, ap_id) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING RETURNING choice", post_id, actor_id, choice, ap_id)
        if row is not None:
            added.append(int(row["choice"]))
    return added
