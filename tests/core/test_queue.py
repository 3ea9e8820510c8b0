"""The generic leased queue (fedi/core/queue.py, storage/queue.py) with the real delivery
policy, real receivers on loopback and the real database: states declared next to the
SQL match the schema, leases are renewed while a job runs, a dead worker's rows are
reclaimed within seconds, a clean stop releases at once, and a worker survives losing
its database connection."""

from __future__ import annotations

import ast
import asyncio
import logging
import random
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.queue import Backoff, Worker
from fedi.federation.delivery_queue import DeliveryQueue
from storage import queue as queue_store
from storage.actors import Actor
from storage.backfills import BackfillState
from storage.db import create_pool
from storage.deliveries import DeliveryState
from storage.erasure import ErasureState
from storage.inbox import InboxState
from storage.mail import MailState
from storage.notification_events import EventState
from storage.notification_mail import NotificationMailState
from tests.conftest import LiveServer, free_port, make_settings
from tests.support.outages import Proxy
from tests.support.receivers import Receiver

Start = Callable[[Callable[[int], Starlette]], Awaitable[LiveServer]]


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield Context(settings=make_settings(free_port()), pool=pool, http=http)


@pytest.fixture
async def sender(ctx: Context) -> Actor:
    async with ctx.pool.acquire() as conn:
        return await create_local_actor(conn, ctx, type_="Group", username="kultur",
                                        name="Kultur")


def receiver_for(actor: Actor, **options: Any) -> Receiver:
    assert actor.public_key_id and actor.public_key_pem
    return Receiver({actor.public_key_id: actor.public_key_pem}, **options)


async def enqueue(ctx: Context, actor: Actor, inboxes: list[str]) -> str:
    activity = {"id": new_activity_id(ctx), "type": "Announce", "actor": actor.ap_id,
                "object": f"{ctx.settings.base_url}/posts/1"}
    async with ctx.pool.acquire() as conn, conn.transaction():
        await enqueue_activity(conn, ctx, actor=actor, activity=activity, inboxes=inboxes)
    return activity["id"]


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


# -- states ----------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "states"), [
    ("deliveries", DeliveryState), ("inbox_activities", InboxState),
    ("backfill_jobs", BackfillState), ("mail_outbox", MailState),
    ("account_erasures", ErasureState), ("notification_events", EventState),
    ("notification_mail_jobs", NotificationMailState),
])
async def test_each_queues_state_enum_equals_the_check_of_its_table(
    pool: asyncpg.Pool, table: str, states: type[StrEnum]
) -> None:
    definitions = await pool.fetch(
        "SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint"
        " WHERE conrelid = $1::regclass AND contype = 'c'", table)
    checks = [row["d"] for row in definitions if "state" in row["d"]]
    assert len(checks) == 1, checks
    assert set(re.findall(r"'([a-z_]+)'::text", checks[0])) == {s.value for s in states}
    assert queue_store.QUEUED in {s.value for s in states}


def test_backoff_grows_gives_up_and_respects_a_minimum() -> None:
    backoff = Backoff((10, 100), jitter=0.1)
    rng = random.Random(3)
    first = backoff.delay(1, rng=rng)
    assert first is not None and 9 <= first <= 11
    assert backoff.delay(2, at_least=500) == 500
    assert backoff.delay(3) is None
    with pytest.raises(ValueError):
        backoff.delay(0)


# -- leases ------------------------------------------------------------------------------


