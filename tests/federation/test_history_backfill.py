"""A group's whole history reaches a new follower instance (issue 20): two dEMiSA
instances on loopback; B follows a group on A and backfills all of its threads from A's
outbox (the first written before the group had any follower), their replies through each
thread's context collection, and which threads are pinned and locked. A backfill stopped
by its per-run cap goes on where it stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fedi.core.queue import Worker
from fedi.inbound.backfill import BackfillQueue, backfill_all
from fedi.inbound.queue import InboundQueue
from fedi.worker import run_once
from storage import actors as actor_store
from storage import backfills as backfill_store
from tests.support.federation_helpers import Instance, Side, eventually, join
from tests.support.helpers import User, make_group, make_user
from tests.support.inbound_fixtures import FakeClock


@pytest.fixture
async def sides(instance: Instance) -> AsyncIterator[tuple[Side, Side]]:
    a = await instance(workers=1)
    b = await instance(workers=1)
    async with httpx.AsyncClient(base_url=a.url) as ca, \
            httpx.AsyncClient(base_url=b.url) as cb:
        yield Side(a, ca), Side(b, cb)


async def threads_on_a(a: Side, anna: User, count: int) -> list[dict[str, Any]]:
    return [await a.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                         json={"title": f"Faden {n:02d}", "content": f"Text {n}"})
            for n in range(1, count + 1)]


async def all_threads(side: Side, ref: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = await side.get(f"/api/v1/groups/{ref}/threads?limit=100{cursor}")
        items += page["items"]
        if not page.get("next"):
            return items
        cursor = f"&cursor={page['next']}"


async def test_a_new_follower_instance_gets_the_whole_history(
        sides: tuple[Side, Side]) -> None:
    a, b = sides
    await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")
    admin = await make_user(a.ctx, "chefin", admin=True)
    threads = await threads_on_a(a, anna, 30)  # the first long before anyone follows
    replies: dict[str, list[str]] = {}
    for n in (0, 4, 9, 17, 29):
        thread = threads[n]
        first = await a.call("POST", f"/api/v1/posts/{thread['id']}/replies", anna,
                             status=201, json={"content": f"Antwort auf {thread['title']}"})
        second = await a.call("POST", f"/api/v1/posts/{first['id']}/replies", admin,
                              status=201, json={"content": "Antwort auf die Antwort"})
        replies[thread["title"]] = [first["content"], second["content"]]
    pinned = {threads[2]["title"], threads[6]["title"]}
    locked = {threads[4]["title"], threads[25]["title"]}
    for thread in threads:
        if thread["title"] in pinned:
            await a.call("POST", f"/api/v1/admin/posts/{thread['id']}/pin", admin)
        if thread["title"] in locked:
            await a.call("POST", f"/api/v1/admin/posts/{thread['id']}/lock", admin)

    bert = await make_user(b.ctx, "bert")
    ref = f"breitband@{a.host}"
    await join(b, ref, bert)

    async def backfilled() -> list[dict[str, Any]]:
        items = await all_threads(b, ref)
        assert len(items) == 30, [t["title"] for t in items]
        return items

    items = await eventually(backfilled, timeout=60)
    assert sorted(t["title"] for t in items) == [t["title"] for t in threads]
    assert {t["title"] for t in items if t["pinned"]} == pinned
    assert {t["title"] for t in items if t["locked"]} == locked
    by_title = {t["title"]: t for t in items}

    async def replies_backfilled() -> None:
        for title, expected in replies.items():
            tree = await b.get(f"/api/v1/posts/{by_title[title]['id']}")
            found = [r["content"] for r in tree["replies"]]
            found += [rr["content"] for r in tree["replies"] for rr in r["replies"]]
            assert found == expected, (title, tree)

    await eventually(replies_backfilled, timeout=30)
    group_b = await b.get(f"/api/v1/groups/{ref}", bert)
    assert group_b["thread_count"] == 30 and group_b["post_count"] == 40
    async with b.ctx.pool.acquire() as conn:
        cached = await actor_store.by_ap_id(conn, f"{a.server.url}/groups/breitband")
        assert cached is not None
        job = await backfill_store.by_group(conn, cached.id)
    assert job is not None and job.state == "done" and job.resume_url is None
    assert (job.threads, job.replies) == (30, 10), job


async def test_a_backfill_stopped_by_its_cap_goes_on_where_it_stopped(
        instance: Instance) -> None:
    server_a = await instance(workers=1)
    server_b = await instance()  # no workers: B's queues run only when the test says so
    async with httpx.AsyncClient(base_url=server_a.url) as ca, \
            httpx.AsyncClient(base_url=server_b.url) as cb:
        a, b = Side(server_a, ca), Side(server_b, cb)
        group = await make_group(a.ctx, "breitband")
        anna = await make_user(a.ctx, "anna")
        threads = await threads_on_a(a, anna, 25)  # two outbox pages (20 + 5)
        bert = await make_user(b.ctx, "bert")
        ref = f"breitband@{a.host}"
        clock = FakeClock()
        await b.call("POST", f"/api/v1/groups/{ref}/follow", bert)
        await run_once(b.ctx, clock=clock)  # sends the Follow

        async def accept_arrived() -> None:
            async with b.ctx.pool.acquire() as conn:
                assert await conn.fetchval("SELECT count(*) FROM inbox_activities"
                                           " WHERE type = 'Accept'") == 1

        await eventually(accept_arrived)
        clock.now = max(clock.now, datetime.now(UTC) + timedelta(seconds=5))
        await Worker(b.ctx.pool, [InboundQueue(b.ctx, clock=clock)], concurrency=2).run_once()
        async with b.ctx.pool.acquire() as conn:
            cached = await actor_store.by_ap_id(conn, group.ap_id)
            assert cached is not None

        backfills = BackfillQueue(b.ctx, clock=clock, threads_per_run=10, pause=30)

        async def run() -> backfill_store.BackfillJob:
            await Worker(b.ctx.pool, [backfills], concurrency=1).run_once()
            async with b.ctx.pool.acquire() as conn:
                job = await backfill_store.by_group(conn, cached.id)
            assert job is not None
            return job

        async def titles() -> list[str]:
            return sorted(t["title"] for t in await all_threads(b, ref))

        newest = sorted(t["title"] for t in threads)
        job = await run()
        # The cap ends the run, not the backfill: queued again to go on from the page.
        assert (job.state, job.threads, job.runs) == ("queued", 10, 1), job
        assert job.resume_url == f"{group.ap_id}/outbox?page=true"
        assert job.next_attempt_at == clock.now + timedelta(seconds=30)
        assert await titles() == newest[-10:]
        assert await run() == job  # not due yet

        clock.now += timedelta(seconds=31)
        job = await run()
        assert (job.state, job.threads, job.runs) == ("queued", 20, 2), job
        assert job.resume_url is not None and "page=before-" in job.resume_url
        assert await titles() == newest[-20:]

        clock.now += timedelta(seconds=31)
        job = await run()
        assert (job.state, job.threads, job.runs, job.resume_url) == ("done", 25, 3, None)
        assert await titles() == newest


async def test_backfill_all_copies_a_groups_history_in_one_call(
        sides: tuple[Side, Side]) -> None:
    """The entry point for callers that need the history now (a moved group): run after
    run until the last outbox page, no job and no follower needed."""
    a, b = sides
    group = await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")
    threads = await threads_on_a(a, anna, 23)
    await a.call("POST", f"/api/v1/posts/{threads[0]['id']}/replies", anna, status=201,
                 json={"content": "Eine Antwort"})
    ref = f"breitband@{a.host}"
    await b.get(f"/api/v1/groups/{ref}")  # cached here, nobody follows it
    async with b.ctx.pool.acquire() as conn:
        cached = await actor_store.by_ap_id(conn, group.ap_id)
    assert cached is not None
    result = await backfill_all(b.ctx, cached)
    assert (result.threads, result.replies, result.resume_url) == (23, 1, None), result
    assert sorted(t["title"] for t in await all_threads(b, ref)) == sorted(
        t["title"] for t in threads)
    again = await backfill_all(b.ctx, cached)  # nothing twice
    assert (again.threads, again.replies) == (0, 0)
