"""Queues that batch (fedi/core/queue.py): one claim statement takes many rows and keeps the
slots full from them, two workers never hold the same row, and outcomes written in
batches lose nothing when a worker dies before writing them (the jobs run once more).

The policy here is a real one over ``inbox_activities`` (its claim and batched outcome
statements from storage/inbox.py) whose processing only counts, so what is checked is the
runner itself."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from fedi.core.queue import LEASE, OutcomeBuffer, Worker
from storage import inbox as inbox_store
from storage import queue as queue_store
from storage.inbox import InboxActivity, InboxState, Outcome


def utc_now() -> datetime:
    return datetime.now(UTC)


class Counting:
    """Claims inbox rows, counts each processing, records ``done`` in batches."""

    table = queue_store.INBOX

    def __init__(self, pool: asyncpg.Pool, *, outcome_delay: float = 0.01,
                 gate: asyncio.Event | None = None) -> None:
        self.lease: timedelta = LEASE
        self.clock = utc_now
        self.gate = gate
        self.claims: list[tuple[int, int]] = []  # (limit, rows) per claim statement
        self.processed: Counter[int] = Counter()
        self.running = 0
        self.most_running = 0
        self.outcomes: OutcomeBuffer[Outcome] = OutcomeBuffer(
            pool, inbox_store.record_outcomes, size=10_000, delay=outcome_delay)

    async def claim(self, conn: object, worker: uuid.UUID, limit: int
                    ) -> Sequence[InboxActivity]:
        jobs = await inbox_store.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                       lease=self.lease)
        self.claims.append((limit, len(jobs)))
        return jobs

    async def process(self, job: InboxActivity, stopping: asyncio.Event) -> bool:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0.002)
            self.processed[job.id] += 1
            self.outcomes.add(job.id, Outcome(job.id, InboxState.DONE))
            return True
        finally:
            self.running -= 1


async def add_rows(pool: asyncpg.Pool, count: int) -> list[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "INSERT INTO inbox_activities (ap_id, type, actor_ap_id, payload)"
            " SELECT 'https://social.example/a/' || n, 'Like', 'https://social.example/u',"
            " '{}'::jsonb FROM generate_series(1, $1) AS n RETURNING id", count)
    return [r["id"] for r in rows]


async def states(pool: asyncpg.Pool) -> Counter[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT state, count(*) AS n FROM inbox_activities"
                                " GROUP BY state")
    return Counter({r["state"]: int(r["n"]) for r in rows})


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_one_statement_claims_many_rows_and_keeps_the_slots_full(
    pool: asyncpg.Pool
) -> None:
    ids = await add_rows(pool, 40)
    gate = asyncio.Event()
    policy = Counting(pool, gate=gate)
    worker = Worker(pool, [policy], concurrency=3, prefetch=12, poll_seconds=0.2)
    await worker.start()
    try:
        async def held() -> bool:
            async with pool.acquire() as conn:
                return len(await queue_store.held(conn, queue_store.INBOX)) == 12

        await wait_for(held)
        # One statement took 12 rows for this worker; 3 of them run, 9 wait ready.
        assert policy.claims[0] == (12, 12)

        # The claim is recorded before its jobs start: wait for them to take the slots.
        async def three_running() -> bool:
            return policy.running == 3

        await wait_for(three_running)
        gate.set()

        async def drained() -> bool:
            return (await states(pool))["done"] == len(ids)

        await wait_for(drained)
    finally:
        await worker.stop()
    assert sorted(policy.processed) == ids and set(policy.processed.values()) == {1}
    # 40 rows in claims of several rows each (prefetch 12, refilled when half are left),
    # not one claim per finished job; every slot was used.
    taken = [rows for _, rows in policy.claims if rows]
    assert sum(taken) == len(ids) and len(taken) <= 8 and min(taken[:-1]) >= 6
    assert policy.most_running == 3


async def test_two_workers_never_claim_the_same_row(pool: asyncpg.Pool) -> None:
    ids = await add_rows(pool, 300)
    policies = [Counting(pool), Counting(pool)]
    workers = [Worker(pool, [p], concurrency=4, prefetch=16, poll_seconds=0.2)
               for p in policies]
    for worker in workers:
        await worker.start()
    try:
        async def drained() -> bool:
            return (await states(pool))["done"] == len(ids)

        await wait_for(drained)
    finally:
        for worker in workers:
            await worker.stop()
    first, second = (set(p.processed) for p in policies)
    assert first and second  # both took part
    assert not first & second
    assert sorted(first | second) == ids
    assert all(n == 1 for p in policies for n in p.processed.values())
    async with pool.acquire() as conn:
        assert await queue_store.held(conn, queue_store.INBOX) == {}


async def _crash(worker: Worker) -> None:
    """The worker dies as a killed process does: its tasks end, nothing is flushed,
    released or signed off."""
    tasks = [worker._loop_task, worker._beat_task, *worker._tasks]
    for queue in worker.queues:
        buffer = getattr(queue, "outcomes", None)
        if buffer is not None:
            tasks.append(buffer._task)
    for task in tasks:
        if task is not None:
            task.cancel()
    await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
    await worker._unlisten()


async def test_a_crash_between_processing_and_writing_the_outcomes_reruns_each_job_once(
    pool: asyncpg.Pool
) -> None:
    ids = await add_rows(pool, 30)
    # The dying worker holds its outcomes for a minute: they are never written.
    dying = Counting(pool, outcome_delay=60)
    first = Worker(pool, [dying], concurrency=4, heartbeat_seconds=0.2, poll_seconds=0.2)
    await first.start()

    async def all_processed() -> bool:
        return sum(dying.processed.values()) == len(ids)

    await wait_for(all_processed)
    assert sorted(dying.outcomes.held()) == ids
    # Its leases are renewed while the outcomes wait.
    await asyncio.sleep(0.5)
    async with pool.acquire() as conn:
        held = await queue_store.held(conn, queue_store.INBOX)
    assert set(held) == set(ids) and set(held.values()) == {first.id}
    assert (await states(pool))["done"] == 0

    await _crash(first)
    survivor = Counting(pool)
    second = Worker(pool, [survivor], concurrency=4, heartbeat_seconds=0.2,
                    poll_seconds=0.2, dead_after=timedelta(seconds=1))
    await second.start()
    try:
        async def drained() -> bool:
            return (await states(pool))["done"] == len(ids)

        await wait_for(drained)
    finally:
        await second.stop()
    # Nothing lost; each job ran once more, no more.
    assert sorted(survivor.processed) == ids
    assert set(survivor.processed.values()) == {1}
    async with pool.acquire() as conn:
        attempts = await conn.fetch("SELECT DISTINCT attempts FROM inbox_activities")
    assert [r["attempts"] for r in attempts] == [1]


async def test_a_clean_stop_writes_the_outcomes_it_holds(pool: asyncpg.Pool) -> None:
    ids = await add_rows(pool, 10)
    policy = Counting(pool, outcome_delay=60)
    worker = Worker(pool, [policy], concurrency=4, poll_seconds=0.2)
    await worker.start()

    async def all_processed() -> bool:
        return sum(policy.processed.values()) == len(ids)

    await wait_for(all_processed)
    assert (await states(pool))["done"] == 0
    await worker.stop()
    assert (await states(pool)) == Counter({"done": len(ids)})
    async with pool.acquire() as conn:
        assert await queue_store.held(conn, queue_store.INBOX) == {}
