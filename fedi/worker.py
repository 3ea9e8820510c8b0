"""The application's queues and the processes that run them.

:func:`build_queues` lists the queues every worker runs, each a thin policy over the
generic leased-queue runner of :mod:`fedi.core.queue` (claiming, leases and their renewal,
reclaiming a dead worker's rows, release on stop, supervision): inbound activities
(:class:`fedi.inbound.queue.InboundQueue`), outbound deliveries
(:class:`fedi.federation.delivery_queue.DeliveryQueue`) and the backfills of remote groups
(:class:`fedi.inbound.backfill.BackfillQueue`) and outgoing e-mail
(:class:`fedi.core.mail_send.MailQueue`). The same runner works inside
``fedi serve`` (:func:`start_workers`, a startup hook) and as ``fedi worker`` processes
(:func:`run_worker_process`); the queue rows are the only coordination between them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fedi.core.config import DEFAULT_WORKERS, Settings
from fedi.core.context import Context
from fedi.core.mail_send import MailQueue
from fedi.core.queue import (
    LeasedQueue,
    Worker,
)
from fedi.core.runtime import process_context
from fedi.federation.delivery_queue import Clock, DeliveryQueue, utc_now
from fedi.forum.bans import start_ban_expiry
from fedi.forum.erasure import ErasureQueue
from fedi.forum.events_mail import start_event_reminders
from fedi.forum.media import start_media_cleanup
from fedi.forum.notification_mail_queue import NotificationMailQueue
from fedi.forum.notify_queue import NotificationQueue
from fedi.forum.poll_updates import start_poll_updates
from fedi.inbound.backfill import BackfillQueue
from fedi.inbound.queue import InboundQueue

try:  # uvicorn[standard] installs it; the stdlib loop otherwise
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency through uvicorn[standard]
    uvloop = None  # type: ignore[assignment]

__all__ = ["PERIODIC_JOBS", "Worker", "build_queues", "run_once", "run_worker_process",
           "start_workers", "worker_loop_runner"]

log = logging.getLogger("fedi.worker")


# Jobs that run every few minutes next to the queues, in every process that runs workers
# (each is safe to run in several at once): ``async def hook(ctx, run_workers)`` returning
# its stopper, or None when ``run_workers`` is false.
PERIODIC_JOBS: tuple[Callable[[Context, bool], Awaitable[Callable[[], Awaitable[None]] | None]],
                     ...] = (
    start_ban_expiry,  # lift expired bans (Undo(Block), modlog)
    start_event_reminders,  # the day-before event reminders
    start_media_cleanup,  # uploads nothing uses
    start_poll_updates,  # coalesced Update(Question) of local polls
)


def build_queues(ctx: Context, *, clock: Clock = utc_now,
                 schedules: bool = False) -> list[LeasedQueue]:
    """Every queue a worker runs: inbound activities, outbound deliveries, the
    backfills of remote groups and outgoing e-mail. ``schedules``: a long-running worker
    also keeps the periodic jobs (the notification digests) going."""
    return [InboundQueue(ctx, clock=clock), DeliveryQueue(ctx, clock=clock),
            BackfillQueue(ctx, clock=clock), MailQueue(ctx, clock=clock),
            # Drops an erased account's private keys once its Deletes are delivered.
            ErasureQueue(ctx, clock=clock),
            # Turns notification_events into notifications (issue 14).
            NotificationQueue(ctx, clock=clock),
            # Notification e-mail: grouped immediate mails and the digest scheduler.
            NotificationMailQueue(ctx, clock=clock, schedule_digests=schedules)]


async def run_once(
    ctx: Context, *, clock: Clock = utc_now, concurrency: int | None = None
) -> int:
    """Process every job due now on every queue; returns how many were processed."""
    worker = Worker(ctx.pool, build_queues(ctx, clock=clock),
                    concurrency=concurrency or max(ctx.settings.workers, 4))
    return await worker.run_once()


@dataclass
class RunningWorker:
    """The in-process worker of ``fedi serve``: awaiting it stops it; the app's /healthz
    asks :meth:`health`."""

    worker: Worker

    async def __call__(self) -> None:
        await self.worker.stop()

    def health(self) -> str | None:
        return self.worker.health()


async def start_workers(ctx: Context, run_workers: bool) -> RunningWorker | None:
    """Startup hook of the app: run the queues in this process unless told not to."""
    if not run_workers or ctx.settings.workers < 1:
        return None
    worker = Worker(ctx.pool, build_queues(ctx, schedules=True),
                    concurrency=ctx.settings.workers)
    await worker.start()
    log.info("workers running in process (concurrency %d)", ctx.settings.workers)
    return RunningWorker(worker)


def worker_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """How ``fedi worker`` runs its event loop: uvloop when importable (less CPU per job
    than the stdlib loop), else ``asyncio.run``."""
    if uvloop is not None:
        return uvloop.run
    return asyncio.run


async def run_worker_process(settings: Settings, dsn: str, *, concurrency: int | None) -> None:
    """``fedi worker``: run the queues until SIGTERM or SIGINT, then stop gracefully."""
    slots = max(1, concurrency if concurrency is not None else settings.workers or DEFAULT_WORKERS)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        # One connection per job, plus LISTEN, the heartbeat and a claim.
        async with process_context(settings, dsn, pool_size=min(slots, 20) + 4,
                                   http_connections=max(100, slots)) as ctx:
            worker = Worker(ctx.pool, build_queues(ctx, schedules=True), concurrency=slots)
            await worker.start()
            # The periodic jobs (fedi serve runs them as startup hooks; with --no-workers
            # they run here).
            stoppers = [await hook(ctx, True) for hook in PERIODIC_JOBS]
            log.info("worker running (concurrency %d)", slots)
            await stop.wait()
            log.info("stopping: finishing in-flight jobs")
            for stopper in stoppers:
                if stopper is not None:
                    await stopper()
            await worker.stop()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
