"""Fixtures for the interop suite: the Fedify peer (tests/interop/peer, a real third-party
ActivityPub implementation in Node) as a subprocess on loopback with a small client for
its control API, and a dEMiSA instance (workers running) with one group.

The peer is started once per test module (its state is keyed by actor id, and every
test gets its own dEMiSA on its own port, so tests do not see each other's follows);
it is terminated at the end of the module and, through ``--parent-pid``, exits by
itself should pytest die first. A missing Node or a missing ``npm ci`` fails the
suite with what to do: the suite must not be skipped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from tests.conftest import LiveServer
from tests.support.federation_helpers import Side, eventually
from tests.support.helpers import User, make_group, make_user

PEER_DIR = Path(__file__).resolve().parent / "peer"
READY_TIMEOUT = 30.0  # seconds for Node to load Fedify and listen (about 1 s here)
STOP_TIMEOUT = 5.0


class PeerError(AssertionError):
    """A control call answered ``ok: false``. An AssertionError, so that a poll
    (``eventually``) tries again until its deadline, then fails with the peer's words."""


class FedifyPeer:
    """Client for the peer's JSON control API (tests/interop/peer/README.md)."""

    def __init__(self, port: int, client: httpx.AsyncClient, health: dict[str, Any]) -> None:
        self.port = port
        self.client = client
        self.url = f"http://127.0.0.1:{port}"
        self.host = f"127.0.0.1:{port}"
        self.actor: str = health["actor"]
        self.handle: str = health["handle"]
        self.inbox_url: str = health["inbox"]
        self.shared_inbox: str = health["shared_inbox"]
        self.key_id = self.actor + "#main-key"

    async def call(self, path: str, body: dict[str, Any] | None = None, *,
                   check: bool = True) -> dict[str, Any]:
        """POST ``body`` (GET without one) to ``/_control/<path>``; with ``check``, an
        ``ok: false`` answer raises with the peer's error."""
        if body is None:
            answer = await self.client.get(f"/_control/{path}")
        else:
            answer = await self.client.post(f"/_control/{path}", json=body)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        if check and not result.get("ok"):
            raise PeerError(f"peer /_control/{path} failed: {result.get('error')}: {result}")
        return result

    async def lookup(self, handle: str) -> dict[str, Any]:
        return await self.call("lookup", {"handle": handle})

    async def follow(self, target: str) -> dict[str, Any]:
        return await self.call("follow", {"target": target})

    async def unfollow(self, target: str) -> dict[str, Any]:
        return await self.call("unfollow", {"target": target})

    async def following(self, target: str) -> dict[str, Any] | None:
        """The peer's record of its follow of ``target`` (an actor id), if any."""
        records = (await self.call("following"))["following"]
        return next((r for r in records if r["target"] == target), None)

    async def post(self, content: str, **fields: Any) -> dict[str, Any]:
        return await self.call("post", {"content": content, **fields})

    async def like(self, object_id: str) -> dict[str, Any]:
        return await self.call("like", {"object": object_id})

    async def fetch(self, url: str, *, signed: bool = False) -> dict[str, Any]:
        return await self.call("fetch", {"url": url, "signed": signed}, check=False)

    async def inbox(self, *, actor: str | None = None) -> list[dict[str, Any]]:
        """Activities that reached a Fedify inbox listener (so Fedify verified them),
        optionally only those by ``actor``. An entry shows once the peer has finished
        with its request (it re-runs the checks after the listener: ``checks`` set)."""
        activities: list[dict[str, Any]] = (await self.call("inbox"))["activities"]
        return [a for a in activities
                if a["checks"] is not None and (actor is None or a["actor"] == actor)]

    async def inbox_requests(self, *, host: str | None = None) -> list[dict[str, Any]]:
        """Every POST to the peer's inboxes (accepted or not), optionally only those whose
        activity's actor is on ``host``."""
        requests: list[dict[str, Any]] = (await self.call("inbox_requests"))["requests"]
        return [r for r in requests
                if host is None or (r["actor"] or "").startswith(f"http://{host}/")]

    async def raw(self, inbox: str, activity: dict[str, Any], tamper: str) -> dict[str, Any]:
        """Send ``activity`` signed by Fedify's signRequest(), tampered as asked."""
        return await self.call("raw", {"inbox": inbox, "activity": activity, "tamper": tamper})


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("the interop tests need Node.js 20 or newer (`node` is not on PATH): "
                    "install it (apt-get install nodejs npm), then run make test",
                    pytrace=False)
    if not (PEER_DIR / "node_modules" / "@fedify" / "fedify").is_dir():
        pytest.fail(f"{PEER_DIR / 'node_modules'} is missing: run make test "
                    "(it runs npm ci)", pytrace=False)
    return node


async def _read_ready(process: asyncio.subprocess.Process, stderr: Path) -> int:
    assert process.stdout is not None
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            line = await process.stdout.readline()
    except TimeoutError:
        line = b""
    text = line.decode(errors="replace").strip()
    if not text.startswith("READY "):
        output = await asyncio.to_thread(stderr.read_text, errors="replace")
        raise RuntimeError(f"the Fedify peer did not start (stdout {text!r}); its stderr:\n"
                           + output[-4000:])
    return int(text.split()[1])


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture(scope="module")
async def peer() -> AsyncIterator[FedifyPeer]:
    """A running Fedify peer (one Person, ``alice``) for the module."""
    node = _node()
    with tempfile.TemporaryDirectory(prefix="fedify-peer-") as folder:
        stderr_path = Path(folder) / "stderr.log"
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                node, "peer.mjs", "--port", "0", "--host", "127.0.0.1",
                "--username", "alice", "--parent-pid", str(os.getpid()),
                cwd=PEER_DIR, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=stderr,
            )
        try:
            port = await _read_ready(process, stderr_path)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                         timeout=60.0) as client:
                health = (await client.get("/_control/health")).json()
                assert health["ok"], health
                yield FedifyPeer(port, client, health)
        finally:
            await _stop(process)


@dataclass
class Demisa(Side):
    """Our side (a dEMiSA instance with workers, its API client at ``client``) and its
    group ``breitband``."""

    group_id: str = ""
    group_key_id: str = ""
    users: dict[str, User] = field(default_factory=dict)

    @property
    def group_handle(self) -> str:
        return f"breitband@{self.host}"

    async def user(self, name: str) -> User:
        """The local user ``name``, made on first use (accounts cost a password hash and
        a key pair, and not every test needs one)."""
        if name not in self.users:
            self.users[name] = await make_user(self.ctx, name)
        return self.users[name]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.ctx.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.ctx.pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def idle(self) -> None:
        """Wait until our workers have nothing left: no queued delivery and no queued
        inbound activity (a failed delivery waiting for its retry counts as queued, so
        a refusal by the peer shows here as a timeout with its reason)."""

        async def check() -> None:
            rows = await self.fetch(
                "SELECT 'delivery' AS kind, inbox_url AS what, last_error FROM deliveries"
                " WHERE state = 'queued' UNION ALL SELECT 'inbound', ap_id, last_error"
                " FROM inbox_activities WHERE state = 'queued'")
            assert rows == [], [dict(r) for r in rows]

        await eventually(check, timeout=30)


@pytest.fixture
async def ours(instance: Callable[..., Awaitable[LiveServer]]) -> AsyncIterator[Demisa]:
    server = await instance(workers=1)
    ctx: Context = server.app.state.ctx
    group = await make_group(ctx)
    assert group.public_key_id is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as api:
        yield Demisa(server, api, group.ap_id, group.public_key_id)
