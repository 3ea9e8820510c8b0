"""Helpers for tests with dEMiSA instances talking to each other on loopback: a polling
``eventually``, a :class:`Side` (one instance and an HTTP client for its API), ``idle``
(nothing left to process anywhere) and ``join`` (follow a remote group and wait for the
Accept). Shared by tests/federation/test_two_instances.py, the moderation federation tests and the
interop suite."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from fedi.core.context import Context
from tests.conftest import LiveServer
from tests.support.helpers import User

T = TypeVar("T")

Instance = Callable[..., Awaitable[LiveServer]]


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 15) -> T:  # noqa: ASYNC109 (a poll deadline)
    """Run ``check`` until it stops failing an assertion; its last failure after
    ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if loop.time() > deadline:
                raise
        await asyncio.sleep(0.05)


@dataclass
class Side:
    server: LiveServer
    client: httpx.AsyncClient

    @property
    def ctx(self) -> Context:
        ctx: Context = self.server.app.state.ctx
        return ctx

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    async def get(self, path: str, user: User | None = None) -> Any:
        r = await self.client.get(path, headers=user.headers if user else None)
        assert r.status_code == 200, r.text
        return r.json()

    async def call(self, method: str, path: str, user: User, status: int = 200,
                   **kwargs: Any) -> Any:
        r = await self.client.request(method, path, headers=user.headers, **kwargs)
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    async def queued(self) -> int:
        async with self.ctx.pool.acquire() as conn:
            return int(await conn.fetchval(
                "SELECT (SELECT count(*) FROM deliveries WHERE state = 'queued')"
                " + (SELECT count(*) FROM inbox_activities WHERE state = 'queued')"))


async def idle(*sides: Side) -> None:
    """Wait until no delivery and no inbound activity is left to process on any side
    (a claimed row stays 'queued' until its outcome is recorded)."""
    async def check() -> None:
        for side in sides:
            assert await side.queued() == 0

    await eventually(check)


async def join(side: Side, ref: str, user: User) -> None:
    """Follow a remote group and wait for its Accept."""
    group = await side.call("POST", f"/api/v1/groups/{ref}/follow", user)
    assert group["follow_state"] in ("pending", "accepted")

    async def accepted() -> None:
        state = (await side.get(f"/api/v1/groups/{ref}", user))["follow_state"]
        assert state == "accepted"

    await eventually(accepted)
