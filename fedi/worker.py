"""Queue workers: claim due rows, process them with bounded concurrency, record outcomes.

:class:`Worker` runs the :class:`JobQueue` objects that :func:`build_queues` returns: the
inbound queue (received activities) and the outbound :class:`DeliveryQueue`. It is
woken by ``LISTEN`` on each queue's NOTIFY channel and polls every few seconds for
retries that became due. The same worker runs inside ``fedi serve``
(:func:`start_workers`, a startup hook) and as ``fedi worker`` processes
(:func:`run_worker_process`); the queue rows are the only coordination between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg
import httpx

from activitypub.delivery import DeliveryResult, Scheme, deliver
from activitypub.httpsig import SigningKey
from fedi.actors import signing_key
from fedi.config import Settings
from fedi.context import Context
from fedi.federation.inbound.queue import InboundQueue
from fedi.forum.remote_groups import BackfillQueue
from storage import actors as actor_store
from storage import deliveries as delivery_store
from storage import instances as instance_store
from storage.db import create_pool
from storage.deliveries import ClaimedDelivery

log = logging.getLogger("fedi.worker")

Clock = Callable[[], datetime]
Stopper = Callable[[], Awaitable[None]]

# Seconds to wait after the n-th failed attempt (n = 1, 2, ...); about 2.9 days in all,
# like Mastodon's 2-3 days. After the last one the delivery is given up (failed).
RETRY_DELAYS: tuple[float, ...] = (60, 300, 1800, 7200, 21600, 43200, 86400, 86400)
RETRY_JITTER = 0.1  # ± this fraction, so a host's backlog does not come back in one burst
# A Retry-After further out than this is taken as "not within our retry window".
MAX_RETRY_AFTER = 3 * 86400.0
LEASE = timedelta(minutes=5)  # how long a claim keeps other workers off a row
PER_HOST = 4  # concurrent sends to one host from one worker
POLL_SECONDS = 5.0
GRACE_SECONDS = 10.0  # how long stop() lets in-flight sends finish
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def utc_now() -> datetime:
    return datetime.now(UTC)


def retry_delay(
    failed_attempts: int, retry_after: float | None = None, *, rng: random.Random | None = None
) -> float | None:
    """Seconds until the next attempt after ``failed_attempts`` failures, or None to give up.

    Grows per :data:`RETRY_DELAYS` with ±10 % jitter, and is never earlier than the
    server's ``retry_after``; a Retry-After beyond :data:`MAX_RETRY_AFTER` gives up.
    """
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts from 1")
    if failed_attempts > len(RETRY_DELAYS):
        return None
    if retry_after is not None and retry_after > MAX_RETRY_AFTER:
        return None
    jitter = (rng or random).uniform(-RETRY_JITTER, RETRY_JITTER)
    delay = RETRY_DELAYS[failed_attempts - 1] * (1 + jitter)
    return delay if retry_after is None else max(delay, retry_after)


class JobQueue(Protocol):
    """One durable queue the worker runs. Jobs are whatever ``claim`` returns."""

    channel: str  # NOTIFY channel that says new work is due

    async def claim(self, limit: int) -> Sequence[Any]:
        """Claim up to ``limit`` due jobs (leased, so other workers skip them)."""
        ...

    async def process(self, job: Any, stopping: asyncio.Event) -> bool:
        """Do the job and record its outcome; False when it was not started because the
        worker is stopping (the worker then releases it)."""
        ...

    async def release(self, jobs: Sequence[Any]) -> None:
        """Make claimed but unfinished jobs due again at once."""
        ...


class Worker:
    """Runs queues with at most ``concurrency`` jobs in flight overall."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        queues: Sequence[JobQueue],
        *,
        concurrency: int,
        poll_seconds: float = POLL_SECONDS,
        grace_seconds: float = GRACE_SECONDS,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.pool = pool
        self.queues = list(queues)
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self._tasks: dict[asyncio.Task[bool], tuple[JobQueue, Any]] = {}
        self._unsent: list[tuple[JobQueue, Any]] = []
        self._processed = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._listener: Any = None
        self._next_queue = 0

    # -- one step, for tests and scripts ------------------------------------------

    async def run_once(self) -> int:
        """Process everything due now (retries scheduled later are left); returns how
        many jobs were processed."""
        before = self._processed
        while True:
            claimed = await self._fill()
            if not self._tasks:
                break
            if claimed == 0 or len(self._tasks) >= self.concurrency:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        return self._processed - before

    # -- long-running ---------------------------------------------------------------

    async def start(self) -> None:
        await self._listen()
        self._loop_task = asyncio.create_task(self._loop(), name="fedi-worker")

    async def stop(self) -> None:
        """Stop claiming, let in-flight jobs finish (up to the grace period), cancel the
        rest and release every claimed job that was not finished."""
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.grace_seconds)
            for task in pending:
                self._unsent.append(self._tasks[task])
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for queue in self.queues:
            jobs = [job for owner, job in self._unsent if owner is queue]
            if jobs:
                try:
                    await queue.release(jobs)
                except _DB_ERRORS:
                    log.exception("could not release %d claimed jobs; their lease will end",
                                  len(jobs))
        self._unsent.clear()
        await self._unlisten()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            # Cleared before claiming, so a NOTIFY that arrives meanwhile is not lost.
            self._wake.clear()
            try:
                claimed = await self._fill()
            except _DB_ERRORS:
                log.exception("claiming jobs failed; trying again shortly")
                claimed = 0
            if claimed and len(self._tasks) < self.concurrency:
                continue  # there may be more due right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            if self._listener is None or self._listener.is_closed():
                await self._relisten()

    async def _fill(self) -> int:
        """Claim jobs into the free slots, queues taking turns to go first."""
        claimed = 0
        count = len(self.queues)
        for offset in range(count):
            queue = self.queues[(self._next_queue + offset) % count]
            free = self.concurrency - len(self._tasks)
            if free <= 0 or self._stopping.is_set():
                break
            jobs = await queue.claim(free)
            for job in jobs:
                task = asyncio.create_task(self._run(queue, job))
                self._tasks[task] = (queue, job)
                task.add_done_callback(self._finished)
            claimed += len(jobs)
        self._next_queue = (self._next_queue + 1) % max(count, 1)
        return claimed

    async def _run(self, queue: JobQueue, job: Any) -> bool:
        done = await queue.process(job, self._stopping)
        if not done:
            self._unsent.append((queue, job))
        return done

    def _finished(self, task: asyncio.Task[bool]) -> None:
        self._tasks.pop(task, None)
        self._wake.set()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # The job's lease runs out and another attempt follows; nothing is lost.
            log.error("job failed unexpectedly", exc_info=exc)
        elif task.result():
            self._processed += 1

    # -- LISTEN ---------------------------------------------------------------------

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        # A pool connection held for the worker's life: LISTEN needs one session.
        conn = await self.pool.acquire()
        try:
            for queue in self.queues:
                await conn.add_listener(queue.channel, self._on_notify)
        except BaseException:
            await self.pool.release(conn)
            raise
        self._listener = conn

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(*_DB_ERRORS):
            if not conn.is_closed():
                for queue in self.queues:
                    await conn.remove_listener(queue.channel, self._on_notify)
        with contextlib.suppress(*_DB_ERRORS):
            await self.pool.release(conn)

    async def _relisten(self) -> None:
        # The listening connection died (database restart): polling kept things moving
        # meanwhile; get a new one.
        await self._unlisten()
        try:
            await self._listen()
        except _DB_ERRORS:
            log.warning("cannot LISTEN yet; polling every %.0f s", self.poll_seconds)


