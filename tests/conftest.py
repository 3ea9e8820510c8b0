"""Shared fixtures: one PostgreSQL per test session, a fresh database per test cloned from a
migrated template, the app over httpx's ASGI transport, and real uvicorn servers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from fedi.app import create_app
from fedi.core.config import Settings
from tests.support.databases import create_database

TESTS = Path(__file__).resolve().parent
TEMPLATE_DB = "demisa_template"
_db_counter = itertools.count(1)


@pytest.fixture(scope="session")
def test_key_pem() -> str:
    """The checked-in RSA test key (tests/data/test-key.pem)."""
    return (TESTS / "data" / "test-key.pem").read_text()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """DSN of the maintenance database of the session's PostgreSQL server."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    from storage.embedded import start_embedded

    folder = Path(tempfile.mkdtemp(prefix="demisa-test-pg-"))
    embedded = start_embedded(folder)
    try:
        yield embedded.dsn
    finally:
        embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_dsn(postgres_server: str) -> str:
    """A migrated template database, built once per session."""
    return await create_database(postgres_server, TEMPLATE_DB)


async def _fresh_database(postgres_server: str) -> str:
    name = f"demisa_test_{os.getpid()}_{next(_db_counter)}"
    return await create_database(postgres_server, name, template=TEMPLATE_DB)


@pytest.fixture
async def new_database(postgres_server: str, template_dsn: str) -> Callable[[], Awaitable[str]]:
    """Factory: each call returns the DSN of another fresh, migrated database."""

    async def make() -> str:
        return await _fresh_database(postgres_server)

    return make


@pytest.fixture
async def dsn(new_database: Callable[[], Awaitable[str]]) -> str:
    """A fresh, migrated database for this test."""
    return await new_database()


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    from storage.db import create_pool

    p = await create_pool(dsn, min_size=1, max_size=5)
    try:
        yield p
    finally:
        await p.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_settings(port: int = 8000, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": f"http://127.0.0.1:{port}",
        "database_url": None,
        "data_dir": Path("/nonexistent"),
        "allow_private_addresses": True,
        "instance_name": "Teststadt",
        "log_level": "WARNING",
        "workers": 0,
        "demo": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def app_client(dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app (no workers) over httpx's ASGI transport, lifespan running."""
    settings = make_settings()
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


class LiveServer:
    """A real uvicorn server on a loopback port, running in this event loop."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(500):
            if self.server.started:
                return
            if self._task.done():
                self._task.result()
                raise RuntimeError("server exited during start-up")
            await asyncio.sleep(0.01)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@pytest.fixture
async def live_server() -> AsyncIterator[Callable[..., Awaitable[LiveServer]]]:
    """Factory: ``await live_server(app_factory)`` where ``app_factory(port)`` builds the app."""
    servers: list[LiveServer] = []

    async def start(build: Callable[[int], Starlette]) -> LiveServer:
        port = free_port()
        server = LiveServer(build(port), port)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        await server.stop()


@pytest.fixture
async def instance(
    new_database: Callable[[], Awaitable[str]],
    live_server: Callable[..., Awaitable[LiveServer]],
) -> Callable[..., Awaitable[LiveServer]]:
    """Factory: a full dEMiSA instance (own database, own port) served by uvicorn."""

    async def start(*, workers: int = 0, **overrides: Any) -> LiveServer:
        instance_dsn = await new_database()

        def build(port: int) -> Starlette:
            settings = make_settings(port, workers=workers, **overrides)
            return create_app(settings, instance_dsn)

        server = await live_server(build)
        server.dsn = instance_dsn  # type: ignore[attr-defined]
        return server

    return start
