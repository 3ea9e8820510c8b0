"""Backfill jobs: reading the recent history of a remote group once our first member is
accepted, as rows the workers claim (one per group).

A job is ``queued`` until a worker finishes it: claimed with ``FOR UPDATE SKIP LOCKED``
and a lease (``next_attempt_at`` pushed forward, as storage/inbox.py does), then
``done``, ``queued`` again later after a failure, or ``failed`` after the last attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.leases import claim_statement
from storage.rows import maybe_row, to_row

CHANNEL = "backfill"  # NOTIFY channel: a job was queued


@dataclass(frozen=True)
class BackfillJob:
    id: int
    group_id: int
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    threads: int
    replies: int
    created_at: datetime
    finished_at: datetime | None


async def enqueue(conn: Any, group_id: int) -> bool:
    """Queue the backfill of a group; True when queued now. A queued job is not
    doubled; a finished one is queued again (a new first member after everyone left)."""
    row = await conn.fetchrow(
        """
        WITH job AS (
            INSERT INTO backfill_jobs (group_id) VALUES ($1)
            ON CONFLICT (group_id) DO UPDATE
                SET state = 'queued', attempts = 0, next_attempt_at = now(),
                    last_error = NULL, finished_at = NULL
                WHERE backfill_jobs.state <> 'queued'
            RETURNING id
        )
        SELECT EXISTS (SELECT 1 FROM job) AS queued,
               CASE WHEN EXISTS (SELECT 1 FROM job) THEN pg_notify($2, '')::text END AS woke
        """,
        group_id, CHANNEL,
    )
    return bool(row["queued"])


async def by_group(conn: Any, group_id: int) -> BackfillJob | None:
    return maybe_row(BackfillJob, await conn.fetchrow(
        "SELECT * FROM backfill_jobs WHERE group_id = $1", group_id))


_CLAIM = claim_statement("backfill_jobs")


async def claim(conn: Any, *, now: datetime, limit: int,
                lease: timedelta) -> list[BackfillJob]:
    """Claim up to ``limit`` due jobs, leased until ``now + lease``."""
    if limit <= 0:
        return []
    return [to_row(BackfillJob, r) for r in await conn.fetch(_CLAIM, now, limit, lease)]


async def mark_done(conn: Any, job_id: int, *, threads: int, replies: int,
                    note: str | None = None) -> None:
    """Finished; ``note`` says what was left out (errors, the time limit)."""
    await conn.execute(
        "UPDATE backfill_jobs SET state = 'done', attempts = attempts + 1, threads = $2,"
        " replies = $3, last_error = $4, finished_at = now() WHERE id = $1",
        job_id, threads, replies, note)


async def reschedule(conn: Any, job_id: int, *, at: datetime, error: str) -> None:
    await conn.execute(
        "UPDATE backfill_jobs SET attempts = attempts + 1, next_attempt_at = $2,"
        " last_error = $3 WHERE id = $1", job_id, at, error)


async def mark_failed(conn: Any, job_id: int, *, error: str) -> None:
    await conn.execute(
        "UPDATE backfill_jobs SET state = 'failed', attempts = attempts + 1,"
        " last_error = $2, finished_at = now() WHERE id = $1", job_id, error)


async def release(conn: Any, job_ids: Sequence[int], *, now: datetime) -> None:
    """Claimed but unfinished jobs are due again at once (attempts unchanged)."""
    if job_ids:
        await conn.execute(
            "UPDATE backfill_jobs SET next_attempt_at = $2"
            " WHERE id = ANY ($1::bigint[]) AND state = 'queued'", list(job_ids), now)
