"""The queue of notification mail jobs (``notification_mail_jobs``) on the generic leased
queue (:mod:`fedi.core.queue`):

- ``immediate`` jobs, one per account while queued: one mail listing every notice not
  mailed yet (:func:`fedi.forum.notification_mail.send_immediate`), the notices marked
  and the mail queued in one transaction; a job asked for again while it ran (a notice
  arrived meanwhile) runs once more after the grouping delay. Failures are retried
  after 1, 5 and 30 minutes and 2 hours, then the job is ``failed``.
- the ``digests`` job, a single row made by the first long-running worker: the digest
  pass (:mod:`fedi.forum.digests`), then due again in :data:`DIGEST_EVERY`. Leased like
  every job, so one worker runs it at a time; the digests' UNIQUE key keeps even
  overlapping passes from sending twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from fedi.core.context import Context
from fedi.core.queue import LEASE, Backoff
from fedi.forum.digests import send_digests
from fedi.forum.notification_mail import send_immediate
from storage import notification_mail as store
from storage.notification_mail import MailJob

__all__ = ["BACKOFF", "DIGEST_EVERY", "NotificationMailQueue"]

log = logging.getLogger("fedi.forum.notification_mail")

BACKOFF = Backoff((60, 300, 1800, 7200), jitter=0.1)
DIGEST_EVERY = timedelta(minutes=5)
DIGEST_RETRY = timedelta(minutes=1)


class NotificationMailQueue:
    """The policy of the :class:`fedi.core.queue.LeasedQueue` over
    ``notification_mail_jobs``."""

    table = store.TABLE

    def __init__(self, ctx: Context, *, clock: Callable[[], datetime] | None = None,
                 lease: timedelta = LEASE, schedule_digests: bool = False) -> None:
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease
        # Long-running workers make the scheduler's row on their first claim; a
        # ``run_once`` (tests, scripts) processes only what is queued.
        self.schedule_digests = schedule_digests
        self._scheduled = False

    async def claim(self, conn: object, worker: uuid.UUID, limit: int) -> Sequence[MailJob]:
        if self.schedule_digests and not self._scheduled:
            await store.ensure_digest_job(conn)
            self._scheduled = True
        return await store.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                 lease=self.lease)

    async def process(self, job: MailJob, stopping: asyncio.Event) -> bool:
        if stopping.is_set():
            return False
        try:
            if job.kind == "digests":
                await send_digests(self.ctx, now=self.clock())
                await self._reschedule(job, DIGEST_EVERY, error=None, count=False)
            else:
                await self._immediate(job)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("notification mail job %d (%s) failed: %s", job.id, job.kind, error)
            if job.kind == "digests":
                await self._reschedule(job, DIGEST_RETRY, error=error, count=True)
                return True
            delay = BACKOFF.delay(job.attempts + 1)
            if delay is None:
                async with self.ctx.pool.acquire() as conn:
                    await store.mark_failed(conn, job.id, error=error)
            else:
                await self._reschedule(job, timedelta(seconds=delay), error=error,
                                       count=True)
        return True

    async def _immediate(self, job: MailJob) -> None:
        assert job.account_id is not None
        again = self.clock() + timedelta(seconds=self.ctx.settings.notify_mail_delay)
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            await send_immediate(conn, self.ctx, job.account_id)
            await store.finish_immediate(conn, job, again_at=again)

    async def _reschedule(self, job: MailJob, after: timedelta, *, error: str | None,
                          count: bool) -> None:
        async with self.ctx.pool.acquire() as conn:
            await store.reschedule(conn, job.id, at=self.clock() + after, error=error,
                                   count_attempt=count)
