"""Two real ``fedi serve`` processes on one database enforce ONE log-in limit (issue 17):
the counts live in PostgreSQL (fedi/core/ratelimit.py), not in each process's memory, so
attempts alternated between the processes are counted together."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.web.account_pages import LOGIN_LIMIT
from tests.conftest import free_port, make_settings
from tests.support.helpers import make_user

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _start(dsn: str, port: int, base_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": dsn, "FEDI_BASE_URL": base_url,
           "FEDI_ALLOW_PRIVATE_ADDRESSES": "1", "FEDI_DEMO": "0", "FEDI_LOG_LEVEL": "WARNING"}
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fedi.cli", "serve", "--no-workers", "--port", str(port),
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)


def _read(log: Path) -> str:
    return log.read_text()  # only when the test fails


async def _wait_healthy(client: httpx.AsyncClient, url: str,
                        process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.returncode is None, _read(log)
        try:
            if (await client.get(f"{url}/healthz", timeout=2)).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"fedi serve did not become healthy in 60 s: {_read(log)}")


@pytest.fixture
async def two_servers(dsn: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two ``fedi serve`` processes on the test's database, behind one public URL (as
    behind a load balancer); their own URLs."""
    ports = [free_port(), free_port()]
    base_url = f"http://127.0.0.1:{ports[0]}"
    logs = [tmp_path / f"serve-{n}.log" for n in (1, 2)]
    processes = [await _start(dsn, port, base_url, log)
                 for port, log in zip(ports, logs, strict=True)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as client:
            for url, process, log in zip(urls, processes, logs, strict=True):
                await _wait_healthy(client, url, process, log)
        yield urls
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_log_in_attempts_alternated_between_two_processes_hit_one_limit(
    pool: asyncpg.Pool, two_servers: list[str]
) -> None:
    async with httpx.AsyncClient() as http:
        await make_user(Context(settings=make_settings(), pool=pool, http=http), "alice")
    attempts, _window = LOGIN_LIMIT
    first, second = two_servers
    # One browser: its CSRF cookie (double submit, no server secret) works on both.
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(f"{first}/login")
        token = _CSRF.search(page.text)
        assert token is not None, page.text
        form = {"username": "alice", "password": "wrong password!",
                "csrf_token": token.group(1)}
        statuses = []
        for n in range(attempts):
            answer = await browser.post(f"{(first, second)[n % 2]}/login", data=form)
            statuses.append(answer.status_code)
        # Each process saw only half of the attempts; the limit counts them all.
        assert statuses == [401] * attempts
        for url in (second, first):
            refused = await browser.post(f"{url}/login", data=form)
            assert refused.status_code == 429, refused.text
            assert "Zu viele Versuche" in refused.text  # the translated message
            assert int(refused.headers["retry-after"]) > 0
        # The JSON API counts in the same bucket, on either process, in the reader's language.
        api = await browser.post(f"{second}/api/v1/auth/token",
                                 json={"username": "alice", "password": "correct horse battery"},
                                 headers={"Accept-Language": "en"})
        assert api.status_code == 429, api.text
        assert api.json()["error"] == "rate_limited"
        assert api.json()["message"].startswith("Too many attempts")
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT cardinality(hits) AS n FROM rate_limits "
                                  "WHERE action = 'login'")
    assert row is not None and row["n"] == attempts
