"""The JSON API for groups, threads, replies and likes."""

from __future__ import annotations

import httpx
import pytest

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def test_thread_reply_tree_edit_delete_like(app_client: httpx.AsyncClient,
                                                  ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    await make_group(ctx)

    r = await app_client.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                              json={"title": "Förderung für Glasfaser?",
                                    "content": "Wer hat **Erfahrung** mit #Gigabit?"})
    assert r.status_code == 201, r.text
    thread = r.json()
    assert thread["title"] == "Förderung für Glasfaser?"
    assert "<strong>Erfahrung</strong>" in thread["content"]
    assert thread["source"].startswith("Wer hat")
    assert thread["ap_id"] == f"http://127.0.0.1:8000/posts/{thread['id']}"
    assert thread["url"] == thread["ap_id"]
    assert thread["author"]["handle"] == "anna@127.0.0.1:8000"
    assert thread["group"]["name"] == "breitband"
    assert thread["hashtags"] == ["gigabit"]

    r = await app_client.post(f"/api/v1/posts/{thread['id']}/replies", headers=ben.headers,
                              json={"content": "Ja, wir!"})
    assert r.status_code == 201
    reply = r.json()
    assert reply["in_reply_to"] == thread["id"]
    r = await app_client.post(f"/api/v1/posts/{reply['id']}/replies", headers=anna.headers,
                              json={"content": "Erzähl mehr"})
    nested = r.json()

    r = await app_client.get(f"/api/v1/posts/{thread['id']}")
    tree = r.json()
    assert [x["id"] for x in tree["replies"]] == [reply["id"]]
    assert [x["id"] for x in tree["replies"][0]["replies"]] == [nested["id"]]
    assert "source" not in tree  # anonymous viewers get no Markdown source

    # Only the author edits.
    r = await app_client.patch(f"/api/v1/posts/{reply['id']}", headers=anna.headers,
                               json={"content": "gehackt"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = await app_client.patch(f"/api/v1/posts/{reply['id']}", headers=ben.headers,
                               json={"content": "Ja, *wir* in Musterstadt!"})
    assert r.status_code == 200 and "<em>wir</em>" in r.json()["content"]
    assert r.json()["updated"] is not None

    # Likes are counted once per person.
    for _ in range(2):
        r = await app_client.post(f"/api/v1/posts/{thread['id']}/like", headers=ben.headers)
        assert r.status_code == 200 and r.json() == {"id": thread["id"], "like_count": 1,
                                                     "liked": True}
    r = await app_client.delete(f"/api/v1/posts/{thread['id']}/like", headers=ben.headers)
    assert r.json()["like_count"] == 0

    r = await app_client.delete(f"/api/v1/posts/{nested['id']}", headers=anna.headers)
    assert r.status_code == 204
    r = await app_client.get(f"/api/v1/posts/{nested['id']}")
    assert r.json()["deleted"] is True and r.json()["content"] == ""
    r = await app_client.post(f"/api/v1/posts/{nested['id']}/replies", headers=ben.headers,
                              json={"content": "zu spät"})
    assert r.status_code == 410


async def test_every_change_queues_an_activity(app_client: httpx.AsyncClient,
                                               ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    await make_group(ctx)
    r = await app_client.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                              json={"title": "T", "content": "B"})
    post_id = r.json()["id"]
    await app_client.patch(f"/api/v1/posts/{post_id}", headers=anna.headers,
                           json={"title": "T2"})
    await app_client.post(f"/api/v1/posts/{post_id}/like", headers=anna.headers)
    await app_client.delete(f"/api/v1/posts/{post_id}/like", headers=anna.headers)
    await app_client.delete(f"/api/v1/posts/{post_id}", headers=anna.headers)
    types = await ctx.pool.fetch("SELECT type FROM activities WHERE post_id = $1 ORDER BY id",
                                 post_id)
    assert [t["type"] for t in types] == ["Create", "Update", "Like", "Undo", "Delete"]


async def test_thread_listing_paginates_newest_activity_first(
    app_client: httpx.AsyncClient, ctx: Context
) -> None:
    anna = await make_user(ctx, "anna")
    await make_group(ctx)
    ids = []
    for i in range(7):
        r = await app_client.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                                  json={"title": f"Thema {i}", "content": "x"})
        ids.append(r.json()["id"])
    # A reply bumps the oldest thread to the top.
    await app_client.post(f"/api/v1/posts/{ids[0]}/replies", headers=anna.headers,
                          json={"content": "hoch damit"})
    seen: list[int] = []
    url = "/api/v1/groups/breitband/threads?limit=3"
    while url:
        page = (await app_client.get(url)).json()
        seen += [t["id"] for t in page["items"]]
        url = (f"/api/v1/groups/breitband/threads?limit=3&cursor={page['next']}"
               if page["next"] else "")
    assert seen == [ids[0], *reversed(ids[1:])]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("post", "/api/v1/groups/breitband/threads", {"content": "x"}, 422, "title"),
        ("post", "/api/v1/groups/breitband/threads", {"title": "x"}, 422, "content"),
        ("post", "/api/v1/groups/breitband/threads", {"title": "x" * 201, "content": "y"}, 422,
         "title"),
        ("post", "/api/v1/groups/nosuch/threads", {"title": "x", "content": "y"}, 404, None),
        ("post", "/api/v1/posts/999999/replies", {"content": "y"}, 404, None),
        ("get", "/api/v1/posts/abc", None, 404, None),
    ],
)
async def test_bad_input_gets_clear_errors(
    app_client: httpx.AsyncClient, ctx: Context, method: str, path: str, body: object,
    status: int, field: str | None,
) -> None:
    anna = await make_user(ctx, "anna")
    await make_group(ctx)
    r = await app_client.request(method.upper(), path, headers=anna.headers, json=body)
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if field:
        assert r.json()["field"] == field


