"""``GET /api/v1/search`` (fedi/routes/api_search.py): items, paging with ``next`` past 50
results, filters, short pages that go on to older matches, and the errors (400 for q, 404
for unknown group or author, 422 cursor)."""

from __future__ import annotations

import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import posts as post_service
from fedi.forum import search
from storage import posts as post_store
from storage import search as search_store
from tests.support.helpers import make_group, make_user


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def test_search_api_items_and_filters(app_client: httpx.AsyncClient, ctx: Context) -> None:
    alice = await make_user(ctx, "alice")
    bob = await make_user(ctx, "bob")
    group = await make_group(ctx)
    await make_group(ctx, "verkehr", title="Verkehr")
    thread = await post_service.create_thread(
        ctx, author=alice.actor, group=group, title="Glasfaserausbau <b>Nord</b>",
        content="Wer hat Förderanträge gestellt? <script>x()</script>")
    reply = await post_service.create_reply(ctx, author=bob.actor, parent=thread,
                                            content="Wir, mit dem Förderantrag vom Mai.")
    r = await app_client.get("/api/v1/search", params={"q": "förderantrag"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next"] is None
    items = {i["id"]: i for i in body["items"]}
    assert set(items) == {thread.id, reply.id}
    item = items[thread.id]
    assert item["type"] == "thread" and item["thread_id"] == thread.id
    assert item["title"] == "Glasfaserausbau <b>Nord</b>"  # JSON text, not HTML
    assert "<mark>Förderanträge</mark>" in item["snippet"] and "<script" not in item["snippet"]
    assert item["group"].startswith("breitband@") and item["author"].startswith("alice@")
    assert item["state"] == "answered" and item["accepted"] is False
    assert item["url"].endswith(f"/posts/{thread.id}")
    assert items[reply.id]["type"] == "post"
    assert items[reply.id]["url"].endswith(f"/posts/{thread.id}#post-{reply.id}")
    assert items[reply.id]["title"] == "Glasfaserausbau <b>Nord</b>"
    only_bob = (await app_client.get("/api/v1/search", params={
        "q": "Förderantrag", "author": "bob"})).json()["items"]
    assert [i["id"] for i in only_bob] == [reply.id]
    other = (await app_client.get("/api/v1/search", params={
        "q": "Förderantrag", "group": "verkehr"})).json()
    assert other == {"items": [], "next": None}
    unanswered = (await app_client.get("/api/v1/search", params={
        "q": "Förderantrag", "state": "unanswered"})).json()
    assert unanswered["items"] == []


@pytest.mark.parametrize(("params", "status", "code", "field"), [
    ({}, 400, "invalid_query", "q"),
    ({"q": "   "}, 400, "invalid_query", "q"),
    ({"q": "x" * 201}, 400, "invalid_query", "q"),
    ({"q": "Glas", "state": "closed"}, 400, "invalid_query", "state"),
    ({"q": "Glas", "group": "nirgendwo"}, 404, "not_found", "group"),
    ({"q": "Glas", "author": "niemand"}, 404, "not_found", "author"),
    ({"q": "Glas", "cursor": "bogus"}, 422, "validation_failed", "cursor"),
    ({"q": "Glas", "limit": "500"}, 422, "validation_failed", "limit"),
])
async def test_search_api_errors(app_client: httpx.AsyncClient, ctx: Context,
                                 params: dict[str, str], status: int, code: str,
                                 field: str) -> None:
    await make_group(ctx)
    r = await app_client.get("/api/v1/search", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and body["field"] == field and body["message"]


async def test_search_api_pages_past_fifty(app_client: httpx.AsyncClient, ctx: Context) -> None:
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx)
    async with ctx.pool.acquire() as conn:
        for i in range(75):
            await post_store.insert(conn, {
                "ap_id": f"https://example.org/p/{i}", "local": False, "group_id": group.id,
                "author_id": alice.actor.id, "title": f"Breitbandplanung {i}",
                "content_html": "<p>Text</p>"})
    seen: list[int] = []
    params = {"q": "Breitband", "limit": "50"}
    first = (await app_client.get("/api/v1/search", params=params)).json()
    assert len(first["items"]) == 50 and first["next"]
    seen += [i["id"] for i in first["items"]]
    second = (await app_client.get("/api/v1/search",
                                   params={**params, "cursor": first["next"]})).json()
    seen += [i["id"] for i in second["items"]]
    assert second["next"] is None
    assert len(seen) == 75 and len(set(seen)) == 75


async def test_search_short_pages_go_on_to_older_matches(
        app_client: httpx.AsyncClient, ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request ranks at most MAX_WINDOWS windows (issue 17): with windows of 10 and only
    the oldest of 100 matching threads solved, the first pages hold nothing and say where
    to go on, the API with ``next``, the page with a link; following them finds it."""
    monkeypatch.setattr(search_store, "CANDIDATE_CAP", 10)
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx)
    async with ctx.pool.acquire() as conn:
        ids = [(await post_store.insert(conn, {
            "ap_id": f"https://example.org/p/{i}", "local": False, "group_id": group.id,
            "author_id": alice.actor.id, "title": f"Breitbandplanung {i}",
            "content_html": "<p>Text</p>"})).id for i in range(100)]
        reply = await post_store.insert(conn, {
            "ap_id": "https://example.org/r/0", "local": False, "group_id": group.id,
            "author_id": alice.actor.id, "parent_id": ids[0], "thread_id": ids[0],
            "content_html": "<p>So geht es.</p>"})
        await conn.execute("UPDATE posts SET accepted_answer_id = $1 WHERE id = $2",
                           reply.id, ids[0])
    params = {"q": "Breitband", "state": "solved"}
    found: list[int] = []
    requests = 0
    cursor = None
    while True:
        body = (await app_client.get("/api/v1/search", params={
            **params, **({"cursor": cursor} if cursor else {})})).json()
        requests += 1
        found += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
        assert requests < 10
    assert found == [ids[0]]
    assert requests >= 100 // 10 // search.MAX_WINDOWS  # each request ranked <= 4 windows

    page = await app_client.get("/search", params=params, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Keiner der neuesten Beiträge mit diesen Wörtern passt zu den Filtern." in page.text
    assert "Ältere Beiträge durchsuchen" in page.text and 'rel="next"' in page.text
