"""The counter rows of migration 0017 (actor_counts) against the count(*) queries they
replace, through the app's own writes: threads, replies, deletion, removal and restore,
follows, Announces to remote followers, a hard delete; and the outbox's totalItems against
the items its pages list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from storage import actors as actor_store
from storage import follows as follow_store
from storage import instances as instance_store
from tests.support.helpers import User, make_group, make_user

AP = {"Accept": "application/activity+json"}
COLUMNS = ("threads", "posts", "followers", "following", "outbox_creates",
           "outbox_announces", "group_creates")


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def counters(conn: asyncpg.Connection) -> dict[int, tuple[int, ...]]:
    rows = await conn.fetch(f"SELECT actor_id, {', '.join(COLUMNS)} FROM actor_counts")
    return {r["actor_id"]: tuple(r[c] for c in COLUMNS) for r in rows
            if any(r[c] for c in COLUMNS)}


async def assert_counts_exact(pool: asyncpg.Pool) -> None:
    """The kept counters equal a rebuild from scratch (rolled back)."""
    async with pool.acquire() as conn:
        kept = await counters(conn)
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("SELECT actor_counts_rebuild()")
            rebuilt = await counters(conn)
        finally:
            await tx.rollback()
    assert kept == rebuilt


async def call(client: httpx.AsyncClient, method: str, path: str, user: User | None,
               status: int, **kwargs: Any) -> Any:
    r = await client.request(method, path, headers=user.headers if user else None, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def walk_outbox(client: httpx.AsyncClient, path: str) -> tuple[int, list[Any]]:
    doc = (await client.get(path, headers=AP)).json()
    items: list[Any] = []
    url: str | None = doc["first"]
    while url:
        page = (await client.get(url.replace(str(client.base_url), ""), headers=AP)).json()
        items += page["orderedItems"]
        url = page.get("next")
    return doc["totalItems"], items


async def test_counters_follow_the_writes(app_client: httpx.AsyncClient, ctx: Context,
                                          pool: asyncpg.Pool) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    anna = await make_user(ctx, "anna")
    bert = await make_user(ctx, "bert")
    group = await make_group(ctx)

    # Before anything is announced the group's outbox lists its threads (the group's
    # Announce of each, built from the author's Create); replies are not listed.
    threads = [await call(app_client, "POST", "/api/v1/groups/breitband/threads", anna, 201,
                          json={"title": f"Frage {i}", "content": "Wann?"}) for i in range(3)]
    await call(app_client, "POST", f"/api/v1/posts/{threads[0]['id']}/replies", bert, 201,
               json={"content": "Bald."})
    total, items = await walk_outbox(app_client, "/groups/breitband/outbox")
    assert total == len(items) == 3 and {i["type"] for i in items} == {"Announce"}
    assert {i["object"]["type"] for i in items} == {"Create"}
    await assert_counts_exact(pool)

    # Remote followers (forum software and Mastodon): the group announces from now on.
    async with pool.acquire() as conn:
        for host, software in (("lemmy.example", "lemmy"), ("social.example", "mastodon")):
            await instance_store.save_software(conn, host, software=software, version="1",
                                               fetched_at=datetime.now(UTC))
            remote = await actor_store.upsert_remote(conn, f"https://{host}/u/zoe", {
                "type": "Person", "username": "zoe", "domain": host,
                "inbox": f"https://{host}/u/zoe/inbox", "shared_inbox": f"https://{host}/inbox"})
            await follow_store.upsert(conn, follower_id=remote.id, target_id=group.id,
                                      ap_id=f"https://{host}/follows/1", state="accepted")
    await call(app_client, "POST", "/api/v1/groups/breitband/follow", bert, 200)
    followers = (await app_client.get("/groups/breitband/followers", headers=AP)).json()
    assert followers["totalItems"] == 3
    following = (await app_client.get("/users/bert/following", headers=AP)).json()
    assert following["totalItems"] == 1

    reply = await call(app_client, "POST", f"/api/v1/posts/{threads[1]['id']}/replies", bert,
                       201, json={"content": "Später."})
    late = await call(app_client, "POST", "/api/v1/groups/breitband/threads", bert, 201,
                      json={"title": "Neu", "content": "Hallo"})
    await call(app_client, "POST", f"/api/v1/posts/{late['id']}/like", anna, 200)
    total, items = await walk_outbox(app_client, "/groups/breitband/outbox")
    # One item per thread: the new thread as the group's embedded Announce(Create) (not
    # the bare Announce(id), nor the reply, nor the like), the older ones as before.
    assert total == len(items) == 4
    assert [i["object"]["type"] for i in items] == ["Create"] * 4
    assert items[0]["object"]["object"]["id"] == late["ap_id"]
    await assert_counts_exact(pool)

    # Deletion by the author, removal and restore by a moderator.
    await call(app_client, "DELETE", f"/api/v1/posts/{reply['id']}", bert, 204)
    await call(app_client, "POST", f"/api/v1/admin/posts/{threads[2]['id']}/remove", admin, 200,
               json={"reason": "Werbung"})
    await assert_counts_exact(pool)
    group_doc = await call(app_client, "GET", "/api/v1/groups/breitband", None, 200)
    assert group_doc["thread_count"] == 3 and group_doc["post_count"] == 4
    assert group_doc["follower_count"] == 3
    total, items = await walk_outbox(app_client, "/users/anna/outbox")
    assert total == len(items) == 2  # three Creates, one of them removed
    await call(app_client, "POST", f"/api/v1/admin/posts/{threads[2]['id']}/restore", admin,
               200)
    total, items = await walk_outbox(app_client, "/users/anna/outbox")
    assert total == len(items) == 3
    await assert_counts_exact(pool)

    # Unfollow; a hard delete (only cascades do it) sets the activities' post_id to NULL.
    await call(app_client, "DELETE", "/api/v1/groups/breitband/follow", bert, 200)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM posts WHERE id = $1", threads[0]["id"])
        await conn.execute("DELETE FROM posts WHERE id = $1", threads[2]["id"])
    await assert_counts_exact(pool)
    for path in ("/users/anna/outbox", "/users/bert/outbox", "/groups/breitband/outbox"):
        total, items = await walk_outbox(app_client, path)
        assert total == len(items), path


async def tag_state(conn: asyncpg.Connection) -> tuple[set[tuple[str, int]], dict[str, int]]:
    members = {(r["tag"], r["thread_id"]) for r in await conn.fetch("SELECT * FROM tag_threads")}
    counts = {r["tag"]: r["threads"] for r in await conn.fetch("SELECT * FROM tag_counts")
              if r["threads"]}
    return members, counts


async def assert_tags_exact(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        kept = await tag_state(conn)
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("SELECT tag_threads_rebuild()")
            rebuilt = await tag_state(conn)
        finally:
            await tx.rollback()
    assert kept == rebuilt
    return kept[1]


async def test_tag_counts_follow_the_writes(app_client: httpx.AsyncClient, ctx: Context,
                                            pool: asyncpg.Pool) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    anna = await make_user(ctx, "anna")
    await make_group(ctx)
    first = await call(app_client, "POST", "/api/v1/groups/breitband/threads", anna, 201,
                       json={"title": "Ausbau", "content": "Wann kommt #Glasfaser?"})
    second = await call(app_client, "POST", "/api/v1/groups/breitband/threads", anna, 201,
                        json={"title": "Netz", "content": "Nichts getaggt"})
    reply = await call(app_client, "POST", f"/api/v1/posts/{second['id']}/replies", anna, 201,
                       json={"content": "Doch: #glasfaser und #Radweg"})
    await call(app_client, "POST", f"/api/v1/posts/{first['id']}/replies", anna, 201,
               json={"content": "Auch hier #Glasfaser"})
    assert await assert_tags_exact(pool) == {"glasfaser": 2, "radweg": 1}
    page = await app_client.get("/tags/glasfaser", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "2 Themen mit diesem Schlagwort" in page.text

    # Removing a thread root hides its thread; deleting the only tagged reply drops it.
    await call(app_client, "POST", f"/api/v1/admin/posts/{first['id']}/remove", admin, 200,
               json={"reason": "Werbung"})
    assert await assert_tags_exact(pool) == {"glasfaser": 1, "radweg": 1}
    await call(app_client, "DELETE", f"/api/v1/posts/{reply['id']}", anna, 204)
    assert await assert_tags_exact(pool) == {}
    await call(app_client, "POST", f"/api/v1/admin/posts/{first['id']}/restore", admin, 200)
    assert await assert_tags_exact(pool) == {"glasfaser": 1}
    # An edit that drops the tag.
    await call(app_client, "PATCH", f"/api/v1/posts/{first['id']}", anna, 200,
               json={"content": "Ohne Tag"})
    async with pool.acquire() as conn:
        tags = await conn.fetchval("SELECT hashtags FROM posts WHERE id = $1", first["id"])
    assert tags == []
    assert await assert_tags_exact(pool) == {"glasfaser": 1}  # the reply still has it
