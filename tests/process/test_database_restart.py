"""PostgreSQL restarts under a running ``fedi serve`` (with its in-process workers) and a
running ``fedi worker``: both reconnect by themselves, and posts made afterwards reach a
real receiver on loopback, delivered once by the serve process's workers and once by the
worker process alone."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from storage import actors as actor_store
from storage import follows as follow_store
from storage.db import create_pool
from tests.conftest import LiveServer, free_port, make_settings
from tests.support.databases import create_database
from tests.support.helpers import make_group, make_user
from tests.support.outages import OwnPostgres, own_postgres
from tests.support.receivers import Receiver

Start = Callable[[Callable[[int], Starlette]], Awaitable[LiveServer]]


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    with own_postgres() as server:
        yield server


@pytest.fixture
async def database(postgres: OwnPostgres) -> str:
    return await create_database(postgres.dsn, "demisa")


def _env(dsn: str, port: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": dsn, "FEDI_BASE_URL": f"http://127.0.0.1:{port}",
            "FEDI_ALLOW_PRIVATE_ADDRESSES": "1", "FEDI_DEMO": "0", "FEDI_WORKERS": "2",
            "FEDI_LOG_LEVEL": "INFO"}


async def _spawn(args: list[str], env: dict[str, str], log: Path
                 ) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fedi.cli", *args, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)


async def _stop(process: asyncio.subprocess.Process, signum: int) -> int:
    if process.returncode is None:
        process.send_signal(signum)
    try:
        return await asyncio.wait_for(process.wait(), timeout=30)
    except TimeoutError:
        process.kill()
        await process.wait()
        return -9


async def _until(what: str, check: Callable[[], Awaitable[bool]], logs: list[Path],
                 seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
            raise AssertionError(f"{what}: not within {seconds} s\n{tails}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def test_serve_and_worker_deliver_again_after_postgres_restarts(
    postgres: OwnPostgres, database: str, live_server: Start, tmp_path: Path,
    http: httpx.AsyncClient,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pool = await create_pool(database, min_size=1, max_size=2)
    ctx = Context(settings=make_settings(port), pool=pool, http=http)
    anna = await make_user(ctx, "anna")
    group = await make_group(ctx)
    assert group.public_key_id and group.public_key_pem
    receiver = Receiver({group.public_key_id: group.public_key_pem})
    remote = (await live_server(receiver.serve)).url
    async with pool.acquire() as conn:
        eve = await actor_store.upsert_remote(conn, f"{remote}/users/eve", {
            "type": "Person", "username": "eve", "domain": remote.removeprefix("http://"),
            "inbox": f"{remote}/users/eve/inbox"})
        await follow_store.upsert(conn, follower_id=eve.id, target_id=group.id,
                                  ap_id=f"{remote}/follows/1", state="accepted")
    await pool.close()

    logs = [tmp_path / "serve.log", tmp_path / "worker.log"]
    serve = await _spawn(["serve", "--port", str(port)], _env(database, port), logs[0])
    worker = await _spawn(["worker", "--concurrency", "2"], _env(database, port), logs[1])
    try:
        async def healthy() -> bool:
            assert serve.returncode is None and worker.returncode is None, "a process ended"
            try:
                return (await http.get(f"{base}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await _until("fedi serve healthy", healthy, logs)
        await asyncio.sleep(1)  # the worker process is up and listening too

        await asyncio.to_thread(postgres.crash)
        await asyncio.sleep(1)
        await asyncio.to_thread(postgres.start)

        # 1. The worker process is frozen: only the serve process's workers can deliver.
        worker.send_signal(signal.SIGSTOP)
        try:
            async def post() -> bool:
                answer = await http.post(
                    f"{base}/api/v1/groups/breitband/threads", headers=anna.headers,
                    json={"title": "Nach dem Neustart", "content": "Kommt das an?"})
                # While the server reconnects: 503 (try again), never a 500.
                assert answer.status_code in (201, 503), answer.text
                return answer.status_code == 201

            assert receiver.total == 0
            await _until("a post accepted after the restart", post, logs)

            async def delivered() -> bool:
                return receiver.total > 0  # the group's Announce of the new thread

            await _until("the serve process delivered the post", delivered, logs)
            await _until("fedi serve healthy after the restart", healthy, logs)
        finally:
            worker.send_signal(signal.SIGCONT)

        # 2. The serve process is gone: only the worker process can deliver.
        assert await _stop(serve, signal.SIGINT) == 0, logs[0].read_text()[-3000:]
        pool = await create_pool(database, min_size=1, max_size=2)
        ctx = Context(settings=make_settings(port), pool=pool, http=http)
        try:
            async with pool.acquire() as conn, conn.transaction():
                activity = {"id": new_activity_id(ctx), "type": "Announce",
                            "actor": group.ap_id, "object": f"{base}/posts/1"}
                await enqueue_activity(conn, ctx, actor=group, activity=activity,
                                       inboxes=[f"{remote}/users/eve/inbox"])
        finally:
            await pool.close()

        async def worker_delivered() -> bool:
            assert worker.returncode is None, "the worker process ended"
            return receiver.count(activity["id"]) == 1

        await _until("the worker process delivered", worker_delivered, logs)
        assert await _stop(worker, signal.SIGTERM) == 0, logs[1].read_text()[-3000:]
    finally:
        await _stop(serve, signal.SIGINT)
        await _stop(worker, signal.SIGTERM)
    assert receiver.unsigned == 0
    for log in logs:  # both noticed that their LISTEN connection died and made a new one
        assert "listening again" in log.read_text(), log.read_text()[-3000:]


async def test_a_worker_started_while_postgres_is_down_waits_for_it(
        postgres: OwnPostgres, database: str, tmp_path: Path) -> None:
    """``fedi worker`` started while PostgreSQL is down (a host rebooting, a database
    restarting) waits for it instead of exiting, then runs: it registers in the queue
    workers' table once the server is back."""
    postgres.crash()
    log = tmp_path / "worker.log"
    worker = await _spawn(["worker", "--concurrency", "1"], _env(database, free_port()), log)
    try:
        async def waiting() -> bool:
            assert worker.returncode is None, log.read_text()[-3000:]
            return "database unreachable" in log.read_text()

        await _until("the worker says it waits", waiting, [log])
        await asyncio.sleep(1)
        assert worker.returncode is None, log.read_text()[-3000:]  # still there, waiting
        postgres.start()

        async def registered() -> bool:
            assert worker.returncode is None, log.read_text()[-3000:]
            try:
                conn = await asyncpg.connect(database)
            except (OSError, asyncpg.PostgresError):
                return False
            try:
                return bool(await conn.fetchval("SELECT count(*) FROM queue_workers"))
            finally:
                await conn.close()

        await _until("the worker runs once PostgreSQL is back", registered, [log])
        assert await _stop(worker, signal.SIGTERM) == 0, log.read_text()[-3000:]
    finally:
        await _stop(worker, signal.SIGKILL)
