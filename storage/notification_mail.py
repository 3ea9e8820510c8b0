"""SQL of notification e-mail (migration 0012): each account's mail settings, the
notices waiting for a mail, the digests sent, and the ``notification_mail_jobs`` queue.

The queue holds two kinds of job: ``immediate`` (at most one queued per account; the hook
that stores notices upserts it, so notices of the same minute share one mail) and
``digests`` (one row, the digest scheduler, which re-schedules itself). ``wanted`` counts
the hook's calls: a job removes itself only when nobody asked again while it ran
(the statement re-reads the row, so a concurrent upsert is never lost).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage import queue
from storage.queue import FINISHED
from storage.rows import maybe_row, to_row

TABLE = queue.NOTIFICATION_MAIL
CHANNEL = TABLE.channel


class NotificationMailState(StrEnum):
    """The CHECK on ``notification_mail_jobs.state`` (tests/core/test_queue.py)."""

    QUEUED = "queued"
    FAILED = "failed"


@dataclass(frozen=True)
class MailJob:
    id: int
    kind: str
    account_id: int | None
    wanted: int
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    claimed_by: uuid.UUID | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class MailSettings:
    account_id: int
    modes: dict[str, str]
    timezone: str
    unsubscribe_secret: bytes = field(repr=False)


@dataclass(frozen=True)
class Recipient:
    """What a mail to an account needs; ``email`` stays out of repr() (logs)."""

    id: int
    username: str
    name: str
    email: str = field(repr=False)
    locale: str | None
    role: str
    status: str
    email_confirmed_at: datetime | None


@dataclass(frozen=True)
class PendingNotice:
    """A notice with what its sentence names: who, which thread, which group."""

    id: int
    account_id: int
    type: str
    post_id: int | None
    thread_id: int | None
    post_parent_id: int | None
    count: int
    data: Any
    created_at: datetime
    actor_name: str | None
    thread_title: str | None
    group_name: str | None
    group_title: str | None


# --- settings -------------------------------------------------------------------------

async def get_settings(conn: Any, account_id: int) -> MailSettings | None:
    return maybe_row(MailSettings, await conn.fetchrow(
        "SELECT account_id, modes, timezone, unsubscribe_secret"
        " FROM notification_mail_settings WHERE account_id = $1", account_id))


async def ensure_settings(conn: Any, account_id: int) -> MailSettings:
    """The account's row, made with the defaults (and a fresh secret) when it has none."""
    await conn.execute(
        "INSERT INTO notification_mail_settings (account_id) VALUES ($1)"
        " ON CONFLICT (account_id) DO NOTHING", account_id)
    found = await get_settings(conn, account_id)
    assert found is not None
    return found


async def save_settings(conn: Any, account_id: int, *, modes: dict[str, str],
                        timezone: str) -> None:
    await conn.execute(
        "INSERT INTO notification_mail_settings (account_id, modes, timezone)"
        " VALUES ($1, $2, $3) ON CONFLICT (account_id) DO UPDATE"
        " SET modes = EXCLUDED.modes, timezone = EXCLUDED.timezone, updated_at = now()",
        account_id, modes, timezone)


async def recipient(conn: Any, account_id: int) -> Recipient | None:
    return maybe_row(Recipient, await conn.fetchrow(
        "SELECT a.id, a.username, coalesce(nullif(ac.name, ''), a.username) AS name, a.email,"
        " a.locale, a.role, a.status, a.email_confirmed_at"
        " FROM accounts a JOIN actors ac ON ac.id = a.actor_id WHERE a.id = $1", account_id))


# --- notices ----------------------------------------------------------------------------

_NOTICE_SELECT = """
SELECT n.id, n.account_id, n.type, n.post_id, coalesce(n.thread_id, p.thread_id, p.id)
       AS thread_id, p.parent_id AS post_parent_id, n.count, n.data, n.created_at,
       coalesce(nullif(a.name, ''), a.username) AS actor_name, t.title AS thread_title,
       g.username AS group_name, coalesce(nullif(g.name, ''), g.username) AS group_title
  FROM notifications n
  LEFT JOIN actors a ON a.id = n.actor_id
  LEFT JOIN posts p ON p.id = n.post_id
  LEFT JOIN posts t ON t.id = coalesce(n.thread_id, p.thread_id, p.id)
  LEFT JOIN actors g ON g.id = n.group_id
"""
_WAITING = "n.mailed_at IS NULL AND n.digested_at IS NULL AND n.read_at IS NULL"


async def waiting_notices(conn: Any, account_id: int, *, types: list[str],
                          created_before: datetime | None = None,
                          created_after: datetime | None = None) -> list[PendingNotice]:
    """Unread notices of ``types`` not mailed yet, oldest first."""
    rows = await conn.fetch(
        _NOTICE_SELECT + f" WHERE n.account_id = $1 AND n.type = ANY ($2::text[])"
        f" AND {_WAITING}"
        " AND ($3::timestamptz IS NULL OR n.created_at < $3)"
        " AND ($4::timestamptz IS NULL OR n.created_at > $4)"
        " ORDER BY n.created_at, n.id", account_id, types, created_before, created_after)
    return [to_row(PendingNotice, r) for r in rows]


