"""Two real ``fedi worker`` processes on one database share the delivery queue: every
activity reaches the receiver exactly once, and both stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from fedi.actors import create_local_actor
from fedi.context import Context
from fedi.outbox import enqueue_activity, new_activity_id
from storage import deliveries as delivery_store
from tests.conftest import LiveServer, free_port, make_settings
from tests.receivers import Receiver

ACTIVITIES = 1000


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(free_port()), pool=pool, http=http)


async def start_worker(ctx: Context, dsn: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "FEDI_BASE_URL": ctx.settings.base_url,
        "FEDI_ALLOW_PRIVATE_ADDRESSES": "1",
        "FEDI_DEMO": "0",
        "FEDI_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fedi.cli", "worker", "--concurrency", "8",
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )


async def test_two_worker_processes_deliver_each_activity_exactly_once(
    ctx: Context,
    dsn: str,
    live_server: Callable[[Callable[[int], Starlette]], Awaitable[LiveServer]],
    tmp_path: Path,
) -> None:
    async with ctx.pool.acquire() as conn:
        actor = await create_local_actor(conn, ctx, type_="Group", username="rathaus",
                                         name="Rathaus")
    assert actor.public_key_id and actor.public_key_pem
    receivers = [Receiver({actor.public_key_id: actor.public_key_pem}) for _ in range(2)]
    urls = [(await live_server(receiver.serve)).url for receiver in receivers]

    async def enqueue(numbers: range) -> list[str]:
        ids: list[str] = []
        async with ctx.pool.acquire() as conn, conn.transaction():
            for n in numbers:
                activity: dict[str, Any] = {
                    "id": new_activity_id(ctx), "type": "Create", "actor": actor.ap_id,
                    "object": {"id": f"{ctx.settings.base_url}/posts/{n}", "type": "Note",
                               "content": f"Nr. {n}"},
                }
                await enqueue_activity(conn, ctx, actor=actor, activity=activity,
                                       inboxes=[f"{urls[n % 2]}/inbox"])
                ids.append(activity["id"])
        return ids

    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    expected = await enqueue(range(ACTIVITIES // 2))  # waiting before the workers start
    workers = [await start_worker(ctx, dsn, log) for log in logs]
    try:
        expected += await enqueue(range(ACTIVITIES // 2, ACTIVITIES))  # while they run
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while sum(r.total for r in receivers) < ACTIVITIES:
            if loop.time() > deadline or any(w.returncode is not None for w in workers):
                details = "\n".join(log.read_text()[-2000:] for log in logs)
                raise AssertionError(
                    f"{sum(r.total for r in receivers)} of {ACTIVITIES} arrived\n{details}"
                )
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        codes: list[int | str] = []
        for worker in workers:
            try:
                codes.append(await asyncio.wait_for(worker.wait(), timeout=20))
            except TimeoutError:
                worker.kill()
                await worker.wait()
                codes.append("killed")
    assert codes == [0, 0], "\n".join(log.read_text()[-2000:] for log in logs)

    for n, receiver in enumerate(receivers):
        mine = {("/inbox", aid) for i, aid in enumerate(expected) if i % 2 == n}
        assert set(receiver.accepted) == mine  # none missing, none foreign
        assert set(receiver.accepted.values()) == {1}  # no duplicate
        assert receiver.unsigned == 0
    async with ctx.pool.acquire() as conn:
        counts = await delivery_store.state_counts(conn)
    assert counts["delivered"] == ACTIVITIES and counts["queued"] == 0
