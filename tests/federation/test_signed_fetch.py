"""Signed GETs (issue 20): our fetches double-knock like deliveries (a 400/401 is tried
once more with the other scheme, which is remembered for the host), and secure mode
(FEDI_AUTHORIZED_FETCH=1) between two instances: B's signed fetch of A's post works,
unsigned or badly signed GETs get 401."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, verify_request
from fedi.core.actors import instance_actor
from fedi.core.context import Context
from fedi.federation.remote import fetch
from tests.conftest import LiveServer
from tests.support.helpers import make_group, make_user

AP = "application/activity+json"


async def test_a_signed_get_double_knocks_and_remembers_the_scheme(
        instance: Callable[..., Awaitable[LiveServer]],
        live_server: Callable[..., Awaitable[LiveServer]]) -> None:
    ours = await instance()
    ctx: Context = ours.app.state.ctx
    me = await instance_actor(ctx)
    assert me.public_key_pem is not None
    seen: list[tuple[str, int]] = []

    async def key(key_id: str) -> ResolvedKey | None:
        return ResolvedKey(key_id, me.ap_id, me.public_key_pem or "")

    def build(port: int) -> Starlette:
        async def document(request: Request) -> Response:
            # An RFC 9421-only server: draft-cavage is refused with 401.
            scheme = "rfc9421" if "signature-input" in request.headers else "cavage"
            url = f"http://127.0.0.1:{port}{request.url.path}"
            status = 401
            if scheme == "rfc9421":
                try:
                    await verify_request("GET", url, dict(request.headers), None, key,
                                         datetime.now(UTC))
                    status = 200
                except SignatureError:
                    status = 401
            seen.append((scheme, status))
            if status != 200:
                return JSONResponse({"error": "signature"}, status_code=status)
            return JSONResponse({"id": url, "type": "Note", "content": "x"}, media_type=AP)

        return Starlette(routes=[Route("/notes/{n}", document)])

    strict = await live_server(build)
    url = f"{strict.url}/notes/1"
    doc = await fetch(ctx, url)
    assert doc["id"] == url
    assert seen == [("cavage", 401), ("rfc9421", 200)]
    async with ctx.pool.acquire() as conn:
        scheme = await conn.fetchval("SELECT signature_scheme FROM instances WHERE domain = $1",
                                     f"127.0.0.1:{strict.port}")
    assert scheme == "rfc9421"
    seen.clear()
    await fetch(ctx, f"{strict.url}/notes/2")  # remembered: one knock
    assert seen == [("rfc9421", 200)]


async def test_secure_mode_between_two_instances(
        instance: Callable[..., Awaitable[LiveServer]]) -> None:
    a = await instance(authorized_fetch=True)
    b = await instance()
    a_ctx: Context = a.app.state.ctx
    group = await make_group(a_ctx)
    await make_user(a_ctx, "anna")
    async with httpx.AsyncClient(timeout=30.0) as client:
        for path in (group.ap_id, group.ap_id + "/outbox", group.ap_id + "/followers"):
            unsigned = await client.get(path, headers={"Accept": AP})
            assert unsigned.status_code == 401, (path, unsigned.text)
            assert unsigned.json()["error"] == "signature_required"
        bad = await client.get(group.ap_id, headers={
            "Accept": AP, "Signature": 'keyId="x",headers="date",signature="AAAA"'})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_signature"
        assert bad.json()["message"].startswith("invalid HTTP signature: ")
        # Open: the instance actor, WebFinger, NodeInfo, JSON API and pages.
        for path, accept in (("/actor", AP), ("/.well-known/nodeinfo", AP),
                             ("/api/v1/groups/breitband", "application/json"),
                             (group.ap_id, "text/html")):
            answer = await client.get(a.url + path if path.startswith("/") else path,
                                      headers={"Accept": accept})
            assert answer.status_code == 200, (path, answer.status_code)
    # B fetches as its instance actor (draft-cavage first): A lets it in.
    b_ctx: Context = b.app.state.ctx
    doc: dict[str, Any] = await fetch(b_ctx, group.ap_id)
    assert doc["id"] == group.ap_id and doc["type"] == "Group"
