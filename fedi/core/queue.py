"""Leased row queues: one runner for every durable queue of the application.

A queue is a table of rows with states (storage/queue.py has the SQL it shares) and a
*policy*, a :class:`LeasedQueue`: how to claim its due rows and what processing one means
(deliveries, inbound activities, backfill jobs are the three). :class:`Worker` runs any
number of policies with at most ``concurrency`` jobs in flight and owns everything they
have in common:

- **claiming** with ``FOR UPDATE SKIP LOCKED`` and a short lease (:data:`LEASE`), in
  batches: one statement claims up to :attr:`Worker.prefetch` rows of a queue, held
  ready in memory (leased like running jobs), so a finished job's slot is refilled at
  once without a round trip, and a queue is claimed from again only when its ready jobs
  run low. After a short claim a queue gathers its NOTIFYs for :data:`GATHER_SECONDS`;
  after an empty one it is left alone until its ``NOTIFY`` channel, the poll (every few
  seconds, for retries that became due) or a reclaim says there may be more; queues
  take turns, all claims of a round on one connection;
- **outcomes in batches** (:class:`OutcomeBuffer`, for the policies that use one):
  finished jobs' outcomes are written a few milliseconds later, many in one statement;
  their leases are renewed until then, and a crash in between leaves the jobs to run
  again (handlers are idempotent, see each queue);
- **leases and liveness:** a heartbeat task (every :data:`HEARTBEAT_SECONDS`) marks the
  worker alive in ``queue_workers``, renews the leases of the jobs it is running, and
  reclaims the rows of workers whose heartbeat stopped more than :data:`DEAD_AFTER` ago
  (a killed process): their jobs run again within seconds, not when a long lease ends;
- **stopping:** in-flight jobs get a grace period, unfinished claims are released at
  once, the worker's registration is removed;
- **supervision:** the claim loop and the heartbeat survive any error (a lost database
  connection, a restart of PostgreSQL, a bug): logged, retried with backoff, the
  ``LISTEN`` connection re-established. A task that still ends (cancelled) is logged, and
  :meth:`Worker.health` reports it, as it reports a worker that made no progress for
  :data:`STALL_SECONDS`; ``/healthz`` answers 503 then.

Delivery is at least once: a job whose worker dies after doing its work but before
recording the outcome is done again (by another worker, within seconds). Receivers
deduplicate (ActivityPub activities by their id).

This module knows no feature: it imports nothing from the web, routes, federation or
forum packages.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import asyncpg

from fedi.core.runtime import database_unavailable
from storage import queue as queue_store
from storage.queue import QueueTable

log = logging.getLogger("fedi.core.queue")

T = TypeVar("T")
Clock = Callable[[], datetime]

LEASE = timedelta(seconds=30)  # a claim keeps other workers off a row this long unrenewed
HEARTBEAT_SECONDS = 3.0  # how often a worker beats and renews the leases of running jobs
DEAD_AFTER = timedelta(seconds=15)  # no heartbeat for this long: the worker is gone
POLL_SECONDS = 5.0  # look for due retries at least this often (NOTIFY wakes earlier)
GRACE_SECONDS = 10.0  # how long stop() lets in-flight jobs finish
STALL_SECONDS = 60.0  # health: no claim round or heartbeat for this long is a stall
PREFETCH_MIN = 16  # a claim takes at least this many rows of a queue when they are due
OUTCOME_BATCH = 64  # outcomes written at once at most
OUTCOME_DELAY = 0.05  # seconds an outcome waits for others before it is written
# A queue whose last claim came back short is claimed from again this long after it at
# the earliest, however many NOTIFYs arrive meanwhile: a burst of single rows becomes one
# claim, not one per row (the latency it adds is this at most).
GATHER_SECONDS = 0.05
# Seconds to wait before trying again after the n-th consecutive error of a loop.
ERROR_BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)


class LeasedQueue(Protocol):
    """The policy of one queue. Jobs are whatever ``claim`` returns; each has an ``id``
    (its row's). ``process`` records the job's outcome with the table's own statements,
    which end the claim."""

    table: QueueTable
    lease: timedelta
    clock: Clock

    async def claim(self, conn: Any, worker: uuid.UUID, limit: int) -> Sequence[Any]:
        """Claim up to ``limit`` due jobs for ``worker``, leased until now + lease."""
        ...

    async def process(self, job: Any, stopping: asyncio.Event) -> bool:
        """Do the job and record its outcome; False when it was not started because the
        worker is stopping (the worker then releases it)."""
        ...


@dataclass(frozen=True)
class Backoff:
    """When to try a failed job again: ``delays[n - 1]`` seconds after its n-th failed
    attempt, ± ``jitter`` (a fraction, so one host's backlog does not return in one
    burst), never earlier than ``at_least``; None after the last delay (give up)."""

    delays: tuple[float, ...]
    jitter: float = 0.0

    def delay(self, failed_attempts: int, *, at_least: float | None = None,
              rng: random.Random | None = None) -> float | None:
        if failed_attempts < 1:
            raise ValueError("failed_attempts counts from 1")
        if failed_attempts > len(self.delays):
            return None
        delay = self.delays[failed_attempts - 1]
        if self.jitter:
            delay *= 1 + (rng or random).uniform(-self.jitter, self.jitter)
        return delay if at_least is None else max(delay, at_least)


async def persist(write: Callable[[], Awaitable[T]], *, seconds: float = 30.0) -> T:
    """Run ``write`` (recording an outcome), trying again for up to ``seconds`` while the
    database cannot be reached: work that was done must not be done twice because the
    database restarted meanwhile (the job's lease is renewed all the while)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    failures = 0
    while True:
        try:
            return await write()
        except Exception as exc:
            if not database_unavailable(exc) or loop.time() >= deadline:
                raise
            failures += 1
            delay = ERROR_BACKOFF[min(failures, len(ERROR_BACKOFF)) - 1]
            log.warning("database unavailable while recording an outcome (%s);"
                        " trying again in %.1f s", _describe(exc), delay)
            await asyncio.sleep(delay)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


OutcomeT = TypeVar("OutcomeT")


class OutcomeBuffer(Generic[OutcomeT]):
    """The outcomes of one queue's finished jobs, written together: ``write(conn,
    outcomes)`` records a batch in one statement. A batch goes when :data:`OUTCOME_BATCH`
    have gathered or :data:`OUTCOME_DELAY` seconds after the first, on one connection,
    retried while the database cannot be reached (:func:`persist`).

    Until its outcome is written a job's row stays claimed: the worker renews its lease
    (:meth:`held`), :meth:`flush` writes everything before the worker signs off, and a
    worker that dies in between leaves the job to be done again (at least once, as a
    death between doing a job and recording it always did)."""

    def __init__(self, pool: Any, write: Callable[[Any, list[OutcomeT]], Awaitable[None]], *,
                 size: int = OUTCOME_BATCH, delay: float = OUTCOME_DELAY,
                 name: str = "outcomes") -> None:
        self.pool = pool
        self.write = write
        self.size = size
        self.delay = delay
        self.name = name
        self._pending: dict[int, OutcomeT] = {}  # job id -> its outcome
        self._writing: dict[int, OutcomeT] = {}
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def add(self, job_id: int, outcome: OutcomeT) -> None:
        self._pending[job_id] = outcome
        if len(self._pending) >= self.size:
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._soon(), name=f"{self.name}-flush")

    def held(self) -> list[int]:
        """The jobs whose outcome is not written yet (their leases must be renewed)."""
        return [*self._writing, *self._pending]

    async def _soon(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._full.wait(), timeout=self.delay)
        await self.flush()

    async def flush(self) -> None:
        """Write every pending outcome now."""
        async with self._lock:
            while self._pending:
                self._full.clear()
                batch, self._pending = self._pending, {}
                self._writing = batch
                try:
                    await persist(functools.partial(self._write, list(batch.values())))
                except Exception:
                    # The rows stay claimed; once their leases end they run again.
                    log.exception("could not record %d outcomes (%s); those jobs run again",
                                  len(batch), self.name)
                finally:
                    self._writing = {}

    async def _write(self, batch: list[OutcomeT]) -> None:
        async with self.pool.acquire() as conn:
            await self.write(conn, batch)


def outcome_buffer(queue: LeasedQueue) -> OutcomeBuffer[Any] | None:
    """The queue's buffer of outcomes, when its policy batches them."""
    found = getattr(queue, "outcomes", None)
    return found if isinstance(found, OutcomeBuffer) else None


class Worker:
    """Runs queues with at most ``concurrency`` jobs in flight overall."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        queues: Sequence[LeasedQueue],
        *,
        concurrency: int,
        poll_seconds: float = POLL_SECONDS,
        grace_seconds: float = GRACE_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        dead_after: timedelta = DEAD_AFTER,
        stall_seconds: float = STALL_SECONDS,
        name: str = "fedi-worker",
        prefetch: int | None = None,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.pool = pool
        self.queues = list(queues)
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.dead_after = dead_after
        self.stall_seconds = stall_seconds
        self.name = name
        # Rows claimed per queue at most, running and ready together: a claim fetches
        # about half of it at once, so a backlog costs one claim per prefetch/2 jobs.
        self.prefetch = max(concurrency, PREFETCH_MIN) if prefetch is None else prefetch
        self.gather_seconds = gather_seconds
        self.id = uuid.uuid4()
        self._tasks: dict[asyncio.Task[bool], tuple[LeasedQueue, Any]] = {}
        # Claimed and not started yet, per queue (index in self.queues).
        self._ready: list[deque[Any]] = [deque() for _ in self.queues]
        # Queues that may have due rows: not after a claim that came back short, again
        # after their NOTIFY, a poll or a reclaim. _notified counts each queue's NOTIFYs,
        # so one that arrives while a claim is under way is not lost.
        self._maybe: set[int] = set(range(len(self.queues)))
        self._notified: list[int] = [0] * len(self.queues)
        self._short_at: list[float] = [-gather_seconds] * len(self.queues)
        self._polled_at = time.monotonic()
        self._index = {id(queue): index for index, queue in enumerate(self.queues)}
        self._channels: dict[str, list[int]] = {}
        for index, queue in enumerate(self.queues):
            self._channels.setdefault(queue.table.channel, []).append(index)
        self._unsent: list[tuple[LeasedQueue, Any]] = []
        self._processed = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._beat_task: asyncio.Task[None] | None = None
        self._listener: Any = None
        self._listening_warned = False
        self._next_queue = 0
        self._registered = False
        self._claimed_at = time.monotonic()  # the last claim round that reached the database
        self._beat_at = time.monotonic()  # the last heartbeat that did

    # -- one step, for tests and scripts ------------------------------------------

    async def run_once(self) -> int:
        """Process everything due now (retries scheduled later are left); returns how
        many jobs were processed."""
        before = self._processed
        beat = asyncio.create_task(self._forever("heartbeat", self._beat),
                                   name=f"{self.name}-heartbeat")
        try:
            # No LISTEN here: every queue is asked again whenever the jobs ran out (a
            # finished job may have queued work on any queue).
            self._ask_all()
            while True:
                claimed = await self._fill()
                if not self._tasks:
                    await self._flush_outcomes()
                    self._ask_all()
                    if not await self._fill() and not self._tasks:
                        break
                    continue
                if claimed == 0 or len(self._tasks) >= self.concurrency:
                    await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._flush_outcomes()
            self._unsent.extend(self._take_ready())
            await self._release_unsent()
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            await self._deregister()
        return self._processed - before

    # -- long-running ---------------------------------------------------------------

    async def start(self) -> None:
        self._stopping.clear()
        try:
            await self._register()
            await self._listen()
        except Exception as exc:
            # The loops retry; a database that is down at this moment is no reason to fail.
            log.warning("%s starts without the database (%s); retrying", self.name,
                        _describe(exc))
        self._loop_task = asyncio.create_task(self._forever("claim loop", self._claim_round),
                                              name=self.name)
        self._beat_task = asyncio.create_task(self._forever("heartbeat", self._beat),
                                              name=f"{self.name}-heartbeat")
        for task in (self._loop_task, self._beat_task):
            task.add_done_callback(self._task_ended)

    async def stop(self) -> None:
        """Stop claiming, let in-flight jobs finish (up to the grace period), cancel the
        rest and release every claimed job that was not finished, at once."""
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            # The heartbeat keeps renewing their leases meanwhile.
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.grace_seconds)
            for task in pending:
                self._unsent.append(self._tasks[task])
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._unsent.extend(self._take_ready())
        await self._flush_outcomes()  # the heartbeat renews their leases meanwhile
        if self._beat_task is not None:
            self._beat_task.cancel()
            await asyncio.gather(self._beat_task, return_exceptions=True)
        await self._release_unsent()
        await self._deregister()
        await self._unlisten()

    def health(self) -> str | None:
        """None while the worker works; otherwise what is wrong, in one sentence."""
        if self._stopping.is_set():
            return None
        for task in (self._loop_task, self._beat_task):
            if task is not None and task.done():
                return f"the task {task.get_name()} has ended"
        now = time.monotonic()
        for what, at in (("claimed", self._claimed_at), ("sent a heartbeat", self._beat_at)):
            if now - at > self.stall_seconds:
                return f"{self.name} has not {what} for {now - at:.0f} s"
        return None

    # -- supervision ------------------------------------------------------------------

    async def _forever(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` again and again until the worker stops; an error is logged and
        followed by a growing pause, never the end of the loop."""
        failures = 0
        while not self._stopping.is_set():
            try:
                await step()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = ERROR_BACKOFF[min(failures, len(ERROR_BACKOFF)) - 1]
                if database_unavailable(exc):
                    log.warning("%s %s: database unavailable (%s); trying again in %.1f s",
                                self.name, what, _describe(exc), delay)
                else:
                    log.exception("%s %s failed; trying again in %.1f s", self.name, what,
                                  delay)
                await self._pause(delay)

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping.is_set():
            return
        reason = "cancelled" if task.cancelled() else repr(task.exception())
        log.error("%s: the task %s ended (%s); /healthz reports it", self.name,
                  task.get_name(), reason)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but not past a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # -- claiming -----------------------------------------------------------------------

    async def _claim_round(self) -> None:
        # Cleared before claiming, so a NOTIFY that arrives meanwhile is not lost.
        self._wake.clear()
        if not self._listener_alive():
            await self._relisten()
        claimed = await self._fill()
        now = self._claimed_at = time.monotonic()
        if claimed and len(self._tasks) < self.concurrency:
            return  # there may be more due right now
        timeout = self._polled_at + self.poll_seconds - now
        gathering = [self._short_at[i] + self.gather_seconds - now for i in self._maybe
                     if len(self._ready[i]) <= self.prefetch // 2]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(),
                                   timeout=max(0.0, min([timeout, *gathering])))
        if time.monotonic() - self._polled_at >= self.poll_seconds:
            # Retries that became due, a NOTIFY missed while not listening.
            self._polled_at = time.monotonic()
            self._maybe = set(range(len(self.queues)))

    def _ask_all(self) -> None:
        """Every queue is claimed from in the next round (run_once)."""
        self._maybe = set(range(len(self.queues)))
        self._short_at = [float("-inf")] * len(self.queues)

    def _low(self, index: int, now: float) -> bool:
        """The queue may have due rows, too few of them are ready here, and it is not
        gathering NOTIFYs after a short claim."""
        return (index in self._maybe and len(self._ready[index]) <= self.prefetch // 2
                and now - self._short_at[index] >= self.gather_seconds)

    async def _fill(self) -> int:
        """Start ready jobs in the free slots; claim more (one statement per queue, all
        on one connection) for the queues that run low. Returns how many were claimed."""
        if not self._registered:
            await self._register()
        self._start_ready()
        count = len(self.queues)
        order = [(self._next_queue + offset) % count for offset in range(count)]
        self._next_queue = (self._next_queue + 1) % max(count, 1)
        now = time.monotonic()
        wanted = [i for i in order if self._low(i, now)]
        if not wanted or self._stopping.is_set():
            return 0
        claimed = 0
        async with self.pool.acquire() as conn:
            for index in wanted:
                if self._stopping.is_set():
                    break
                limit = self.prefetch - len(self._ready[index])
                notified = self._notified[index]
                jobs = await self.queues[index].claim(conn, self.id, limit)
                if len(jobs) < limit:
                    # Short (its due rows are taken, or a per-host cap held it back):
                    # gather before the next claim. Empty: drained, until it says
                    # otherwise.
                    self._short_at[index] = time.monotonic()
                    if not jobs and self._notified[index] == notified:
                        self._maybe.discard(index)
                self._ready[index].extend(jobs)
                claimed += len(jobs)
        self._start_ready()
        return claimed

    def _start_ready(self) -> None:
        """Start ready jobs in the free slots, queues taking turns."""
        count = len(self.queues)
        while len(self._tasks) < self.concurrency and not self._stopping.is_set():
            started = False
            for offset in range(count):
                index = (self._next_queue + offset) % count
                if len(self._tasks) >= self.concurrency:
                    break
                if self._ready[index]:
                    queue, job = self.queues[index], self._ready[index].popleft()
                    task = asyncio.create_task(self._run(queue, job))
                    self._tasks[task] = (queue, job)
                    task.add_done_callback(self._finished)
                    started = True
            if not started:
                return

    def _take_ready(self) -> list[tuple[LeasedQueue, Any]]:
        taken = [(self.queues[i], job) for i, ready in enumerate(self._ready) for job in ready]
        for ready in self._ready:
            ready.clear()
        return taken

    async def _flush_outcomes(self) -> None:
        for queue in self.queues:
            buffer = outcome_buffer(queue)
            if buffer is not None:
                await buffer.flush()

    async def _run(self, queue: LeasedQueue, job: Any) -> bool:
        done = await queue.process(job, self._stopping)
        if not done:
            self._unsent.append((queue, job))
        return done

    def _finished(self, task: asyncio.Task[bool]) -> None:
        owner = self._tasks.pop(task, None)
        if owner is not None:
            # Its queue may have more due: rows a policy held back while this job ran
            # (a per-host cap). At most one claim per GATHER_SECONDS when there are none.
            self._maybe.add(self._index[id(owner[0])])
        self._wake.set()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # Its lease is no longer renewed: the job is due again within LEASE.
            log.error("job failed unexpectedly; it runs again when its lease ends",
                      exc_info=exc)
        elif task.result():
            self._processed += 1

    async def _release_unsent(self) -> None:
        for queue in self.queues:
            ids = [job.id for owner, job in self._unsent if owner is queue]
            if not ids:
                continue
            try:
                async with self.pool.acquire() as conn:
                    await queue_store.release(conn, queue.table, ids, worker=self.id,
                                              now=queue.clock())
            except Exception as exc:
                log.warning("could not release %d claimed %s (%s); they are reclaimed when"
                            " this worker's heartbeat is missed", len(ids), queue.table.name,
                            _describe(exc))
        self._unsent.clear()

    # -- heartbeat, leases, reclaiming ------------------------------------------------

    async def _register(self) -> None:
        async with self.pool.acquire() as conn:
            await queue_store.register_worker(conn, self.id, host=socket.gethostname(),
                                              pid=os.getpid())
        self._registered = True

    async def _deregister(self) -> None:
        if not self._registered:
            return
        try:
            async with self.pool.acquire() as conn:
                await queue_store.deregister_worker(conn, self.id)
            self._registered = False
        except Exception as exc:
            log.warning("%s could not sign off (%s); its entry expires", self.name,
                        _describe(exc))

    async def _beat(self) -> None:
        """Mark this worker alive, renew the leases of its running jobs, reclaim the rows
        of workers that stopped beating; then wait for the next beat."""
        running: dict[int, list[int]] = {}
        for queue, job in [*self._tasks.values(), *self._unsent]:
            running.setdefault(id(queue), []).append(job.id)
        for queue, ready in zip(self.queues, self._ready, strict=True):
            running.setdefault(id(queue), []).extend(job.id for job in ready)
            buffer = outcome_buffer(queue)
            if buffer is not None:
                running[id(queue)].extend(buffer.held())
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                if not await queue_store.beat(conn, self.id):
                    if self._registered:
                        log.warning("%s was taken for dead (no heartbeat for %.0f s);"
                                    " its running jobs may be done twice", self.name,
                                    self.dead_after.total_seconds())
                    await queue_store.register_worker(conn, self.id,
                                                      host=socket.gethostname(),
                                                      pid=os.getpid())
                    self._registered = True
                for queue in self.queues:
                    ids = running.get(id(queue))
                    if ids:
                        await queue_store.renew(conn, queue.table, ids, worker=self.id,
                                                until=queue.clock() + queue.lease)
            async with conn.transaction():
                reclaimed = await queue_store.reap(conn, dead_after=self.dead_after)
        self._beat_at = time.monotonic()
        if reclaimed:
            log.warning("reclaimed %d jobs of workers that stopped beating", reclaimed)
            self._maybe = set(range(len(self.queues)))
            self._wake.set()
        await self._pause(self.heartbeat_seconds)

    # -- LISTEN ---------------------------------------------------------------------

    def _on_notify(self, _conn: object, _pid: object, channel: str, _payload: object
                   ) -> None:
        for index in self._channels.get(channel, ()):
            self._maybe.add(index)
            self._notified[index] += 1
        self._wake.set()

    def _listener_alive(self) -> bool:
        conn = self._listener
        if conn is None:
            return False
        try:
            return not conn.is_closed()
        except asyncpg.InterfaceError:
            # A pool connection whose server went away is detached from its proxy.
            return False

    async def _listen(self) -> None:
        # A pool connection held for the worker's life: LISTEN needs one session.
        conn = await self.pool.acquire()
        try:
            for queue in self.queues:
                await conn.add_listener(queue.table.channel, self._on_notify)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.pool.release(conn)
            raise
        self._listener = conn
        self._listening_warned = False

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            if not conn.is_closed():
                for queue in self.queues:
                    await conn.remove_listener(queue.table.channel, self._on_notify)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    async def _relisten(self) -> None:
        # The listening connection died (database restart): polling keeps things moving
        # meanwhile; get a new one.
        await self._unlisten()
        try:
            await self._listen()
        except Exception as exc:
            if not self._listening_warned:
                log.warning("%s cannot LISTEN (%s); polling every %.0f s until it can",
                            self.name, _describe(exc), self.poll_seconds)
                self._listening_warned = True
            return
        log.info("%s listening again", self.name)
