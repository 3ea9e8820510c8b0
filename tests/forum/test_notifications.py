"""Notifications end to end on one instance: the services queue events, the worker
(fedi/forum/notify_queue.py) turns them into notices, the API lists them and marks them
read. Replies, mentions, watching and muting, new threads in followed groups, likes
grouped, moderation with the reason, reports, sign-ups, replays, unread tracking."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.core.queue import Worker
from fedi.forum.notify_queue import NotificationQueue
from storage import notification_events
from tests.support.helpers import User, make_group, make_user


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def notify(ctx: Context) -> int:
    """Run the notification worker over everything queued."""
    return await Worker(ctx.pool, [NotificationQueue(ctx)], concurrency=2).run_once()


async def call(client: httpx.AsyncClient, method: str, path: str, user: User | None,
               status: int = 200, **kwargs: Any) -> Any:
    r = await client.request(method, path, headers=user.headers if user else None, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def notices(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    page: dict[str, Any] = await call(client, "GET", "/api/v1/notifications", user)
    return page


def kinds(page: dict[str, Any]) -> list[tuple[str, int | None]]:
    return [(item["type"], item["post_id"]) for item in page["items"]]


async def ask(client: httpx.AsyncClient, user: User, title: str = "Glasfaser?",
              group: str = "breitband") -> Any:
    return await call(client, "POST", f"/api/v1/groups/{group}/threads", user, 201,
                      json={"title": title, "content": "Wann kommt der Ausbau?"})


async def reply(client: httpx.AsyncClient, user: User, parent: int, text: str = "Bald.") -> Any:
    return await call(client, "POST", f"/api/v1/posts/{parent}/replies", user, 201,
                      json={"content": text})


async def test_replies_notify_the_asker_and_the_parents_author(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    anna, ben, carl = [await make_user(ctx, n) for n in ("anna", "ben", "carl")]
    await make_group(ctx)
    thread = await ask(app_client, anna)
    answer = await reply(app_client, ben, thread["id"])
    deeper = await reply(app_client, carl, answer["id"], "Wirklich?")
    own = await reply(app_client, anna, thread["id"], "Danke!")
    assert await notify(ctx) == 4  # four post events

    page = await notices(app_client, anna)
    assert kinds(page) == [("reply", deeper["id"]), ("reply", answer["id"])]
    assert page["unread"] == 2 and page["next"] is None
    item = page["items"][1]
    assert item["actor"]["handle"] == "ben@127.0.0.1:8000"
    assert item["thread_id"] == thread["id"] and item["group"] == "breitband@127.0.0.1:8000"
    assert item["read"] is False and item["count"] == 1 and item["data"] == {}
    assert item["created_at"].endswith("Z") or "+" in item["created_at"]
    # Ben hears of the reply to his answer (and of Anna's post in the thread he does not
    # watch: nothing); nobody hears of their own post.
    assert kinds(await notices(app_client, ben)) == [("reply", deeper["id"])]
    assert kinds(await notices(app_client, carl)) == []
    assert own["id"] not in [i["post_id"] for i in page["items"]]

    # Mark one read, then all.
    r = await call(app_client, "POST", "/api/v1/notifications/read", anna,
                   json={"ids": [page["items"][0]["id"]]})
    assert r == {"unread": 1}
    # Someone else's ids change nothing.
    r = await call(app_client, "POST", "/api/v1/notifications/read", ben,
                   json={"ids": [page["items"][1]["id"]]})
    assert r == {"unread": 1}
    assert (await notices(app_client, anna))["unread"] == 1
    assert await call(app_client, "POST", "/api/v1/notifications/read", anna,
                      json={"all": True}) == {"unread": 0}
    assert [i["read"] for i in (await notices(app_client, anna))["items"]] == [True, True]


async def test_replaying_an_event_creates_nothing_twice(app_client: httpx.AsyncClient,
                                                         ctx: Context) -> None:
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    await make_group(ctx)
    thread = await ask(app_client, anna)
    await reply(app_client, ben, thread["id"])
    await call(app_client, "POST", f"/api/v1/posts/{thread['id']}/like", ben)
    await notify(ctx)
    before = await ctx.pool.fetch("SELECT id, count, read_at FROM notifications ORDER BY id")
    assert len(before) == 2
    # The worker died after doing the work and before recording it: it runs again.
    await ctx.pool.execute("UPDATE notification_events SET state = 'queued',"
                           " next_attempt_at = now() - interval '1 second'")
    assert await notify(ctx) == 3
    after = await ctx.pool.fetch("SELECT id, count, read_at FROM notifications ORDER BY id")
    assert after == before


async def test_likes_are_one_notice_per_post(app_client: httpx.AsyncClient,
                                            ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    fans = [await make_user(ctx, name) for name in ("ben", "carl", "dora")]
    await make_group(ctx)
    thread = await ask(app_client, anna)
    like = f"/api/v1/posts/{thread['id']}/like"
    await call(app_client, "POST", like, anna)  # one's own like tells nobody
    for fan in fans:
        await call(app_client, "POST", like, fan)
    await notify(ctx)
    page = await notices(app_client, anna)
    assert kinds(page) == [("like", thread["id"])]
    (item,) = page["items"]
    assert item["count"] == 3 and item["actor"]["username"] == "dora"
    assert item["data"] == {}  # the likers' ids are bookkeeping, not shown
    # Unliking and liking again counts nobody twice; a new liker makes it unread again.
    await call(app_client, "POST", "/api/v1/notifications/read", anna, json={"all": True})
    await call(app_client, "DELETE", like, fans[0])
    await call(app_client, "POST", like, fans[0])
    await notify(ctx)
    page = await notices(app_client, anna)
    assert page["unread"] == 0 and page["items"][0]["count"] == 3
    erik = await make_user(ctx, "erik")
    await call(app_client, "POST", like, erik)
    await notify(ctx)
    page = await notices(app_client, anna)
    assert page["unread"] == 1 and len(page["items"]) == 1
    assert page["items"][0]["count"] == 4 and page["items"][0]["actor"]["username"] == "erik"


async def test_watching_muting_and_mentions(app_client: httpx.AsyncClient,
                                           ctx: Context) -> None:
    anna, ben, dora = [await make_user(ctx, n) for n in ("anna", "ben", "dora")]
    await make_group(ctx)
    thread = await ask(app_client, anna)
    watch = f"/api/v1/posts/{thread['id']}/watch"
    # The asker watches her thread from the start.
    assert await call(app_client, "GET", watch, anna) == {"thread_id": thread["id"],
                                                          "level": "watching"}
    assert await call(app_client, "GET", watch, dora) == {"thread_id": thread["id"],
                                                          "level": "none"}
    assert await call(app_client, "POST", watch, dora, json={"level": "watching"}) == {
        "thread_id": thread["id"], "level": "watching"}
    first = await reply(app_client, ben, thread["id"])
    await notify(ctx)
    assert kinds(await notices(app_client, dora)) == [("watched_post", first["id"])]
    assert kinds(await notices(app_client, anna)) == [("reply", first["id"])]

    # Anna mutes her thread (through a reply's id: its thread is meant): no more replies,
    # but a mention still reaches her. Dora stops watching: nothing for her either.
    assert await call(app_client, "POST", f"/api/v1/posts/{first['id']}/watch", anna,
                      json={"level": "muted"}) == {"thread_id": thread["id"], "level": "muted"}
    assert await call(app_client, "DELETE", watch, dora) == {"thread_id": thread["id"],
                                                             "level": "none"}
    second = await reply(app_client, ben, thread["id"], "Noch etwas")
    third = await reply(app_client, ben, thread["id"], "@anna schau mal")
    # Mentions are found by the mentions feature (issue 14 part 5): its rows, here by hand.
    await ctx.pool.execute("INSERT INTO post_mentions (post_id, actor_id) VALUES ($1, $2)"
                           " ON CONFLICT DO NOTHING", third["id"], anna.actor.id)
    await notify(ctx)
    assert kinds(await notices(app_client, anna)) == [("mention", third["id"]),
                                                      ("reply", first["id"])]
    assert kinds(await notices(app_client, dora)) == [("watched_post", first["id"])]
    assert second["id"] not in [i["post_id"] for i in (await notices(app_client, anna))["items"]]

    r = await app_client.post(watch, headers=dora.headers, json={"level": "sometimes"})
    assert r.status_code == 422 and r.json()["field"] == "level"
    r = await app_client.post(watch, headers=dora.headers, content=b"[]")
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"
    assert (await app_client.get(watch)).status_code == 401
    assert (await app_client.get("/api/v1/posts/999999/watch",
                                 headers=dora.headers)).status_code == 404


async def test_new_threads_in_followed_groups_and_muted_groups(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    anna, erik = await make_user(ctx, "anna"), await make_user(ctx, "erik")
    await make_group(ctx)
    await make_group(ctx, "verkehr", title="Verkehr")
    await call(app_client, "POST", "/api/v1/groups/breitband/follow", erik)
    first = await ask(app_client, anna)
    elsewhere = await ask(app_client, anna, "Radweg?", group="verkehr")
    await notify(ctx)
    page = await notices(app_client, erik)
    assert kinds(page) == [("new_thread", first["id"])]
    assert page["items"][0]["actor"]["username"] == "anna"
    assert elsewhere["id"] not in [i["post_id"] for i in page["items"]]

    mute = "/api/v1/groups/breitband/mute"
    assert await call(app_client, "POST", mute, erik) == {
        "group": "breitband@127.0.0.1:8000", "muted": True}
    assert (await call(app_client, "GET", mute, erik))["muted"] is True
    await ask(app_client, anna, "Noch eine Frage")
    await notify(ctx)
    assert len((await notices(app_client, erik))["items"]) == 1
    assert (await call(app_client, "DELETE", mute, erik))["muted"] is False
    again = await ask(app_client, anna, "Und noch eine")
    await notify(ctx)
    assert kinds(await notices(app_client, erik))[0] == ("new_thread", again["id"])
    assert (await app_client.post("/api/v1/groups/nirgends/mute",
                                  headers=erik.headers)).status_code == 404


async def test_moderation_decisions_reach_the_author_with_the_reason(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    mod, anna = await make_user(ctx, "mod"), await make_user(ctx, "anna")
    await make_group(ctx, moderators=[mod.actor])
    thread = await ask(app_client, anna)
    answer = await reply(app_client, anna, thread["id"], "Nachtrag mit Werbung")
    base = "/api/v1/admin/posts"
    await call(app_client, "POST", f"{base}/{answer['id']}/remove", mod,
               json={"reason": "Werbung"})
    await call(app_client, "POST", f"{base}/{answer['id']}/restore", mod,
               json={"reason": "Irrtum"})
    await call(app_client, "POST", f"{base}/{thread['id']}/lock", mod,
               json={"reason": "Beantwortet"})
    await call(app_client, "POST", "/api/v1/admin/bans", mod, 201,
               json={"actor": anna.actor.handle, "group": "breitband",
                     "reason": "Beleidigungen"})
    await notify(ctx)
    page = await notices(app_client, anna)
    assert [(i["type"], i["data"]) for i in page["items"]] == [
        ("moderation", {"action": "ban", "reason": "Beleidigungen"}),
        ("moderation", {"action": "lock", "reason": "Beantwortet"}),
        ("moderation", {"action": "restore", "reason": "Irrtum"}),
        ("moderation", {"action": "remove", "reason": "Werbung"}),
    ]
    assert page["items"][3]["post_id"] == answer["id"]
    assert page["items"][3]["thread_id"] == thread["id"]
    assert page["items"][3]["actor"]["username"] == "mod"
    assert page["items"][0]["group"] == "breitband@127.0.0.1:8000"
    assert (await notices(app_client, mod))["items"] == []


async def test_reports_reach_the_groups_moderators_and_signups_the_admins(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    mod, anna, ben = [await make_user(ctx, n) for n in ("mod", "anna", "ben")]
    await make_group(ctx, moderators=[mod.actor])
    thread = await ask(app_client, anna)
    report = await call(app_client, "POST", "/api/v1/reports", ben, 201,
                        json={"post_id": thread["id"], "reason": "Spam"})
    # A report of a person, no group: the admins.
    await call(app_client, "POST", "/api/v1/reports", ben, 201,
               json={"actor": anna.actor.handle, "reason": "Belästigung"})
    await call(app_client, "PUT", "/api/v1/admin/settings/registration", admin,
               json={"mode": "approval"})
    r = await app_client.post("/api/v1/accounts", json={
        "username": "neu", "email": "neu@example.org", "password": "correct horse battery",
        "accept_terms": True})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    await notify(ctx)

    (item,) = (await notices(app_client, mod))["items"]
    assert item["type"] == "report" and item["post_id"] == thread["id"]
    assert item["data"] == {"report_id": report["id"], "reason": "Spam"}
    assert item["actor"]["username"] == "ben"
    page = await notices(app_client, admin)
    assert [i["type"] for i in page["items"]] == ["signup", "report"]
    assert page["items"][0]["actor"]["username"] == "neu"
    assert page["items"][0]["data"] == {"username": "neu"}
    assert (await notices(app_client, anna))["items"] == []


async def test_unread_counts_change_as_the_thread_is_read(app_client: httpx.AsyncClient,
                                                         ctx: Context) -> None:
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    await make_group(ctx)
    thread = await ask(app_client, anna)
    threads = "/api/v1/groups/breitband/threads"

    async def unread(user: User) -> int:
        page = await call(app_client, "GET", threads, user)
        value: int = page["items"][0]["unread"]
        return value

    assert "unread" not in (await call(app_client, "GET", threads, None))["items"][0]
    assert await unread(ben) == 1  # a thread started since he signed up: new as a whole
    assert await unread(anna) == 0  # her own
    read = f"/api/v1/posts/{thread['id']}/read"
    assert await call(app_client, "POST", read, ben) == {
        "thread_id": thread["id"], "last_read_post_id": thread["id"], "unread": 0}
    assert await unread(ben) == 0
    first = await reply(app_client, anna, thread["id"], "Eins")
    second = await reply(app_client, anna, thread["id"], "Zwei")
    await reply(app_client, ben, thread["id"], "Meins")  # his own post is no news to him
    assert await unread(ben) == 2
    assert await unread(anna) == 1
    r = await call(app_client, "POST", read, ben, json={"post_id": first["id"]})
    assert r["unread"] == 1 and r["last_read_post_id"] == first["id"]
    assert await unread(ben) == 1
    # Never backwards.
    r = await call(app_client, "POST", read, ben, json={"post_id": thread["id"]})
    assert r["last_read_post_id"] == first["id"]
    assert (await call(app_client, "POST", read, ben, json={"post_id": second["id"]})
            )["unread"] == 0

    # Reading marks the thread's notices read; the bell goes down.
    await notify(ctx)
    assert (await notices(app_client, anna))["unread"] == 1
    assert (await call(app_client, "POST", read, anna))["unread"] == 0
    assert (await notices(app_client, anna))["unread"] == 0

    other = await ask(app_client, anna, "Anderes Thema")
    r = await app_client.post(read, headers=ben.headers, json={"post_id": other["id"]})
    assert r.status_code == 422 and r.json()["field"] == "post_id"
    r = await app_client.post(read, headers=ben.headers, json={"post_id": "x"})
    assert r.status_code == 422


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 422, "ids"),
    ({"ids": "1"}, 422, "ids"),
    ({"ids": [1, "2"]}, 422, "ids"),
    ({"ids": [True]}, 422, "ids"),
    ({"all": "yes"}, 422, "all"),
    ({"all": True, "ids": [1]}, 422, "ids"),
    ({"ids": list(range(1, 502))}, 422, "ids"),
])
async def test_mark_read_refuses_bad_bodies(app_client: httpx.AsyncClient, ctx: Context,
                                           body: dict[str, Any], status: int,
                                           field: str) -> None:
    anna = await make_user(ctx, "anna")
    r = await app_client.post("/api/v1/notifications/read", headers=anna.headers, json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field and r.json()["message"]


async def test_notification_list_pages_and_needs_a_token(app_client: httpx.AsyncClient,
                                                        ctx: Context) -> None:
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    await make_group(ctx)
    thread = await ask(app_client, anna)
    ids = [(await reply(app_client, ben, thread["id"], f"Antwort {i}"))["id"] for i in range(5)]
    await notify(ctx)
    seen: list[int] = []
    notice_ids: list[int] = []
    url = "/api/v1/notifications?limit=2"
    while url:
        page = await call(app_client, "GET", url, anna)
        assert page["unread"] == 5
        seen += [i["post_id"] for i in page["items"]]
        notice_ids += [i["id"] for i in page["items"]]
        url = f"/api/v1/notifications?limit=2&cursor={page['next']}" if page["next"] else ""
    # Newest first by when it happened, not by when the worker (running events in
    # parallel) came to it.
    assert seen == list(reversed(ids)) and len(set(notice_ids)) == 5
    assert (await app_client.get("/api/v1/notifications")).status_code == 401
    r = await app_client.get("/api/v1/notifications?cursor=nonsense", headers=anna.headers)
    assert r.status_code == 422


async def test_unknown_kinds_are_skipped(app_client: httpx.AsyncClient, ctx: Context) -> None:
    async with ctx.pool.acquire() as conn:
        event_id = await notification_events.enqueue_event(conn, "future_kind", {"x": 1})
    assert await notify(ctx) == 1
    row = await ctx.pool.fetchrow("SELECT state, last_error FROM notification_events"
                                  " WHERE id = $1", event_id)
    assert row["state"] == "done" and "unknown kind" in row["last_error"]
