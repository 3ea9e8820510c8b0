"""The mail outbox: outgoing e-mails as rows the workers claim (fedi/core/mail_send.py).

A mail is ``queued`` until a worker has handed it to the mail server (``sent``, its body
dropped) or gave up after the last retry (``failed``). Claimed and leased with the shared
statements of storage/queue.py.
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

TABLE = queue.MAIL
CHANNEL = TABLE.channel  # NOTIFY channel: a mail was queued


class MailState(StrEnum):
    """The CHECK on ``mail_outbox.state`` (tests/core/test_queue.py compares them)."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    # Personal data: kept out of repr() so it never lands in logs by accident.
    recipient: str = field(repr=False)
    subject: str
    message: bytes | None = field(repr=False)
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


async def enqueue(conn: Any, *, recipient: str, subject: str, message: bytes) -> int:
    """Queue a mail (in the caller's transaction; the NOTIFY is delivered at commit)."""
    row = await conn.fetchrow(
        "WITH ins AS (INSERT INTO mail_outbox (recipient, subject, message)"
        " VALUES ($1, $2, $3) RETURNING id)"
        " SELECT ins.id, pg_notify($4, '')::text AS woke FROM ins",  # one round trip
        recipient, subject, message, CHANNEL)
    return int(row["id"])


async def get(conn: Any, mail_id: int) -> OutgoingMail | None:
    return maybe_row(OutgoingMail, await conn.fetchrow(
        "SELECT * FROM mail_outbox WHERE id = $1", mail_id))


async def for_recipient(conn: Any, recipient: str) -> list[OutgoingMail]:
    """Every mail to an address, oldest first (tests, the data export)."""
    rows = await conn.fetch(
        "SELECT * FROM mail_outbox WHERE lower(recipient) = lower($1) ORDER BY id", recipient)
    return [to_row(OutgoingMail, r) for r in rows]


async def forget_recipient(conn: Any, recipient: str) -> int:
    """Delete every mail to an address (account deletion); how many."""
    status: str = await conn.execute(
        "DELETE FROM mail_outbox WHERE lower(recipient) = lower($1)", recipient)
    return int(status.rsplit(" ", 1)[-1])


async def claim(conn: Any, *, worker: uuid.UUID, now: datetime, limit: int,
                lease: timedelta) -> list[OutgoingMail]:
    """Claim up to ``limit`` due mails for ``worker``, leased until ``now + lease``."""
    rows = await queue.claim(conn, TABLE, worker=worker, now=now, limit=limit, lease=lease)
    return [to_row(OutgoingMail, r) for r in rows]


async def mark_sent(conn: Any, mail_id: int) -> None:
    """Handed to the mail server: the body is no longer needed (nor kept)."""
    await conn.execute(
        "UPDATE mail_outbox SET state = 'sent', attempts = attempts + 1, message = NULL,"
        f" last_error = NULL, sent_at = now(), {FINISHED} WHERE id = $1", mail_id)


async def reschedule(conn: Any, mail_id: int, *, at: datetime, error: str) -> None:
    await conn.execute(
        "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2,"
        f" last_error = $3, {FINISHED} WHERE id = $1", mail_id, at, error)


async def mark_failed(conn: Any, mail_id: int, *, error: str) -> None:
    await conn.execute(
        "UPDATE mail_outbox SET state = 'failed', attempts = attempts + 1,"
        f" last_error = $2, {FINISHED} WHERE id = $1", mail_id, error)