async def test_a_running_jobs_lease_is_renewed_so_no_other_worker_takes_it(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    # The send takes 3 s; the lease is 1 s and only renewals keep the row claimed.
    receiver = receiver_for(sender, delay=3.0)
    url = (await live_server(receiver.serve)).url
    activity_id = await enqueue(ctx, sender, [f"{url}/inbox"])
    lease = timedelta(seconds=1)

    def worker() -> Worker:
        return Worker(ctx.pool, [DeliveryQueue(ctx, lease=lease)], concurrency=1,
                      heartbeat_seconds=0.2, poll_seconds=0.2)

    first, second = worker(), worker()
    await first.start()
    try:
        async def claimed() -> bool:
            async with ctx.pool.acquire() as conn:
                return bool(await queue_store.held(conn, queue_store.DELIVERIES))

        await wait_for(claimed)
        await second.start()
        async with ctx.pool.acquire() as conn:
            await wait_for(lambda: _delivered(conn))
    finally:
        await second.stop()
        await first.stop()
    assert receiver.count(activity_id) == 1


async def _delivered(conn: Any) -> bool:
    return bool(await conn.fetchval(
        "SELECT bool_and(state = 'delivered') FROM deliveries"))


async def test_the_rows_of_a_worker_that_stopped_beating_are_reclaimed_at_once(
    ctx: Context, sender: Actor, live_server: Start, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = receiver_for(sender)
    url = (await live_server(receiver.serve)).url
    activity_id = await enqueue(ctx, sender, [f"{url}/inbox"])
    # A worker that claimed the row with a long lease and then died: its last
    # heartbeat is a minute old.
    dead = uuid.uuid4()
    async with ctx.pool.acquire() as conn:
        await queue_store.register_worker(conn, dead, host="elsewhere", pid=1)
        await conn.execute("UPDATE queue_workers SET heartbeat_at = now() - interval '1 minute'"
                           " WHERE id = $1", dead)
        await conn.execute("UPDATE deliveries SET claimed_by = $1,"
                           " next_attempt_at = now() + interval '1 hour'", dead)

    worker = Worker(ctx.pool, [DeliveryQueue(ctx)], concurrency=2, heartbeat_seconds=0.2)
    caplog.set_level(logging.WARNING, logger="fedi.core.queue")
    await worker.start()
    try:
        async with ctx.pool.acquire() as conn:
            await wait_for(lambda: _delivered(conn))
            alive = [w.id for w in await queue_store.workers(conn)]
    finally:
        await worker.stop()
    assert receiver.count(activity_id) == 1
    assert alive == [worker.id]  # the dead one is gone from the registry
    assert "reclaimed 1 jobs of workers that stopped beating" in caplog.text


async def test_a_clean_stop_releases_unfinished_claims_at_once(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = receiver_for(sender, delay=0.5)
    url = (await live_server(receiver.serve)).url
    await enqueue(ctx, sender, [f"{url}/users/u{i}/inbox" for i in range(30)])
    worker = Worker(ctx.pool, [DeliveryQueue(ctx)], concurrency=8, grace_seconds=0.1)
    await worker.start()
    await wait_for(lambda: _true(receiver.total >= 1))
    await worker.stop()
    async with ctx.pool.acquire() as conn:
        held = await queue_store.held(conn, queue_store.DELIVERIES)
        not_due = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE state = 'queued' AND next_attempt_at > now()")
        registered = await queue_store.workers(conn)
        queued = await conn.fetchval("SELECT count(*) FROM deliveries WHERE state = 'queued'")
    assert queued > 0  # the stop came in the middle
    assert held == {} and not_due == 0  # all due again now, held by nobody
    assert registered == []


async def _true(value: bool) -> bool:
    return value


# -- losing the database -----------------------------------------------------------------


async def test_a_worker_survives_losing_its_database_and_works_on_when_it_is_back(
    ctx: Context, sender: Actor, dsn: str, live_server: Start,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = receiver_for(sender)
    url = (await live_server(receiver.serve)).url
    proxy = Proxy(dsn)
    await proxy.start()
    pool = await create_pool(proxy.dsn, min_size=1, max_size=4)
    worker_ctx = Context(settings=ctx.settings, pool=pool, http=ctx.http)
    worker = Worker(pool, [DeliveryQueue(worker_ctx)], concurrency=2, heartbeat_seconds=0.2,
                    poll_seconds=0.5)
    caplog.set_level(logging.INFO, logger="fedi.core.queue")
    try:
        await worker.start()
        first = await enqueue(ctx, sender, [f"{url}/one/inbox"])
        await wait_for(lambda: _true(receiver.count(first) == 1))

        await proxy.cut()  # every connection of the worker is gone, new ones refused
        await wait_for(lambda: _true("database unavailable" in caplog.text))
        second = await enqueue(ctx, sender, [f"{url}/two/inbox"])
        await asyncio.sleep(0.5)
        assert worker.health() is None  # retrying is working, within its bound

        await proxy.restore()
        await wait_for(lambda: _true(receiver.count(second) == 1))
        await wait_for(lambda: _true("listening again" in caplog.text))
        # The new LISTEN connection wakes the worker: a third one arrives as well.
        third = await enqueue(ctx, sender, [f"{url}/three/inbox"])
        await wait_for(lambda: _true(receiver.count(third) == 1))
        assert worker.health() is None
    finally:
        await worker.stop()
        await pool.close()
        await proxy.cut()


async def test_health_reports_a_worker_that_cannot_reach_the_database_for_too_long(
    ctx: Context, dsn: str
) -> None:
    proxy = Proxy(dsn)
    await proxy.start()
    pool = await create_pool(proxy.dsn, min_size=1, max_size=2)
    worker_ctx = Context(settings=ctx.settings, pool=pool, http=ctx.http)
    worker = Worker(pool, [DeliveryQueue(worker_ctx)], concurrency=1, heartbeat_seconds=0.1,
                    poll_seconds=0.1, stall_seconds=1.0)
    try:
        await worker.start()
        await asyncio.sleep(0.3)
        assert worker.health() is None
        await proxy.cut()
        await wait_for(lambda: _true(worker.health() is not None), seconds=10)
        assert "has not" in (worker.health() or "")
        await proxy.restore()
        await wait_for(lambda: _true(worker.health() is None), seconds=10)
    finally:
        await worker.stop()
        await pool.close()
        await proxy.cut()


# -- where the queue sits ------------------------------------------------------------------

FEATURES = ("fedi.forum", "fedi.federation", "fedi.routes", "fedi.web", "fedi.app",
            "fedi.worker", "fedi.cli")


def _imports(module: str) -> set[str]:
    path = Path(__file__).resolve().parents[2] / (module.replace(".", "/") + ".py")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["fedi.core.queue", "fedi.core.runtime"])
def test_the_queue_runner_and_the_process_plumbing_import_no_feature(module: str) -> None:
    imported = _imports(module)
    assert not [name for name in imported if name.startswith(FEATURES)], imported


def test_the_worker_does_not_import_the_app() -> None:
    # The app imports the worker for its startup hook; the other way round was a cycle.
    assert not [name for name in _imports("fedi.worker") if name.startswith("fedi.app")]
