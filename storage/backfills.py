"""Backfill jobs: reading the recent history of a remote group once our first member is
accepted, as rows the workers claim (one per group).

A job is ``queued`` until a worker finishes it: claimed and leased with the shared
statements of storage/queue.py, then ``done``, ``queued`` again later after a failure,
or ``failed`` after the last attempt. A run is bounded: one that stops at its cap is
``queued`` again with ``resume_url`` (the remote outbox page to go on from) and the
counts so far (migration 0030), and the next run continues there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage import queue
from storage.queue import FINISHED
from storage.rows import maybe_row, to_row

CHANNEL = queue.BACKFILLS.channel  # NOTIFY channel: a job was queued
TABLE = queue.BACKFILLS


class BackfillState(StrEnum):
    """The CHECK on ``backfill_jobs.state`` (tests/test_queue.py compares them)."""

    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


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
    resume_url: str | None = None  # where the next run goes on (migration 0030)
    runs: int = 0


async def enqueue(conn: Any, group_id: int) -> bool:
    """Queue the backfill of a group; True when queued now. A queued job is not
    doubled; a finished one is queued again (a new first member after everyone left)."""
    row = await conn.fetchrow(
        """
        WITH job AS (
            INSERT INTO backfill_jobs (group_id) VALUES ($1)
            ON CONFLICT (group_id) DO UPDATE
                SET state = 'queued', attempts = 0, next_attempt_at = now(),
                    last_error = NULL, finished_at = NULL, resume_url = NULL, runs = 0,
                    threads = 0, replies = 0
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


async def claim(conn: Any, *, worker: uuid.UUID, now: datetime, limit: int,
                lease: timedelta) -> list[BackfillJob]:
    """Claim up to ``limit`` due jobs for ``worker``, leased until ``now + lease``."""
    rows = await queue.claim(conn, TABLE, worker=worker, now=now, limit=limit, lease=lease)
    return [to_row(BackfillJob, r) for r in rows]


async def mark_done(conn: Any, job_id: int, *, threads: int, replies: int,
                    note: str | None = None) -> None:
    """Finished; ``note`` says what was left out (errors, the time limit)."""
    await conn.execute(
        "UPDATE backfill_jobs SET state = 'done', attempts = attempts + 1, threads = $2,"
        " replies = $3, last_error = $4, finished_at = now(), resume_url = NULL,"
        f" runs = runs + 1, {FINISHED} WHERE id = $1",
        job_id, threads, replies, note)


async def pause(conn: Any, job_id: int, *, at: datetime, resume_url: str, threads: int,
                replies: int, note: str | None = None) -> None:
    """A run stopped at its cap: queued again for ``at``, to go on from ``resume_url``
    (not a failure: ``attempts`` starts afresh)."""
    await conn.execute(
        "UPDATE backfill_jobs SET attempts = 0, runs = runs + 1, next_attempt_at = $2,"
        " resume_url = $3, threads = $4, replies = $5, last_error = $6,"
        f" {FINISHED} WHERE id = $1", job_id, at, resume_url, threads, replies, note)


async def reschedule(conn: Any, job_id: int, *, at: datetime, error: str) -> None:
    await conn.execute(
        "UPDATE backfill_jobs SET attempts = attempts + 1, next_attempt_at = $2,"
        f" last_error = $3, {FINISHED} WHERE id = $1", job_id, at, error)


async def mark_failed(conn: Any, job_id: int, *, error: str) -> None:
    await conn.execute(
        "UPDATE backfill_jobs SET state = 'failed', attempts = attempts + 1,"
        f" last_error = $2, finished_at = now(), {FINISHED} WHERE id = $1", job_id, error)