class DeliveryQueue:
    """The outbound queue: sign afresh, POST, record the outcome and the host's health."""

    channel = delivery_store.CHANNEL

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

    async def claim(self, limit: int) -> Sequence[ClaimedDelivery]:
        busy = [domain for domain, n in self._host_jobs.items() if n >= self.per_host]
        async with self.ctx.pool.acquire() as conn:
            jobs = await delivery_store.claim(
                conn, now=self.clock(), limit=limit, per_domain=self.per_host,
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
                await self._record(job, result)
                return True
        finally:
            self._host_jobs[job.domain] -= 1
            if self._host_jobs[job.domain] <= 0:
                # Nobody holds or waits for the host's semaphore: every user is counted.
                del self._host_jobs[job.domain]
                self._host_slots.pop(job.domain, None)

    async def release(self, jobs: Sequence[ClaimedDelivery]) -> None:
        async with self.ctx.pool.acquire() as conn:
            await delivery_store.release(conn, [job.id for job in jobs], now=self.clock())

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
            self.ctx.http, job.inbox_url, job.payload, key=key,
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
                    conn, job.id, state="failed", status=result.status,
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


def build_queues(ctx: Context, *, clock: Clock = utc_now) -> list[JobQueue]:
    """Every queue a worker runs: inbound activities, outbound deliveries and the
    backfills of remote groups."""
    return [InboundQueue(ctx, clock=clock), DeliveryQueue(ctx, clock=clock),
            BackfillQueue(ctx, clock=clock)]


async def run_once(
    ctx: Context, *, clock: Clock = utc_now, concurrency: int | None = None
) -> int:
    """Process every job due now on every queue; returns how many were processed."""
    worker = Worker(ctx.pool, build_queues(ctx, clock=clock),
                    concurrency=concurrency or max(ctx.settings.workers, 4))
    return await worker.run_once()


async def start_workers(ctx: Context, run_workers: bool) -> Stopper | None:
    """Startup hook of the app: run the queues in this process unless told not to."""
    if not run_workers or ctx.settings.workers < 1:
        return None
    worker = Worker(ctx.pool, build_queues(ctx), concurrency=ctx.settings.workers)
    await worker.start()
    log.info("workers running in process (concurrency %d)", ctx.settings.workers)
    return worker.stop


async def run_worker_process(settings: Settings, dsn: str, *, concurrency: int | None) -> None:
    """``fedi worker``: run the queues until SIGTERM or SIGINT, then stop gracefully."""
    from fedi.app import user_agent  # the app module imports this one for its hook

    slots = max(1, concurrency if concurrency is not None else settings.workers or 4)
    pool = await create_pool(dsn, min_size=1, max_size=min(slots, 20) + 2)
    http = httpx.AsyncClient(
        headers={"User-Agent": user_agent(settings)},
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=max(100, slots), max_keepalive_connections=50),
        follow_redirects=False,
    )
    ctx = Context(settings=settings, pool=pool, http=http)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker = Worker(pool, build_queues(ctx), concurrency=slots)
    try:
        await worker.start()
        log.info("worker running (concurrency %d)", slots)
        await stop.wait()
        log.info("stopping: finishing in-flight jobs")
        await worker.stop()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await http.aclose()
        await pool.close()
