"""The database becomes unreachable while the app runs (a proxy in front of it drops every
connection and refuses new ones): every kind of client gets a 503 that says so, never a
500, and the app answers normally again once the database is back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from fedi.app import create_app
from tests.conftest import make_settings
from tests.support.constants import BASE
from tests.support.helpers import make_group, make_user
from tests.support.inbound_peer import signed_headers
from tests.support.outages import Proxy


@pytest.fixture
async def proxy(dsn: str) -> AsyncIterator[Proxy]:
    proxy = Proxy(dsn)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.cut()


@pytest.fixture
async def client(proxy: Proxy) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), proxy.dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_api_pages_inbox_and_health_answer_503_while_the_database_is_down(
    client: httpx.AsyncClient, proxy: Proxy
) -> None:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    user = await make_user(ctx, "anna")
    await make_group(ctx)
    assert (await client.get("/api/v1/groups")).status_code == 200

    await proxy.cut()

    api = await client.get("/api/v1/groups")
    assert api.status_code == 503, api.text
    assert api.json()["error"] == "unavailable"
    assert "database" in api.json()["message"]
    assert api.headers["retry-after"]
    # Writes too, with a log-in token that cannot be checked now.
    posted = await client.post("/api/v1/groups/breitband/threads", headers=user.headers,
                               json={"title": "Glasfaser", "content": "Wann?"})
    assert posted.status_code == 503, posted.text
    assert posted.json()["error"] == "unavailable"

    german = await client.get("/groups/breitband", headers={"Accept": "text/html"})
    assert german.status_code == 503
    assert german.headers["content-type"].startswith("text/html")
    assert "vorübergehend nicht erreichbar" in german.text
    english = await client.get("/groups/breitband", headers={
        "Accept": "text/html", "Accept-Language": "en"})
    assert english.status_code == 503
    assert "temporarily unavailable" in english.text
    # A logged-in browser (a session cookie that cannot be looked up) gets the page too.
    client.cookies.set("demisa_session", "x" * 40)
    cookie = await client.get("/", headers={"Accept": "text/html"})
    client.cookies.clear()
    assert cookie.status_code == 503
    assert "vorübergehend nicht erreichbar" in cookie.text

    # A signed delivery to an inbox: 503, so the sender retries later.
    activity = {"@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://remote.example/activities/1", "type": "Like",
                "actor": "https://remote.example/users/eve",
                "object": f"{BASE}/posts/1"}
    body = json.dumps(activity).encode()
    inbox = await client.post("/inbox", content=body, headers=signed_headers(
        f"{BASE}/inbox", body, "https://remote.example/users/eve#main-key"))
    assert inbox.status_code == 503, inbox.text
    assert inbox.headers["retry-after"]

    health = await client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["database"] == "down"

    await proxy.restore()
    again = await client.get("/api/v1/groups")
    assert again.status_code == 200, again.text
    assert (await client.get("/healthz")).status_code == 200
