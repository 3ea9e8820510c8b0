"""Fake remote servers for the inbound tests: one uvicorn server listening on several
loopback sockets, so each socket is a host of its own (``http://127.0.0.1:<port>``).

A :class:`Peer` serves the documents put into ``docs`` (actors with the checked-in test
key, posts, activities) with ``application/activity+json``, answers NodeInfo with the
software named per host (404 when none), records every GET, and records every POST to
any path as an inbox delivery, verifying its signature with the sender's key fetched
over HTTP from the sender's actor document (as a real remote server would).
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import SignatureError
from activitypub.httpsig import (
    ResolvedKey,
    SigningKey,
    VerifiedSignature,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from tests.support.constants import AS

DATA = Path(__file__).resolve().parents[1] / "data"
TEST_KEY_PEM = (DATA / "test-key.pem").read_text()
TEST_PUBLIC_PEM = (DATA / "test-key.pub.pem").read_text()
AP_JSON = "application/activity+json"


def key_of(url: str) -> str:
    """What documents are stored under: host, path (at least "/"), query."""
    parts = urlsplit(urldefrag(url)[0])
    return f"{parts.netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


@dataclass
class Delivery:
    """A POST a peer received."""

    url: str
    activity: dict[str, Any]
    signature: VerifiedSignature | None
    error: str | None

    @property
    def type(self) -> str:
        return str(self.activity.get("type"))


@dataclass
class Peer:
    hosts: list[str] = field(default_factory=list)  # base URLs, one per socket
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # url key -> status to answer
    software: dict[str, str] = field(default_factory=dict)  # netloc -> NodeInfo name
    gets: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    _sockets: list[socket.socket] = field(default_factory=list)

    # -- running ------------------------------------------------------------------

    async def start(self, count: int) -> Peer:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            self._sockets.append(sock)
            self.hosts.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
        config = uvicorn.Config(self.app(), log_level="warning", access_log=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=self._sockets))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("peer exited during start-up")
            await asyncio.sleep(0.005)
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        for sock in self._sockets:
            sock.close()

    def reset(self) -> None:
        self.docs.clear()
        self.statuses.clear()
        self.software.clear()
        self.gets.clear()
        self.deliveries.clear()

    # -- documents ----------------------------------------------------------------

    def put(self, doc: dict[str, Any]) -> dict[str, Any]:
        self.docs[key_of(doc["id"])] = doc
        return doc

    def actor(self, host: int | str, path: str, *, type_: str = "Person",
              **extra: Any) -> dict[str, Any]:
        """An actor document at ``path`` whose key is the checked-in test key."""
        base = self.hosts[host] if isinstance(host, int) else host
        ap_id = base + path
        name = path.rstrip("/").rsplit("/", 1)[-1] or "actor"
        doc: dict[str, Any] = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": ap_id, "type": type_, "preferredUsername": name, "name": name.title(),
            "inbox": ap_id + "/inbox", "outbox": ap_id + "/outbox",
            "followers": ap_id + "/followers",
            "endpoints": {"sharedInbox": base + "/inbox"},
            "publicKey": {"id": ap_id + "#main-key", "owner": ap_id,
                          "publicKeyPem": TEST_PUBLIC_PEM},
        }
        doc.update(extra)
        return self.put(doc)

    def received(self, type_: str | None = None) -> list[Delivery]:
        return [d for d in self.deliveries if type_ is None or d.type == type_]

    async def wait_for(self, type_: str, count: int = 1, seconds: float = 10.0
                       ) -> list[Delivery]:
        for _ in range(int(seconds / 0.02)):
            found = self.received(type_)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} {type_}, got {[d.type for d in self.deliveries]}")

    # -- the app ------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/nodeinfo", self._nodeinfo_index, methods=["GET"]),
            Route("/nodeinfo/2.0", self._nodeinfo, methods=["GET"]),
            Route("/{path:path}", self._get, methods=["GET", "HEAD"]),
            Route("/{path:path}", self._post, methods=["POST"]),
        ])

    def _url_key(self, request: Request) -> str:
        query = request.url.query
        return f"{request.url.netloc}{request.url.path}" + (f"?{query}" if query else "")

    async def _get(self, request: Request) -> Response:
        key = self._url_key(request)
        self.gets.append(key)
        if key in self.statuses:
            return JSONResponse({"error": "scripted"}, status_code=self.statuses[key])
        doc = self.docs.get(key)
        if doc is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(json.dumps(doc), media_type=AP_JSON)

    async def _nodeinfo_index(self, request: Request) -> Response:
        if request.url.netloc not in self.software:
            return JSONResponse({"error": "not found"}, status_code=404)
        href = f"http://{request.url.netloc}/nodeinfo/2.0"
        return JSONResponse({"links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": href}]})

    async def _nodeinfo(self, request: Request) -> Response:
        name = self.software.get(request.url.netloc)
        if name is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({
            "version": "2.0", "software": {"name": name, "version": "1.0"},
            "protocols": ["activitypub"], "services": {"inbound": [], "outbound": []},
            "openRegistrations": False, "usage": {"users": {}}, "metadata": {},
        })

    async def _post(self, request: Request) -> Response:
        body = await request.body()
        try:
            activity = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        try:
            verified = await verify_request(request.method, str(request.url), request.headers,
                                            body, fetch_public_key, datetime.now(UTC))
        except SignatureError as exc:
            self.deliveries.append(Delivery(str(request.url), activity, None, exc.reason))
            return JSONResponse({"error": exc.reason}, status_code=401)
        self.deliveries.append(Delivery(str(request.url), activity, verified, None))
        return Response(status_code=202)


async def fetch_public_key(key_id: str) -> ResolvedKey | None:
    """The sender's key, from its actor document over HTTP (what a real server does)."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(urldefrag(key_id)[0], headers={"Accept": AP_JSON})
    if answer.status_code != 200:
        return None
    doc = answer.json()
    key = doc.get("publicKey") or {}
    if key.get("id") != key_id:
        return None
    return ResolvedKey(key_id, doc["id"], key["publicKeyPem"])


def signed_headers(url: str, body: bytes, key_id: str, *, scheme: str = "cavage",
                   pem: str = TEST_KEY_PEM, now: datetime | None = None) -> dict[str, str]:
    headers = {"Content-Type": AP_JSON}
    sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
    headers.update(sign("POST", url, headers, body, SigningKey(key_id, pem),
                        now or datetime.now(UTC)))
    return headers


async def post_signed(url: str, activity: dict[str, Any] | bytes, key_id: str, *,
                      scheme: str = "cavage", pem: str = TEST_KEY_PEM,
                      now: datetime | None = None) -> httpx.Response:
    """POST ``activity`` to an inbox, signed with the test key as ``key_id``."""
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    headers = signed_headers(url, body, key_id, scheme=scheme, pem=pem, now=now)
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, content=body, headers=headers)
