"""Sending queued mail: the :class:`MailQueue` policy on the generic leased queue
(:mod:`fedi.core.queue`), and the two ways out: SMTP (``FEDI_SMTP_URL``) with
``aiosmtplib``, or, with no mail server configured, ``.eml`` files in
``FEDI_DATA_DIR/mail/`` with the subject and first link logged (development).

Guarantee: at least once, like deliveries. A mail is marked sent right after the server
took it (retried while the database is away, :func:`fedi.core.queue.persist`); only a
worker that dies between the two sends it again. The server being away, refusing for now
(4xx) or timing out: tried again after 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, 24 h,
then ``failed``. A permanent refusal (5xx) fails at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from fedi.core.config import Settings, SmtpTarget
from fedi.core.context import Context
from fedi.core.mail import first_link
from fedi.core.queue import LEASE, Backoff, persist
from storage import mail as mail_store
from storage.mail import OutgoingMail

__all__ = ["BACKOFF", "MailQueue", "PermanentMailError", "send_message", "write_eml"]

log = logging.getLogger("fedi.core.mail")

BACKOFF = Backoff((60, 300, 1800, 7200, 21600, 43200, 86400, 86400), jitter=0.1)
SMTP_TIMEOUT = 30.0  # seconds for each step of talking to the mail server


class PermanentMailError(Exception):
    """The mail server refused the mail for good (a 5xx answer)."""


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


def write_eml(settings: Settings, mail_id: int, message: bytes) -> Path:
    """Write the mail as ``<id>.eml`` (the same name again after a crash: one file per
    mail); written to a temporary name first, so no half-written file is ever seen."""
    folder = mail_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mail_id:08d}.eml"
    partial = folder / f".{mail_id:08d}.eml.part"
    partial.write_bytes(message)
    os.replace(partial, path)
    return path


def _text_of(parsed: EmailMessage) -> str:
    body = parsed.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


async def send_message(target: SmtpTarget, sender: str, recipient: str,
                       message: bytes) -> None:
    """Hand one message to the mail server; PermanentMailError for a 5xx refusal,
    other exceptions for what may work later."""
    try:
        await aiosmtplib.send(
            message, sender=sender, recipients=[recipient], hostname=target.host,
            port=target.port, username=target.username, password=target.password,
            use_tls=target.tls == "tls", start_tls=target.tls == "starttls",
            timeout=SMTP_TIMEOUT)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        if all(r.code >= 500 for r in exc.recipients):
            raise PermanentMailError(str(exc)) from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code >= 500 and not isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            raise PermanentMailError(f"{exc.code} {exc.message}") from exc
        raise


class MailQueue:
    """The policy of the :class:`fedi.core.queue.LeasedQueue` over ``mail_outbox``."""

    table = mail_store.TABLE

    def __init__(self, ctx: Context, *, clock: Callable[[], datetime] | None = None,
                 lease: timedelta = LEASE) -> None:
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease

    async def claim(self, conn: object, worker: uuid.UUID, limit: int
                    ) -> Sequence[OutgoingMail]:
        return await mail_store.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                      lease=self.lease)

    async def process(self, job: OutgoingMail, stopping: asyncio.Event) -> bool:
        if stopping.is_set():
            return False
        if job.message is None:  # cannot happen for a queued row; never send nothing
            await self._record(mail_store.mark_failed, job.id, error="no message")
            return True
        settings = self.ctx.settings
        try:
            if settings.smtp is None:
                self._write_file(job)
            else:
                sender = settings.mail_from or f"noreply@{settings.host.partition(':')[0]}"
                await send_message(settings.smtp, sender, job.recipient, job.message)
        except PermanentMailError as exc:
            log.warning("mail %d refused by the mail server: %s", job.id, exc)
            await self._record(mail_store.mark_failed, job.id, error=str(exc)[:2000])
        except Exception as exc:  # the server away, a timeout, a 4xx: later
            await self._retry(job, f"{type(exc).__name__}: {exc}")
        else:
            await self._record(mail_store.mark_sent, job.id)
        return True

    def _write_file(self, job: OutgoingMail) -> None:
        assert job.message is not None
        path = write_eml(self.ctx.settings, job.id, job.message)
        parsed = message_from_bytes(job.message, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        log.info("mail to be read in %s (no FEDI_SMTP_URL): %r, link %s", path,
                 job.subject, first_link(_text_of(parsed)))

    async def _record(self, write: Callable[..., object], mail_id: int,
                      **kwargs: str) -> None:
        async def step() -> None:
            async with self.ctx.pool.acquire() as conn:
                await write(conn, mail_id, **kwargs)  # type: ignore[misc]
        await persist(step)

    async def _retry(self, job: OutgoingMail, error: str) -> None:
        attempt = job.attempts + 1
        delay = BACKOFF.delay(attempt)
        if delay is None:
            log.warning("mail %d failed after %d attempts: %s", job.id, attempt, error)
            await self._record(mail_store.mark_failed, job.id, error=error[:2000])
            return
        log.info("mail %d not sent (%s); trying again in %.0f s", job.id, error, delay)
        at = self.clock() + timedelta(seconds=delay)
        async with self.ctx.pool.acquire() as conn:
            await mail_store.reschedule(conn, job.id, at=at, error=error[:2000])