async def mark_mailed(conn: Any, ids: list[int], *, digest: bool) -> list[int]:
    """Mark notices as mailed (or digested) unless another mail took them first; the
    ids this call marked."""
    column = "digested_at" if digest else "mailed_at"
    rows = await conn.fetch(
        f"UPDATE notifications n SET {column} = now() WHERE n.id = ANY ($1::bigint[])"
        f" AND {_WAITING} RETURNING n.id", ids)
    return sorted(r["id"] for r in rows)


async def unread_types(conn: Any, ids: list[int]) -> dict[int, set[str]]:
    """The types among unread notices ``ids``, per account."""
    rows = await conn.fetch(
        "SELECT DISTINCT account_id, type FROM notifications"
        " WHERE id = ANY ($1::bigint[]) AND read_at IS NULL", ids)
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(row["account_id"], set()).add(row["type"])
    return found


async def accounts_waiting(conn: Any, *, since: datetime) -> list[int]:
    """Accounts with unread notices not mailed yet, created after ``since``."""
    rows = await conn.fetch(
        f"SELECT DISTINCT n.account_id FROM notifications n WHERE {_WAITING}"
        " AND n.created_at > $1 ORDER BY n.account_id", since)
    return [r["account_id"] for r in rows]


# --- digests ----------------------------------------------------------------------------

async def claim_digest(conn: Any, account_id: int, period: str) -> int | None:
    """Record the account's digest of ``period``; None when it exists (sent by another
    worker, or earlier). Waits for a concurrent insert of the same key to end."""
    digest_id: int | None = await conn.fetchval(
        "INSERT INTO notification_digests (account_id, period) VALUES ($1, $2)"
        " ON CONFLICT (account_id, period) DO NOTHING RETURNING id", account_id, period)
    return digest_id


async def drop_digest(conn: Any, digest_id: int) -> None:
    await conn.execute("DELETE FROM notification_digests WHERE id = $1", digest_id)


async def set_digest_items(conn: Any, digest_id: int, items: int) -> None:
    await conn.execute("UPDATE notification_digests SET items = $2 WHERE id = $1",
                       digest_id, items)


async def digests_of(conn: Any, account_id: int) -> list[tuple[str, int]]:
    """(period, items) of the account's digests, oldest first (tests)."""
    rows = await conn.fetch(
        "SELECT period, items FROM notification_digests WHERE account_id = $1 ORDER BY id",
        account_id)
    return [(r["period"], r["items"]) for r in rows]


# --- the queue ----------------------------------------------------------------------------

async def schedule_immediate(conn: Any, account_id: int, *, delay: timedelta) -> None:
    """Make sure a mail job for the account is queued (due after ``delay``); one already
    queued keeps its time (so the first notice starts the minute) and counts the call.
    The upsert locks the job row: a job running meanwhile sees the new count."""
    await conn.execute(
        "INSERT INTO notification_mail_jobs (kind, account_id, next_attempt_at)"
        " VALUES ('immediate', $1, now() + $2::interval)"
        " ON CONFLICT (account_id) WHERE state = 'queued' AND kind = 'immediate'"
        " DO UPDATE SET wanted = notification_mail_jobs.wanted + 1", account_id, delay)
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


async def ensure_digest_job(conn: Any) -> None:
    """The digest scheduler's row (one for all workers), due now when it is new."""
    await conn.execute(
        "INSERT INTO notification_mail_jobs (kind) VALUES ('digests')"
        " ON CONFLICT (kind) WHERE kind = 'digests' DO NOTHING")


async def claim(conn: Any, *, worker: uuid.UUID, now: datetime, limit: int,
                lease: timedelta) -> list[MailJob]:
    rows = await queue.claim(conn, TABLE, worker=worker, now=now, limit=limit, lease=lease)
    return [to_row(MailJob, r) for r in rows]


async def finish_immediate(conn: Any, job: MailJob, *, again_at: datetime) -> bool:
    """The job is done: removed when nobody asked again meanwhile (True); else queued
    again for ``again_at`` (False)."""
    status: str = await conn.execute(
        "DELETE FROM notification_mail_jobs WHERE id = $1 AND wanted = $2", job.id,
        job.wanted)
    if status.endswith(" 1"):
        return True
    await conn.execute(
        f"UPDATE notification_mail_jobs SET next_attempt_at = $2, attempts = 0, {FINISHED}"
        " WHERE id = $1", job.id, again_at)
    return False


async def reschedule(conn: Any, job_id: int, *, at: datetime, error: str | None,
                     count_attempt: bool) -> None:
    await conn.execute(
        "UPDATE notification_mail_jobs SET next_attempt_at = $2, last_error = $3,"
        " attempts = CASE WHEN $4 THEN attempts + 1 ELSE 0 END,"
        f" finished_at = now(), {FINISHED} WHERE id = $1", job_id, at, error, count_attempt)


async def mark_failed(conn: Any, job_id: int, *, error: str) -> None:
    await conn.execute(
        "UPDATE notification_mail_jobs SET state = 'failed', attempts = attempts + 1,"
        f" last_error = $2, finished_at = now(), {FINISHED} WHERE id = $1", job_id, error)


async def jobs(conn: Any) -> list[MailJob]:
    """Every job row (tests)."""
    rows = await conn.fetch("SELECT * FROM notification_mail_jobs ORDER BY id")
    return [to_row(MailJob, r) for r in rows]