async def test_writing_needs_a_token(app_client: httpx.AsyncClient, ctx: Context) -> None:
    await make_group(ctx)
    r = await app_client.post("/api/v1/groups/breitband/threads",
                              json={"title": "x", "content": "y"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = await app_client.post("/api/v1/groups/breitband/threads", content=b"not json",
                              headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


async def test_restricted_group_only_moderators_start_threads(
    app_client: httpx.AsyncClient, ctx: Context
) -> None:
    mod = await make_user(ctx, "mod")
    anna = await make_user(ctx, "anna")
    await make_group(ctx, "amtsblatt", title="Amtsblatt", moderators=[mod.actor],
                     posting_restricted_to_mods=True)
    r = await app_client.post("/api/v1/groups/amtsblatt/threads", headers=anna.headers,
                              json={"title": "x", "content": "y"})
    assert r.status_code == 403
    r = await app_client.post("/api/v1/groups/amtsblatt/threads", headers=mod.headers,
                              json={"title": "Bekanntmachung", "content": "y"})
    assert r.status_code == 201
    # Replies stay open to everyone.
    r = await app_client.post(f"/api/v1/posts/{r.json()['id']}/replies", headers=anna.headers,
                              json={"content": "Danke"})
    assert r.status_code == 201


async def test_admin_creates_groups(app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "root_admin", admin=True)
    anna = await make_user(ctx, "anna")
    body = {"name": "foerdermittel", "title": "Fördermittel", "summary": "Geld für *Glasfaser*"}
    r = await app_client.post("/api/v1/admin/groups", headers=anna.headers, json=body)
    assert r.status_code == 403
    r = await app_client.post("/api/v1/admin/groups", json=body)
    assert r.status_code == 401
    r = await app_client.post("/api/v1/admin/groups", headers=admin.headers, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Fördermittel"
    assert r.json()["moderators"] == ["root_admin@127.0.0.1:8000"]
    r = await app_client.post("/api/v1/admin/groups", headers=admin.headers, json=body)
    assert r.status_code == 409
    r = await app_client.post("/api/v1/admin/groups", headers=admin.headers,
                              json={"name": "anna", "title": "clash with a user"})
    assert r.status_code == 409
    r = await app_client.post("/api/v1/admin/groups", headers=admin.headers,
                              json={"name": "Bad Name!", "title": "x"})
    assert r.status_code == 422 and r.json()["field"] == "name"
    groups = (await app_client.get("/api/v1/groups")).json()["items"]
    assert [g["name"] for g in groups] == ["foerdermittel"]


async def test_openapi_lists_the_routes(app_client: httpx.AsyncClient) -> None:
    doc = (await app_client.get("/api/v1/openapi.json")).json()
    for path in ["/api/v1/accounts", "/api/v1/auth/token", "/api/v1/me", "/api/v1/groups",
                 "/api/v1/groups/{ref}", "/api/v1/groups/{ref}/threads", "/api/v1/posts/{id}",
                 "/api/v1/posts/{id}/replies", "/api/v1/posts/{id}/like"]:
        assert path in doc["paths"], path


async def test_a_banned_person_cannot_like(app_client: httpx.AsyncClient, ctx: Context) -> None:
    """A ban stops likes too, as the ban page says (issue 11); an instance ban as well."""
    from storage import moderation as moderation_store

    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    carl = await make_user(ctx, "carl")
    group = await make_group(ctx)
    r = await app_client.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                              json={"title": "T", "content": "B"})
    post_id = r.json()["id"]
    async with ctx.pool.acquire() as conn:
        await moderation_store.ban(conn, actor_id=ben.actor.id, group_id=group.id,
                                   reason="Spam")
        await moderation_store.ban(conn, actor_id=carl.actor.id, group_id=None)
    for banned, code, message in (
            (ben, "banned", "You are banned from this group. Reason: Spam"),
            (carl, "banned", "You are banned from this instance.")):
        r = await app_client.post(f"/api/v1/posts/{post_id}/like", headers=banned.headers)
        assert r.status_code == 403, r.text
        assert r.json() == {"error": code, "message": message}
    r = await app_client.get(f"/api/v1/posts/{post_id}")
    assert r.json()["like_count"] == 0
    likes = await ctx.pool.fetchval(
        "SELECT count(*) FROM activities WHERE post_id = $1 AND type = 'Like'", post_id)
    assert likes == 0
