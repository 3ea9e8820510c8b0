"""The outbound delivery queue: sign and POST each queued delivery, record the outcome,
retry with backoff, park the rows of hosts that stay unavailable.

:class:`DeliveryQueue` is a thin policy over the generic leased-queue runner of
:mod:`fedi.core.queue` (claiming, leases, supervision), which ``fedi.worker`` runs next to
the inbound queues. ``core/outbox.py`` writes the rows it sends.

Successful sends are recorded in batches (:class:`fedi.core.queue.OutcomeBuffer`: one
statement marks many rows delivered, one more records their hosts' success), within
tens of milliseconds and before the worker signs off; their leases are renewed until
then. A worker that dies in that window leaves those deliveries to be sent again, which
ActivityPub receivers take (they de-duplicate by activity id), as they take the sends
under way when a worker dies. Failures are recorded at once, one by one (their retry
times and the host's failure days are per row).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from activitypub.delivery import DeliveryResult, Scheme, deliver
from activitypub.httpsig import SigningKey
from fedi.core.actors import signing_key
from fedi.core.context import Context
from fedi.core.queue import (
    GRACE_SECONDS,
    LEASE,
    POLL_SECONDS,
    Backoff,
    OutcomeBuffer,
    persist,
)
from storage import actors as actor_store
from storage import deliveries as delivery_store
from storage import instances as instance_store
from storage.deliveries import ClaimedDelivery, DeliveryState

__all__ = [
    "GRACE_SECONDS", "LEASE", "MAX_RETRY_AFTER", "PER_HOST", "POLL_SECONDS", "RETRY_DELAYS",
    "Clock", "DeliveryQueue", "retry_delay", "utc_now",
]

log = logging.getLogger("fedi.worker")  # the name operators grep for

Clock = Callable[[], datetime]

# Seconds to wait after the n-th failed attempt (n = 1, 2, ...); about 2.9 days in all,
# like Mastodon's 2-3 days. After the last one the delivery is given up (failed).
RETRY_DELAYS: tuple[float, ...] = (60, 300, 1800, 7200, 21600, 43200, 86400, 86400)
RETRY_JITTER = 0.1  # ± this fraction, so a host's backlog does not come back in one burst
DELIVERY_BACKOFF = Backoff(RETRY_DELAYS, jitter=RETRY_JITTER)
# A Retry-After further out than this is taken as "not within our retry window".
MAX_RETRY_AFTER = 3 * 86400.0
PER_HOST = 4  # concurrent sends to one host from one worker


def utc_now() -> datetime:
    return datetime.now(UTC)


def retry_delay(
    failed_attempts: int, retry_after: float | None = None, *, rng: random.Random | None = None
) -> float | None:
    """Seconds until the next attempt after ``failed_attempts`` failures, or None to give up.

    Grows per :data:`RETRY_DELAYS` with ±10 % jitter, and is never earlier than the
    server's ``retry_after``; a Retry-After beyond :data:`MAX_RETRY_AFTER` gives up.
    """
    if retry_after is not None and retry_after > MAX_RETRY_AFTER and failed_attempts >= 1:
        return None
    return DELIVERY_BACKOFF.delay(failed_attempts, at_least=retry_after, rng=rng)


@dataclass(frozen=True)
class Delivered:
    """A successful send, waiting in the batch of outcomes."""

    id: int
    domain: str
    status: int | None
    scheme: str | None


class DeliveryQueue:
    """The outbound queue's policy: sign afresh, POST, record the outcome and the host's
    health; at most ``per_host`` sends to one host at a time."""

    table = delivery_store.TABLE

    def __init__(
        self,
        ctx: Context,
        *,
        clock: Clock = utc_now,
        per_host: int = PER_HOST,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.ctx = ctx
        self.clock = clock
        self.per_host = per_host
        self.lease = lease
        self.rng = rng or random.Random()
        self.timeout = timeout
        self._host_jobs: Counter[str] = Counter()  # claimed here and not finished
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._keys: dict[int, tuple[float, SigningKey | None]] = {}
        self.outcomes: OutcomeBuffer[Delivered] = OutcomeBuffer(
            ctx.pool, self._write_delivered, name="delivery outcomes")

    async def claim(self, conn: object, worker: uuid.UUID, limit: int
                    ) -> Sequence[ClaimedDelivery]:
        busy = [domain for domain, n in self._host_jobs.items() if n >= self.per_host]
        jobs = await delivery_store.claim(
            conn, worker=worker, now=self.clock(), limit=limit, per_domain=self.per_host,
            lease=self.lease, skip_domains=busy,
        )
        for job in jobs:
            self._host_jobs[job.domain] += 1
        return jobs

    async def process(self, job: ClaimedDelivery, stopping: asyncio.Event) -> bool:
        try:
            async with self._host_slot(job.domain):
                if stopping.is_set():
                    return False
                result = await self._send(job)
                if result.outcome == "delivered":
                    # Written with others within milliseconds (retried while the
                    # database restarts: it must not be sent twice for that).
                    self.outcomes.add(job.id, Delivered(job.id, job.domain, result.status,
                                                        result.scheme_used))
                    log.debug("delivered %s to %s", job.activity_ap_id, job.inbox_url)
                    return True
                # Sent: a database that is restarting must not make it sent twice.
                await persist(lambda: self._record(job, result))
                return True
        finally:
            self._host_jobs[job.domain] -= 1
            if self._host_jobs[job.domain] <= 0:
                # Nobody holds or waits for the host's semaphore: every user is counted.
                del self._host_jobs[job.domain]
                self._host_slots.pop(job.domain, None)

    @contextlib.asynccontextmanager
    async def _host_slot(self, domain: str) -> AsyncIterator[None]:
        slot = self._host_slots.get(domain)
        if slot is None:
            slot = self._host_slots[domain] = asyncio.Semaphore(self.per_host)
        async with slot:
            yield

    async def _send(self, job: ClaimedDelivery) -> DeliveryResult:
        key = await self._signing_key(job.actor_id)
        if key is None:
            return DeliveryResult("failed", None, "the sending actor has no signing key", None)
        preferred: Scheme = "rfc9421" if job.signature_scheme == "rfc9421" else "cavage"
        return await deliver(
            self.ctx.delivery_client, job.inbox_url, job.body.encode(), key=key,
            preferred_scheme=preferred,
            allow_private=self.ctx.settings.allow_private_addresses,
            timeout=self.timeout,
        )

    async def _signing_key(self, actor_id: int) -> SigningKey | None:
        # A fan-out signs hundreds of requests as one actor: read its key once a while.
        cached = self._keys.get(actor_id)
        if cached is not None and time.monotonic() - cached[0] < 300:
            return cached[1]
        async with self.ctx.pool.acquire() as conn:
            actor = await actor_store.get(conn, actor_id)
            key: SigningKey | None = None
            if actor is not None:
                try:
                    key = await signing_key(conn, actor)
                except LookupError:
                    key = None
        if len(self._keys) > 1000:
            self._keys.clear()
        self._keys[actor_id] = (time.monotonic(), key)
        return key

    async def _write_delivered(self, conn: Any, batch: list[Delivered]) -> None:
        async with conn.transaction():
            await delivery_store.mark_delivered_many(conn, [(d.id, d.status) for d in batch])
            await instance_store.record_successes(
                conn, [(d.domain, d.scheme) for d in batch], now=self.clock())

    async def _record(self, job: ClaimedDelivery, result: DeliveryResult) -> None:
        now = self.clock()
        attempt = job.attempts + 1
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            if result.outcome == "delivered":
                await delivery_store.mark_delivered(conn, job.id, status=result.status)
                await instance_store.record_success(
                    conn, job.domain, now=now, scheme=result.scheme_used
                )
                log.debug("delivered %s to %s", job.activity_ap_id, job.inbox_url)
                return
            if result.outcome in ("gone", "failed"):
                # An answer that refuses says the host is up: it adds no failure day.
                await delivery_store.mark_final(
                    conn, job.id, state=result.outcome, status=result.status,
                    error=result.reason,
                )
                log.info("delivery of %s to %s %s: %s", job.activity_ap_id, job.inbox_url,
                         result.outcome, result.reason)
                return
            delay = retry_delay(attempt, result.retry_after, rng=self.rng)
            if delay is None:
                await delivery_store.mark_final(
                    conn, job.id, state=DeliveryState.FAILED, status=result.status,
                    error=f"gave up after {attempt} attempts: {result.reason}",
                )
            else:
                await delivery_store.reschedule(
                    conn, job.id, at=now + timedelta(seconds=delay), status=result.status,
                    error=result.reason,
                )
            if await instance_store.record_failure(conn, job.domain, now=now):
                parked = await delivery_store.park_domain(conn, job.domain)
                log.warning("%s failed on %d distinct days: marked unavailable, %d deliveries"
                            " parked until it answers or is reset", job.domain,
                            instance_store.UNAVAILABLE_AFTER_DAYS, parked)
        log.info("delivery of %s to %s, attempt %d: %s", job.activity_ap_id, job.inbox_url,
                 attempt, result.reason)
