"""The outbound delivery queue against real receivers on loopback: retries, permanent
failures, dead hosts, double-knocking, graceful stop, LISTEN/NOTIFY, NodeInfo cache."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.app import create_app
from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.instances import instance_software
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.queue import Worker
from fedi.federation.delivery_queue import MAX_RETRY_AFTER, RETRY_DELAYS, retry_delay
from fedi.worker import build_queues, run_once, start_workers
from storage import deliveries as delivery_store
from storage import instances as instance_store
from storage.actors import Actor
from tests.conftest import LiveServer, free_port, make_settings
from tests.support.clock import FakeClock
from tests.support.receivers import Receiver

DAY = timedelta(days=1)





@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    settings = make_settings(free_port())
    async with httpx.AsyncClient(timeout=10) as http:
        yield Context(settings=settings, pool=pool, http=http)


@pytest.fixture
async def sender(ctx: Context) -> Actor:
    async with ctx.pool.acquire() as conn:
        return await create_local_actor(conn, ctx, type_="Group", username="kultur",
                                        name="Kultur")


def keys_of(actor: Actor) -> dict[str, str]:
    assert actor.public_key_id and actor.public_key_pem
    return {actor.public_key_id: actor.public_key_pem}


Start = Callable[[Callable[[int], Starlette]], Awaitable[LiveServer]]


async def serve(live_server: Start, receiver: Receiver) -> str:
    server = await live_server(receiver.serve)
    return server.url


def activity_from(ctx: Context, actor: Actor) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": new_activity_id(ctx),
        "type": "Announce",
        "actor": actor.ap_id,
        "object": f"{ctx.settings.base_url}/posts/1",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


async def enqueue(ctx: Context, actor: Actor, inboxes: list[str]) -> tuple[str, int]:
    activity = activity_from(ctx, actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row_id = await enqueue_activity(conn, ctx, actor=actor, activity=activity,
                                        inboxes=inboxes)
    return activity["id"], row_id


async def delivery_row(ctx: Context, activity_row: int) -> delivery_store.Delivery:
    async with ctx.pool.acquire() as conn:
        (row,) = await delivery_store.for_activity(conn, activity_row)
    return row


async def instance_row(ctx: Context, url: str) -> instance_store.Instance | None:
    async with ctx.pool.acquire() as conn:
        return await instance_store.get(conn, url.removeprefix("http://"))


# -- the schedule, as a pure function ----------------------------------------------


def test_retry_delays_grow_with_jitter_over_about_three_days() -> None:
    rng = random.Random(7)
    delays = [retry_delay(n, rng=rng) for n in range(1, len(RETRY_DELAYS) + 1)]
    assert all(d is not None for d in delays)
    values = [float(d) for d in delays if d is not None]
    for base, value in zip(RETRY_DELAYS, values, strict=True):
        assert base * 0.9 <= value <= base * 1.1
    assert values[0] < values[1] < values[2] < values[3] < values[4] < values[5] < values[6]
    assert 2.5 * 86400 < sum(values) < 3.5 * 86400
    # Jittered: two draws of the same step differ.
    assert len({retry_delay(3, rng=rng) for _ in range(5)}) > 1
    # Given up after the last step.
    assert retry_delay(len(RETRY_DELAYS) + 1) is None


def test_retry_after_is_never_undercut() -> None:
    assert retry_delay(1, 3600.0) == 3600.0
    first = retry_delay(5, 10.0)
    assert first is not None and first >= RETRY_DELAYS[4] * 0.9
    assert retry_delay(1, MAX_RETRY_AFTER + 1) is None
    with pytest.raises(ValueError):
        retry_delay(0)


# -- enqueueing ---------------------------------------------------------------------


async def test_enqueue_dedupes_skips_local_and_notifies_at_commit(
    ctx: Context, sender: Actor, dsn: str
) -> None:
    listener = await asyncpg.connect(dsn)
    heard: list[str] = []
    await listener.add_listener("deliveries", lambda *args: heard.append(args[2]))
    try:
        own = ctx.settings.base_url
        inboxes = ["https://a.example/inbox", "https://a.example/inbox",
                   f"{own}/inbox", "https://B.example:8443/users/x/inbox", "mailto:x@y"]
        activity = activity_from(ctx, sender)
        async with ctx.pool.acquire() as conn:
            async with conn.transaction():
                row_id = await enqueue_activity(conn, ctx, actor=sender, activity=activity,
                                                inboxes=inboxes)
                await asyncio.sleep(0.2)
                assert heard == []  # not before the commit
            rows = await delivery_store.for_activity(conn, row_id)
            stored = await conn.fetchrow("SELECT * FROM activities WHERE id = $1", row_id)
        assert [(r.inbox_url, r.domain, r.state) for r in rows] == [
            ("https://a.example/inbox", "a.example", "queued"),
            ("https://B.example:8443/users/x/inbox", "b.example:8443", "queued"),
        ]
        assert stored["ap_id"] == activity["id"]
        assert stored["type"] == "Announce"
        assert stored["object_ap_id"] == activity["object"]
        assert stored["payload"] == activity
        for _ in range(50):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert heard == ["deliveries"]
        assert activity["id"].startswith(f"{own}/activities/")
    finally:
        await listener.close()


# -- outcomes -------------------------------------------------------------------------


async def test_server_errors_are_retried_until_delivered(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = Receiver(keys_of(sender), statuses=[500, 500, 500])
    url = await serve(live_server, receiver)
    clock = FakeClock()
    activity_id, row_id = await enqueue(ctx, sender, [f"{url}/inbox"])

    assert await run_once(ctx, clock=clock) == 1
    row = await delivery_row(ctx, row_id)
    assert (row.state, row.attempts, row.last_status) == ("queued", 1, 500)
    wait = (row.next_attempt_at - clock.now).total_seconds()
    assert RETRY_DELAYS[0] * 0.9 <= wait <= RETRY_DELAYS[0] * 1.1
    # Not due yet: nothing happens.
    assert await run_once(ctx, clock=clock) == 0

    for _ in range(3):
        clock.advance(DAY)
        assert await run_once(ctx, clock=clock) == 1
    row = await delivery_row(ctx, row_id)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 4, 202)
    assert receiver.count(activity_id) == 1
    assert [status for _, status in receiver.answers] == [500, 500, 500, 202]
    instance = await instance_row(ctx, url)
    assert instance is not None
    # The success wiped the three failure days.
    assert (instance.failure_days, instance.unavailable) == ([], False)
    assert instance.last_success_at == clock.now


async def test_backoff_waits_grow_between_attempts(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = Receiver(keys_of(sender), default=503)
    url = await serve(live_server, receiver)
    clock = FakeClock()
    _, row_id = await enqueue(ctx, sender, [f"{url}/inbox"])
    waits = []
    for _ in range(4):
        await run_once(ctx, clock=clock)
        row = await delivery_row(ctx, row_id)
        waits.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at
    assert waits == sorted(waits) and len(set(waits)) == 4


async def test_retry_after_is_honoured(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = Receiver(keys_of(sender), statuses=[(429, {"Retry-After": "7200"})])
    url = await serve(live_server, receiver)
    clock = FakeClock()
    _, row_id = await enqueue(ctx, sender, [f"{url}/inbox"])
    await run_once(ctx, clock=clock)
    row = await delivery_row(ctx, row_id)
    assert row.next_attempt_at - clock.now >= timedelta(seconds=7200)
    clock.advance(timedelta(seconds=7100))
    assert await run_once(ctx, clock=clock) == 0
    clock.advance(timedelta(seconds=200))
    assert await run_once(ctx, clock=clock) == 1
    assert (await delivery_row(ctx, row_id)).state == "delivered"


async def test_not_found_fails_at_once_and_is_never_retried(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = Receiver(keys_of(sender), default=404)
    url = await serve(live_server, receiver)
    clock = FakeClock()
    _, row_id = await enqueue(ctx, sender, [f"{url}/inbox"])
    assert await run_once(ctx, clock=clock) == 1
    clock.advance(10 * DAY)
    assert await run_once(ctx, clock=clock) == 0
    row = await delivery_row(ctx, row_id)
    assert (row.state, row.attempts, row.last_status) == ("failed", 1, 404)
    assert len(receiver.answers) == 1


async def test_gone_stops(ctx: Context, sender: Actor, live_server: Start) -> None:
    receiver = Receiver(keys_of(sender), default=410)
    url = await serve(live_server, receiver)
    clock = FakeClock()
    _, row_id = await enqueue(ctx, sender, [f"{url}/inbox"])
    await run_once(ctx, clock=clock)
    clock.advance(10 * DAY)
    assert await run_once(ctx, clock=clock) == 0
    row = await delivery_row(ctx, row_id)
    assert (row.state, row.last_status) == ("gone", 410)
    assert len(receiver.answers) == 1


async def test_host_that_is_down_gets_it_when_back(ctx: Context, sender: Actor) -> None:
    port = free_port()  # nothing listens here yet
    clock = FakeClock()
    activity_id, row_id = await enqueue(ctx, sender, [f"http://127.0.0.1:{port}/inbox"])
    assert await run_once(ctx, clock=clock) == 1
    row = await delivery_row(ctx, row_id)
    assert (row.state, row.attempts, row.last_status) == ("queued", 1, None)
    assert row.last_error

    receiver = Receiver(keys_of(sender))
    server = LiveServer(receiver.app(), port)
    await server.start()
    try:
        clock.advance(DAY)
        assert await run_once(ctx, clock=clock) == 1
    finally:
        await server.stop()
    assert receiver.count(activity_id) == 1
    assert (await delivery_row(ctx, row_id)).state == "delivered"


async def test_host_failing_on_seven_days_is_skipped_until_reset(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = Receiver(keys_of(sender), default=503)
    url = await serve(live_server, receiver)
    domain = url.removeprefix("http://")
    clock = FakeClock()
    first, first_row = await enqueue(ctx, sender, [f"{url}/inbox"])
    for day in range(7):
        # Two failures on some days: only distinct days count.
        assert await run_once(ctx, clock=clock) == 1
        instance = await instance_row(ctx, url)
        assert instance is not None
        assert len(instance.failure_days) == day + 1
        assert instance.unavailable is (day == 6)
        clock.advance(2 * DAY)
    assert len(receiver.answers) == 7
    parked = await delivery_row(ctx, first_row)
    assert (parked.state, parked.next_attempt_at) == ("queued", delivery_store.PARKED)

    # Skipped: neither the old delivery nor a new one goes out.
    receiver.default = 202
    second, second_row = await enqueue(ctx, sender, [f"{url}/inbox"])
    assert (await delivery_row(ctx, second_row)).next_attempt_at == delivery_store.PARKED
    clock.advance(10 * DAY)
    assert await run_once(ctx, clock=clock) == 0
    assert len(receiver.answers) == 7

    async with ctx.pool.acquire() as conn:
        assert await instance_store.unavailable_domains(conn) == [domain]
        assert await instance_store.reset_instance(conn, domain) is True
        assert await instance_store.reset_instance(conn, "unknown.example") is False
    assert await run_once(ctx, clock=clock) == 2
    assert receiver.count(first) == 1 and receiver.count(second) == 1
    row = await delivery_row(ctx, first_row)
    assert (row.state, row.attempts) == ("delivered", 8)


async def test_a_success_from_an_unavailable_host_resumes_its_deliveries(
    ctx: Context, sender: Actor
) -> None:
    clock = FakeClock()
    _, row_id = await enqueue(ctx, sender, ["https://dead.example/inbox"])
    async with ctx.pool.acquire() as conn:
        for day in range(7):
            await instance_store.record_failure(conn, "dead.example", now=clock.now + day * DAY)
        assert await delivery_store.park_domain(conn, "dead.example") == 1
        # Another success on the same day (e.g. it sent us a verified request) clears it.
        await instance_store.record_success(conn, "dead.example", now=clock.now, scheme=None)
        instance = await instance_store.get(conn, "dead.example")
    assert instance is not None
    assert (instance.unavailable, instance.failure_days, instance.failing_since) == (
        False, [], None)
    assert (await delivery_row(ctx, row_id)).next_attempt_at == clock.now


async def test_double_knock_and_the_scheme_is_remembered(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    receiver = Receiver(keys_of(sender), reject_cavage=True)
    url = await serve(live_server, receiver)
    first, _ = await enqueue(ctx, sender, [f"{url}/inbox"])
    assert await run_once(ctx) == 1
    assert receiver.answers == [("cavage", 401), ("rfc9421", 202)]
    instance = await instance_row(ctx, url)
    assert instance is not None and instance.signature_scheme == "rfc9421"

    second, _ = await enqueue(ctx, sender, [f"{url}/inbox"])
    assert await run_once(ctx) == 1
    # Straight to RFC 9421 this time.
    assert receiver.answers[2:] == [("rfc9421", 202)]
    assert receiver.count(first) == 1 and receiver.count(second) == 1
    assert receiver.unsigned == 0


# -- running workers -------------------------------------------------------------------


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_stopping_mid_fanout_and_restarting_delivers_each_exactly_once(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    keys = keys_of(sender)
    receivers = [Receiver(keys), Receiver(keys), Receiver(keys, delay=0.15)]
    urls = [await serve(live_server, r) for r in receivers]
    inboxes = [f"{urls[i % 3]}/users/u{i}/inbox" for i in range(200)]
    activity_id, _ = await enqueue(ctx, sender, inboxes)

    def total() -> int:
        return sum(r.total for r in receivers)

    worker = Worker(ctx.pool, build_queues(ctx), concurrency=12)
    await worker.start()
    await wait_for(lambda: total() >= 40)
    await worker.stop()
    stopped_at = total()
    assert stopped_at < 200  # the slow host is far from done
    async with ctx.pool.acquire() as conn:
        counts = await delivery_store.state_counts(conn)
        leased = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE state = 'queued'"
            " AND next_attempt_at > now() + interval '1 minute'"
        )
    # Every send that started was finished and recorded; the rest were released.
    assert counts["delivered"] == stopped_at
    assert counts["queued"] == 200 - stopped_at
    assert leased == 0

    worker = Worker(ctx.pool, build_queues(ctx), concurrency=12)
    await worker.start()
    try:
        await wait_for(lambda: total() >= 200)
    finally:
        await worker.stop()
    for receiver, url in zip(receivers, urls, strict=True):
        expected = {(inbox.removeprefix(url), activity_id) for inbox in inboxes
                    if inbox.startswith(url + "/")}
        assert set(receiver.accepted) == expected
        assert set(receiver.accepted.values()) == {1}
    async with ctx.pool.acquire() as conn:
        counts = await delivery_store.state_counts(conn)
        per_domain = await delivery_store.domain_counts(conn)
    assert counts["delivered"] == 200 and counts["queued"] == 0
    assert sorted(d.delivered for d in per_domain) == [66, 67, 67]


async def test_listen_notify_wakes_the_in_app_worker(
    dsn: str, live_server: Start
) -> None:
    settings = make_settings(free_port(), workers=2)
    app = create_app(settings, dsn, run_workers=True)
    app.state.startup_hooks.append(start_workers)
    async with app.router.lifespan_context(app):
        app_ctx: Context = app.state.ctx
        async with app_ctx.pool.acquire() as conn:
            actor = await create_local_actor(conn, app_ctx, type_="Person", username="anna",
                                             name="Anna")
        receiver = Receiver(keys_of(actor))
        url = await serve(live_server, receiver)
        # Let the worker's first (empty) claim pass, so only the NOTIFY can wake it soon.
        await asyncio.sleep(0.3)
        activity_id, _ = await enqueue(app_ctx, actor, [f"{url}/inbox"])
        await wait_for(lambda: receiver.count(activity_id) == 1, seconds=15)


async def test_no_workers_when_the_app_says_so(pool: asyncpg.Pool) -> None:
    async with httpx.AsyncClient() as http:
        ctx = Context(settings=make_settings(workers=4), pool=pool, http=http)
        assert await start_workers(ctx, False) is None
        ctx = Context(settings=make_settings(workers=0), pool=pool, http=http)
        assert await start_workers(ctx, True) is None


# -- NodeInfo cache ---------------------------------------------------------------------


async def test_instance_software_is_cached_for_a_day(live_server: Start, ctx: Context) -> None:
    hits: list[str] = []

    def build(port: int) -> Starlette:
        base = f"http://127.0.0.1:{port}"

        async def index(request: Request) -> Response:
            hits.append(request.url.path)
            rel = "http://nodeinfo.diaspora.software/ns/schema/2.1"
            return JSONResponse({"links": [{"rel": rel, "href": f"{base}/nodeinfo/2.1"}]})

        async def document(request: Request) -> Response:
            hits.append(request.url.path)
            return JSONResponse({"version": "2.1", "protocols": ["activitypub"],
                                 "software": {"name": "Mastodon", "version": "4.3.0"}})

        return Starlette(routes=[Route("/.well-known/nodeinfo", index),
                                 Route("/nodeinfo/2.1", document)])

    server = await live_server(build)
    domain = server.url.removeprefix("http://")
    now = datetime.now(UTC)
    assert await instance_software(ctx, domain, now=now) == "mastodon"
    assert len(hits) == 2
    assert await instance_software(ctx, domain, now=now + timedelta(hours=23)) == "mastodon"
    assert len(hits) == 2  # from the cache
    assert await instance_software(ctx, domain, now=now + timedelta(hours=25)) == "mastodon"
    assert len(hits) == 4  # refreshed
    instance = await instance_row(ctx, server.url)
    assert instance is not None and instance.software_version == "4.3.0"

    # A host without NodeInfo is no error, and is not asked on every call.
    down = f"127.0.0.1:{free_port()}"
    assert await instance_software(ctx, down, now=now) is None
    async with ctx.pool.acquire() as conn:
        stamped = await instance_store.get(conn, down)
    assert stamped is not None and stamped.software is None
    assert await instance_software(ctx, down, now=now + timedelta(minutes=30)) is None
