"""``fedi notifications send-digests --now`` as the real command, run twice at once and a
third time, beside two real ``fedi worker`` processes (which run the digest scheduler
themselves): each person gets exactly one digest with the expected items, at a real SMTP
server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import notification_mail as service
from fedi.forum.posts import create_reply, create_thread
from storage import notification_mail as store
from tests.conftest import free_port, make_settings
from tests.support.helpers import make_group, make_user
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(free_port()), pool=pool, http=http)


def _env(ctx: Context, dsn: str, smtp: SmtpServer) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": dsn, "FEDI_BASE_URL": ctx.settings.base_url,
            "FEDI_ALLOW_PRIVATE_ADDRESSES": "1", "FEDI_DEMO": "0",
            "FEDI_LOG_LEVEL": "WARNING", "FEDI_SMTP_URL": smtp.url}


async def _send_digests(env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fedi.cli", "notifications", "send-digests", "--now",
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_send_digests_twice_beside_two_workers_sends_each_digest_once(
        ctx: Context, dsn: str, smtp: SmtpServer, tmp_path: Path) -> None:
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    group = await make_group(ctx)
    thread = await create_thread(ctx, author=anna.actor, group=group,
                                 title="Wann kommt Glasfaser?", content="Weiß es jemand?")
    replies = [await create_reply(ctx, author=ben.actor, parent=thread,
                                  content=f"Antwort {n}") for n in range(3)]
    async with ctx.pool.acquire() as conn:
        # Only the notices below: not the ones the notification worker would make.
        await conn.execute("DELETE FROM notification_events")
        await service.update_preferences(conn, ben.account.id, modes={"default": "weekly"})
        for n, reply in enumerate(replies):
            await conn.execute(
                "INSERT INTO notifications (account_id, type, actor_id, post_id, thread_id,"
                " group_id, dedupe_key) VALUES ($1, 'reply', $2, $3, $4, $5, $6)",
                anna.account.id, ben.actor.id, reply.id, thread.id, group.id, f"r{n}")
        await conn.execute(
            "INSERT INTO notifications (account_id, type, actor_id, post_id, thread_id,"
            " group_id, dedupe_key) VALUES ($1, 'mention', $2, $3, $3, $4, 'm')",
            ben.account.id, anna.actor.id, thread.id, group.id)

    env = _env(ctx, dsn, smtp)
    logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "fedi.cli", "worker", "--concurrency", "4", env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out))
    try:
        outputs = await asyncio.gather(_send_digests(env), _send_digests(env))
        outputs.append(await _send_digests(env))
        queued = sum(int(o.split()[-3]) for o in outputs)
        assert queued == 2, outputs
        await smtp.wait_for(2, seconds=30)
        await asyncio.sleep(3)  # time for a (wrong) second copy to arrive
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
    tails = "\n".join(log.read_text()[-2000:] for log in logs)
    assert len(smtp.inbox) == 2, tails
    (annas,) = [m for m in smtp.inbox if m.recipients == ["anna@example.org"]]
    (bens,) = [m for m in smtp.inbox if m.recipients == ["ben@example.org"]]
    assert "tägliche Zusammenfassung" in annas.message["Subject"]
    assert annas.text.count("Ben hat auf Ihren Beitrag in „Wann kommt Glasfaser?“") == 3
    for reply in replies:
        assert f"{ctx.settings.base_url}/posts/{thread.id}#post-{reply.id}" in annas.text
    assert "wöchentliche Zusammenfassung" in bens.message["Subject"]
    assert "Anna hat Sie in „Wann kommt Glasfaser?“ erwähnt." in bens.text
    assert f"{ctx.settings.base_url}/posts/{thread.id}" in bens.text.split()
    async with ctx.pool.acquire() as conn:
        assert [items for _, items in await store.digests_of(conn, anna.account.id)] == [3]
        assert [items for _, items in await store.digests_of(conn, ben.account.id)] == [1]
