"""Real ``fedi worker`` processes on one database share the delivery queue: two of them
deliver every activity exactly once and stop cleanly on SIGTERM; workers killed with
SIGKILL in the middle of a fan-out lose nothing, and what they were sending follows again
within seconds."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from storage import deliveries as delivery_store
from storage import media as media_store
from tests.conftest import LiveServer, free_port, make_settings
from tests.support.receivers import Receiver

ACTIVITIES = 1000


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(free_port()), pool=pool, http=http)


async def start_worker(ctx: Context, dsn: str, log: Path, *, data_dir: Path | None = None
                       ) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        **({"FEDI_DATA_DIR": str(data_dir)} if data_dir is not None else {}),
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


class TimedReceiver(Receiver):
    """A receiver that also notes when each copy of an activity arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: dict[tuple[str, str], list[float]] = {}

    async def inbox(self, request: Request) -> Response:
        response = await super().inbox(request)
        if 200 <= response.status_code < 300:
            key = (request.url.path, json.loads(await request.body())["id"])
            self.arrivals.setdefault(key, []).append(time.monotonic())
        return response


FANOUT = 300


def tails(logs: list[Path]) -> str:
    return "\n".join(log.read_text()[-2000:] for log in logs if log.exists())


async def test_killed_workers_lose_nothing_and_their_duplicates_follow_within_seconds(
    ctx: Context,
    dsn: str,
    live_server: Callable[[Callable[[int], Starlette]], Awaitable[LiveServer]],
    tmp_path: Path,
) -> None:
    """kill -9 of a real ``fedi worker`` in the middle of a 300-inbox fan-out, twice: the
    other (or a restarted) worker finishes; a send that was under way when its worker died
    is sent again (at least once), and that copy follows within seconds, not after the old
    5-minute lease."""
    async with ctx.pool.acquire() as conn:
        actor = await create_local_actor(conn, ctx, type_="Group", username="rathaus",
                                         name="Rathaus")
    assert actor.public_key_id and actor.public_key_pem
    keys = {actor.public_key_id: actor.public_key_pem}
    # Slow hosts, so every worker has sends under way when it is killed.
    receivers = [TimedReceiver(keys, delay=0.3) for _ in range(3)]
    urls = [(await live_server(receiver.serve)).url for receiver in receivers]
    inboxes = [f"{urls[i % 3]}/users/u{i}/inbox" for i in range(FANOUT)]
    activity: dict[str, Any] = {"id": new_activity_id(ctx), "type": "Announce",
                                "actor": actor.ap_id,
                                "object": f"{ctx.settings.base_url}/posts/1"}
    async with ctx.pool.acquire() as conn, conn.transaction():
        await enqueue_activity(conn, ctx, actor=actor, activity=activity, inboxes=inboxes)

    def arrived() -> int:
        return sum(len(r.arrivals) for r in receivers)

    loop = asyncio.get_running_loop()

    async def until(count: int, seconds: float = 60) -> None:
        deadline = loop.time() + seconds
        while arrived() < count:
            if loop.time() > deadline:
                raise AssertionError(f"{arrived()} of {count} arrived in {seconds} s\n"
                                     f"{tails(logs)}")
            await asyncio.sleep(0.02)

    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2, 3)]
    started = time.monotonic()
    first = await start_worker(ctx, dsn, logs[0])
    second = await start_worker(ctx, dsn, logs[1])
    workers = [first, second]
    try:
        await until(FANOUT // 3)
        first.kill()  # SIGKILL: no clean stop, its claims are left behind
        await first.wait()
        third = await start_worker(ctx, dsn, logs[2])
        workers.append(third)
        await until(2 * FANOUT // 3)
        second.kill()
        await second.wait()
        await until(FANOUT)
        async with ctx.pool.acquire() as conn:
            while (await delivery_store.state_counts(conn))["queued"]:
                assert loop.time() - started < 90, "deliveries are still queued"
                await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.wait_for(worker.wait(), timeout=20)
            except TimeoutError:
                worker.kill()
                await worker.wait()
    took = time.monotonic() - started

    copies = [times for r in receivers for times in r.arrivals.values()]
    duplicates = sum(len(times) - 1 for times in copies)
    delays = [times[-1] - times[0] for times in copies if len(times) > 1]
    print(f"\nkill -9 twice during a {FANOUT}-inbox fan-out: {FANOUT} deliveries,"
          f" {duplicates} duplicates ({duplicates / FANOUT:.1%}), longest wait of a"
          f" duplicate {max(delays, default=0.0):.1f} s, all delivered in {took:.1f} s")
    for receiver, url in zip(receivers, urls, strict=True):
        expected = {(inbox.removeprefix(url), activity["id"]) for inbox in inboxes
                    if inbox.startswith(url + "/")}
        assert set(receiver.arrivals) == expected  # nothing lost, nothing foreign
        assert receiver.unsigned == 0
    # A duplicate follows its first copy within seconds: the old lease made it 300 s.
    assert max(delays, default=0.0) < 60
    async with ctx.pool.acquire() as conn:
        counts = await delivery_store.state_counts(conn)
    assert counts["delivered"] == FANOUT


async def test_a_worker_process_runs_the_periodic_jobs(
        ctx: Context, dsn: str, tmp_path: Path) -> None:
    """``fedi worker`` (what runs the queues beside ``fedi serve --no-workers``) also runs
    the periodic jobs: here the cleanup of an upload nothing used for two days, whose
    file it deletes."""
    async with ctx.pool.acquire() as conn:
        owner = await create_local_actor(conn, ctx, type_="Person", username="anna",
                                         name="Anna")
        upload = await media_store.insert(conn, {
            "owner_id": owner.id, "content_hash": "ab" * 32, "kind": "document",
            "media_type": "text/plain", "size": 5, "alt": None, "filename": "notiz.txt",
            "stored_name": "ab" * 32 + ".txt", "preview_name": None})
        await conn.execute("UPDATE media SET created_at = now() - interval '2 days'"
                           " WHERE id = $1", upload.id)
    folder = tmp_path / "data" / "media"
    folder.mkdir(parents=True)
    (folder / upload.stored_name).write_bytes(b"Hallo")
    log = tmp_path / "worker.log"
    worker = await start_worker(ctx, dsn, log, data_dir=tmp_path / "data")
    try:
        for _ in range(300):
            async with ctx.pool.acquire() as conn:
                if await conn.fetchval("SELECT count(*) FROM media") == 0:
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the upload is still there\n{log.read_text()}")
        assert not (folder / upload.stored_name).exists()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 30) == 0, log.read_text()
