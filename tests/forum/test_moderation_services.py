"""Moderation on one instance, through the admin API: removal, lock, pin, bans (expiry,
content), reports, domain blocks (deliveries and content), modlog (JSON and the group's
ActivityPub collection), instances, parked activities, accounts, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import groups
from fedi.forum.bans import lift_expired_bans
from fedi.forum.staff import staff_of
from storage import actors as actor_store
from tests.support.helpers import User, make_group, make_user

AP = "application/activity+json"


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def call(client: httpx.AsyncClient, method: str, path: str, user: User | None,
               status: int, **kwargs: Any) -> Any:
    r = await client.request(method, path, headers=user.headers if user else None, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def thread(client: httpx.AsyncClient, user: User, title: str = "Glasfaser?") -> Any:
    return await call(client, "POST", "/api/v1/groups/breitband/threads", user, 201,
                      json={"title": title, "content": "Wann kommt der Ausbau?"})


async def titles(client: httpx.AsyncClient) -> list[str]:
    page = await call(client, "GET", "/api/v1/groups/breitband/threads", None, 200)
    return [t["title"] for t in page["items"]]


async def test_remove_restore_lock_pin_and_modlog(app_client: httpx.AsyncClient,
                                                  ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    mod = await make_user(ctx, "mod")
    anna = await make_user(ctx, "anna")
    await make_group(ctx, moderators=[mod.actor])
    first = await thread(app_client, anna, "Erster")
    second = await thread(app_client, anna, "Zweiter")
    base = "/api/v1/admin/posts"

    # Removal needs a reason; the content stays for the moderators, the public loses it.
    r = await app_client.post(f"{base}/{first['id']}/remove", headers=mod.headers, json={})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    removed = await call(app_client, "POST", f"{base}/{first['id']}/remove", mod, 200,
                         json={"reason": "Werbung"})
    assert removed["removed"] is True and removed["removed_reason"] == "Werbung"
    assert "Ausbau" in removed["content"]
    assert await titles(app_client) == ["Zweiter"]
    await call(app_client, "GET", f"/api/v1/posts/{first['id']}", None, 404)
    r = await app_client.post(f"{base}/{first['id']}/remove", headers=mod.headers,
                              json={"reason": "nochmal"})
    assert r.status_code == 409 and r.json()["error"] == "already_removed"
    await call(app_client, "POST", f"{base}/{first['id']}/restore", admin, 200)
    assert sorted(await titles(app_client)) == ["Erster", "Zweiter"]

    # Lock: no replies; unlock: replies again.
    await call(app_client, "POST", f"{base}/{second['id']}/lock", mod, 200,
               json={"reason": "Erledigt"})
    r = await app_client.post(f"/api/v1/posts/{second['id']}/replies", headers=anna.headers,
                              json={"content": "Noch was"})
    assert r.status_code == 403 and r.json()["error"] == "thread_locked"
    await call(app_client, "POST", f"{base}/{second['id']}/unlock", mod, 200)
    reply = await call(app_client, "POST", f"/api/v1/posts/{second['id']}/replies", anna, 201,
                       json={"content": "Noch was"})
    r = await app_client.post(f"{base}/{reply['id']}/lock", headers=mod.headers)
    assert r.status_code == 422  # only threads

    # Pin: listed first and in the featured collection.
    await call(app_client, "POST", f"{base}/{first['id']}/pin", mod, 200)
    assert (await titles(app_client))[0] == "Erster"
    featured = (await app_client.get("/groups/breitband/featured",
                                     headers={"Accept": AP})).json()
    assert [n["id"] for n in featured["orderedItems"]] == [first["ap_id"]]
    await call(app_client, "POST", f"{base}/{first['id']}/unpin", mod, 200)
    featured = (await app_client.get("/groups/breitband/featured",
                                     headers={"Accept": AP})).json()
    assert featured["totalItems"] == 0

    # The public modlog: what, where, why; names hidden until the admin shows them.
    log = await call(app_client, "GET", "/api/v1/modlog", None, 200)
    actions = [e["action"] for e in log["items"]]
    assert actions[:6] == ["thread_unpin", "thread_pin", "thread_unlock", "thread_lock",
                           "post_restore", "post_remove"]
    removal = log["items"][5]
    assert removal["reason"] == "Werbung" and removal["group"] == "breitband@127.0.0.1:8000"
    assert removal["target"]["post_title"] == "Erster" and removal["moderator"] is None
    await call(app_client, "PUT", "/api/v1/admin/settings/moderation", admin, 200,
               json={"modlog_show_moderators": True})
    log = await call(app_client, "GET", "/api/v1/modlog?limit=2", None, 200)
    assert [e["moderator"] for e in log["items"]] == ["mod@127.0.0.1:8000"] * 2
    assert log["next"]
    more = await call(app_client, "GET", f"/api/v1/modlog?limit=2&cursor={log['next']}",
                      None, 200)
    assert [e["action"] for e in more["items"]] == ["thread_unlock", "thread_lock"]

    # The group's modlog as an ActivityPub collection, linked from the Group actor.
    group_doc = (await app_client.get("/groups/breitband", headers={"Accept": AP})).json()
    assert group_doc["modlog"] == "http://127.0.0.1:8000/groups/breitband/modlog"
    collection = (await app_client.get(group_doc["modlog"], headers={"Accept": AP})).json()
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] >= 6
    page = (await app_client.get(collection["first"], headers={"Accept": AP})).json()
    kinds = [item["type"] for item in page["orderedItems"]]
    assert kinds[:6] == ["Remove", "Add", "Undo", "Lock", "Undo", "Delete"]
    delete = page["orderedItems"][5]
    assert delete["object"] == first["ap_id"] and delete["summary"] == "Werbung"
    assert delete["actor"] == mod.actor.ap_id


async def test_bans_refuse_posting_expire_and_remove_content(app_client: httpx.AsyncClient,
                                                             ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    mod = await make_user(ctx, "mod")
    anna = await make_user(ctx, "anna")
    await make_group(ctx, moderators=[mod.actor])
    await make_group(ctx, "verkehr", title="Verkehr")
    old = await thread(app_client, anna, "Alt")
    handle = anna.actor.handle

    ban = await call(app_client, "POST", "/api/v1/admin/bans", mod, 201, json={
        "actor": handle, "group": "breitband", "reason": "Beleidigungen",
        "remove_content": True})
    assert ban["actor"] == handle and ban["group"] == "breitband@127.0.0.1:8000"
    assert await titles(app_client) == []  # her content is removed with the ban
    r = await app_client.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                              json={"title": "Neu", "content": "x"})
    assert r.status_code == 403 and r.json()["error"] == "banned"
    assert "Beleidigungen" in r.json()["message"]
    r = await app_client.post(f"/api/v1/posts/{old['id']}/replies", headers=anna.headers,
                              json={"content": "x"})
    assert r.status_code in (403, 410)
    # Another group is not affected; a second ban of the same kind is a conflict.
    await call(app_client, "POST", "/api/v1/groups/verkehr/threads", anna, 201,
               json={"title": "Ampel", "content": "kaputt"})
    await call(app_client, "POST", "/api/v1/admin/bans", mod, 409,
               json={"actor": handle, "group": "breitband"})
    listed = await call(app_client, "GET", "/api/v1/admin/bans", mod, 200)
    assert [b["id"] for b in listed["items"]] == [ban["id"]]

    lifted = await call(app_client, "DELETE", f"/api/v1/admin/bans/{ban['id']}", mod, 200)
    assert lifted["lifted_at"] is not None
    await thread(app_client, anna, "Wieder da")

    # An instance ban with expiry: refused everywhere until it runs out.
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ban2 = await call(app_client, "POST", "/api/v1/admin/bans", admin, 201,
                      json={"actor": handle, "reason": "Pause", "expires_at": soon})
    r = await app_client.post("/api/v1/groups/verkehr/threads", headers=anna.headers,
                              json={"title": "x", "content": "y"})
    assert r.status_code == 403 and "this instance" in r.json()["message"]
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE bans SET expires_at = now() - interval '1 second'"
                           " WHERE id = $1", ban2["id"])
    await call(app_client, "POST", "/api/v1/groups/verkehr/threads", anna, 201,
               json={"title": "x", "content": "y"})  # expired: read-time check
    assert await lift_expired_bans(ctx) == 1
    assert await lift_expired_bans(ctx) == 0
    log = await call(app_client, "GET", "/api/v1/admin/modlog", admin, 200)
    assert log["items"][0]["action"] == "ban_expired"

    # Bad input is a clear 4xx.
    cases = [
        ({"actor": handle, "expires_at": "morgen"}, 422, "expires_at"),
        ({"actor": handle, "expires_at": "2020-01-01T00:00:00"}, 422, "expires_at"),
        ({"actor": handle, "expires_at": "2020-01-01T00:00:00Z"}, 422, "expires_at"),
        ({"actor": "chefin"}, 422, "actor"),
        ({}, 422, "actor"),
    ]
    for body, status, field in cases:
        r = await app_client.post("/api/v1/admin/bans", headers=admin.headers, json=body)
        assert r.status_code == status and r.json().get("field") == field, (body, r.text)
    r = await app_client.post("/api/v1/admin/bans", headers=admin.headers,
                              json={"actor": "niemand@127.0.0.1:8000"})
    assert r.status_code == 404
    r = await app_client.post("/api/v1/admin/bans", headers=admin.headers,
                              json={"actor": mod.actor.handle, "group": "gibtsnicht"})
    assert r.status_code == 404


async def test_reports_by_users_are_listed_assigned_and_resolved(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    mod = await make_user(ctx, "mod")
    other = await make_user(ctx, "other")
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    await make_group(ctx, moderators=[mod.actor])
    await make_group(ctx, "verkehr", title="Verkehr", moderators=[other.actor])
    post = await thread(app_client, anna)

    report = await call(app_client, "POST", "/api/v1/reports", ben, 201,
                        json={"post_id": post["id"], "reason": "Spam"})
    assert report["group"] == "breitband@127.0.0.1:8000"
    assert report["actor"] == "anna@127.0.0.1:8000"
    assert report["state"] == "open" and report["remote"] is False
    for body, status in [({"reason": "x"}, 422), ({"post_id": post["id"]}, 422),
                         ({"post_id": 999999, "reason": "x"}, 404),
                         ({"post_id": post["id"], "actor": "anna", "reason": "x"}, 422)]:
        r = await app_client.post("/api/v1/reports", headers=ben.headers, json=body)
        assert r.status_code == status, (body, r.text)
    await call(app_client, "POST", "/api/v1/reports", ben, 201,
               json={"actor": "anna", "reason": "Profil"})

    listed = await call(app_client, "GET", "/api/v1/admin/reports", mod, 200)
    assert [r["id"] for r in listed["items"]] == [report["id"]]  # not the actor report
    assert (await call(app_client, "GET", "/api/v1/admin/reports", other, 200))["items"] == []
    assigned = await call(app_client, "POST", f"/api/v1/admin/reports/{report['id']}/assign",
                          mod, 200)
    assert assigned["assigned_to"] == "mod@127.0.0.1:8000"
    await call(app_client, "POST", f"/api/v1/admin/reports/{report['id']}/assign", mod, 422,
               json={"assignee": "ben"})
    done = await call(app_client, "POST", f"/api/v1/admin/reports/{report['id']}/resolve",
                      mod, 200, json={"resolution": "entfernt"})
    assert done["state"] == "resolved" and done["resolution"] == "entfernt"
    await call(app_client, "POST", f"/api/v1/admin/reports/{report['id']}/resolve", mod, 409)
    assert (await call(app_client, "GET", "/api/v1/admin/reports", mod, 200))["items"] == []
    resolved = await call(app_client, "GET", "/api/v1/admin/reports?state=resolved", mod, 200)
    assert [r["id"] for r in resolved["items"]] == [report["id"]]


async def _remote_content(ctx: Context, host: str) -> int:
    """A remote actor on ``host`` with a thread in our group, and a queued delivery to
    ``host``; returns the delivery's id."""
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.upsert_remote(conn, f"http://{host}/users/eve", {
            "type": "Person", "username": "eve", "domain": host,
            "inbox": f"http://{host}/users/eve/inbox"})
        group = await actor_store.local_by_name(conn, "breitband")
        assert group is not None
        post_id = await conn.fetchval(
            "INSERT INTO posts (ap_id, local, group_id, author_id, title, content_html)"
            " VALUES ($1, false, $2, $3, 'Von Eve', '<p>hallo</p>') RETURNING id",
            f"http://{host}/posts/1", group.id, actor.id)
        await conn.execute("UPDATE posts SET thread_id = id WHERE id = $1", post_id)
        activity_id = await conn.fetchval(
            "INSERT INTO activities (ap_id, actor_id, type, payload) VALUES"
            " ('http://127.0.0.1:8000/activities/x', $1, 'Announce', '{}') RETURNING id",
            group.id)
        delivery_id = await conn.fetchval(
            "INSERT INTO deliveries (activity_id, inbox_url, domain) VALUES ($1, $2, $3)"
            " RETURNING id", activity_id, f"http://{host}/inbox", host)
    return int(delivery_id)


async def test_domain_block_stops_deliveries_and_hides_content(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    await make_group(ctx)
    host = "spam.example:8443"
    delivery_id = await _remote_content(ctx, host)
    assert await titles(app_client) == ["Von Eve"]

    async def delivery_state() -> str:
        async with ctx.pool.acquire() as conn:
            return str(await conn.fetchval("SELECT state FROM deliveries WHERE id = $1",
                                           delivery_id))

    # A block of the parent domain covers the host and its port.
    state = await call(app_client, "PUT", "/api/v1/admin/domains/spam.example", admin, 200,
                       json={"blocked": True, "reason": "Spam"})
    assert state == {"domain": "spam.example", "blocked": True, "allowed": False,
                     "reason": "Spam"}
    assert await titles(app_client) == []
    assert await delivery_state() == "cancelled"
    # Nothing new is queued for it.
    anna = await make_user(ctx, "anna")
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, target_id, state) SELECT a.id, g.id,"
            " 'accepted' FROM actors a, actors g WHERE a.username = 'eve'"
            " AND g.username = 'breitband'")
    await thread(app_client, anna, "Neu")
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE domain = $1", host) == 1
    log = await call(app_client, "GET", "/api/v1/modlog", None, 200)
    assert log["items"][0]["action"] == "domain_block"
    assert log["items"][0]["details"] == {"cancelled_deliveries": 1, "hidden_posts": 1}

    await call(app_client, "DELETE", "/api/v1/admin/domains/spam.example", admin, 204)
    assert sorted(await titles(app_client)) == ["Neu", "Von Eve"]
    assert await delivery_state() == "queued"
    await call(app_client, "DELETE", "/api/v1/admin/domains/spam.example", admin, 404)
    for bad in ("127.0.0.1:8000", "nicht gültig", "a..b"):
        r = await app_client.put(f"/api/v1/admin/domains/{bad}", headers=admin.headers,
                                 json={"blocked": True})
        assert r.status_code == 422, bad
    r = await app_client.put("/api/v1/admin/domains/x.example", headers=admin.headers, json={})
    assert r.status_code == 422

    # Allowlist mode: only listed hosts get deliveries.
    await call(app_client, "PUT", "/api/v1/admin/settings/moderation", admin, 200,
               json={"allowlist_mode": True})
    await thread(app_client, anna, "Nur für Erlaubte")
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE domain = $1", host) == 1
    await call(app_client, "PUT", "/api/v1/admin/domains/spam.example", admin, 200,
               json={"allowed": True})
    await thread(app_client, anna, "Erlaubt")
    async with ctx.pool.acquire() as conn:
        # Both Announce forms: the host's software is unknown.
        assert await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE domain = $1", host) == 3

    # Instances: software, health, reset and retry.
    page = await call(app_client, "GET", "/api/v1/admin/instances", admin, 200)
    row = next(i for i in page["items"] if i["domain"] == host)
    assert row["deliveries"]["queued"] == 3 and row["blocked"] is False and row["actors"] == 1
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE deliveries SET state = 'failed' WHERE domain = $1", host)
    done = await call(app_client, "POST", f"/api/v1/admin/instances/{host}/retry", admin, 200)
    assert done["changed"] == 3
    await call(app_client, "POST", f"/api/v1/admin/instances/{host}/reset", admin, 404)


async def test_parked_activities_accounts_groups_and_openapi(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    mod = await make_user(ctx, "mod")
    anna = await make_user(ctx, "anna")
    await make_group(ctx, moderators=[mod.actor])
    async with ctx.pool.acquire() as conn:
        parked_ids = [await conn.fetchval(
            "INSERT INTO inbox_activities (ap_id, type, actor_ap_id, payload, state,"
            " last_error) VALUES ($1, 'Create', 'https://x.example/u', '{}', 'parked',"
            " 'boom') RETURNING id", f"https://x.example/a/{i}") for i in (1, 2)]
    page = await call(app_client, "GET", "/api/v1/admin/inbox/parked", admin, 200)
    assert [(p["id"], p["error"]) for p in page["items"]] == [
        (parked_ids[1], "boom"), (parked_ids[0], "boom")]
    await call(app_client, "POST", f"/api/v1/admin/inbox/parked/{parked_ids[0]}/retry",
               admin, 204)
    await call(app_client, "DELETE", f"/api/v1/admin/inbox/parked/{parked_ids[1]}", admin, 204)
    await call(app_client, "DELETE", f"/api/v1/admin/inbox/parked/{parked_ids[1]}", admin, 404)
    assert (await call(app_client, "GET", "/api/v1/admin/inbox/parked", admin, 200))[
        "items"] == []

    # Suspension revokes tokens; unsuspending lets the account log in again.
    await call(app_client, "POST", "/api/v1/admin/accounts/anna/suspend", admin, 200,
               json={"reason": "Spam"})
    r = await app_client.get("/api/v1/me", headers=anna.headers)
    assert r.status_code == 401
    await call(app_client, "POST", "/api/v1/admin/accounts/anna/suspend", admin, 409)
    await call(app_client, "POST", "/api/v1/admin/accounts/anna/unsuspend", admin, 200)
    await call(app_client, "POST", "/api/v1/admin/accounts/chefin/suspend", admin, 422)
    await call(app_client, "POST", "/api/v1/admin/accounts/niemand/suspend", admin, 404)
    await call(app_client, "PUT", "/api/v1/admin/settings/registration", admin, 200,
               json={"mode": "approval"})
    r = await app_client.post("/api/v1/accounts", json={
        "username": "neu", "email": "neu@example.org", "password": "correct horse battery",
        "accept_terms": True})
    assert r.status_code == 201, r.text
    pending = await call(app_client, "GET", "/api/v1/admin/accounts?status=pending", admin, 200)
    assert [a["username"] for a in pending["items"]] == ["neu"]
    approved = await call(app_client, "POST", "/api/v1/admin/accounts/neu/approve", admin, 200)
    assert approved["status"] == "active"
    await call(app_client, "POST", "/api/v1/admin/accounts/neu/reject", admin, 409)

    # Groups: edit (moderator), moderators (URL-encoded actor URL or handle), delete.
    edited = await call(app_client, "PATCH", "/api/v1/admin/groups/breitband", mod, 200,
                        json={"title": "Glasfaser", "rules": "Freundlich bleiben"})
    assert edited["title"] == "Glasfaser" and edited["rules"] == "Freundlich bleiben"
    await call(app_client, "PATCH", "/api/v1/admin/groups/breitband", mod, 422, json={})
    encoded = anna.actor.ap_id.replace(":", "%3A").replace("/", "%2F")
    mods = await call(app_client, "PUT", f"/api/v1/admin/groups/breitband/moderators/{encoded}",
                      mod, 200)
    assert [m["handle"] for m in mods["moderators"]] == ["mod@127.0.0.1:8000",
                                                         "anna@127.0.0.1:8000"]
    collection = (await app_client.get("/groups/breitband/moderators",
                                       headers={"Accept": AP})).json()
    assert anna.actor.ap_id in collection["orderedItems"]
    await call(app_client, "DELETE", "/api/v1/admin/groups/breitband/moderators/anna", mod, 200)
    await call(app_client, "DELETE", "/api/v1/admin/groups/breitband/moderators/anna", mod, 404)
    await call(app_client, "DELETE", "/api/v1/admin/groups/breitband", admin, 204)
    await call(app_client, "GET", "/api/v1/groups/breitband", None, 404)
    await call(app_client, "DELETE", "/api/v1/admin/groups/breitband", admin, 404)

    spec = (await app_client.get("/api/v1/openapi.json")).json()
    for path in ("/api/v1/admin/groups/{name}", "/api/v1/admin/groups/{name}/moderators/{actor}",
                 "/api/v1/admin/posts/{id}/remove", "/api/v1/admin/bans",
                 "/api/v1/admin/bans/{id}", "/api/v1/reports", "/api/v1/admin/reports",
                 "/api/v1/admin/reports/{id}/resolve", "/api/v1/admin/domains/{domain}",
                 "/api/v1/admin/instances", "/api/v1/modlog"):
        assert path in spec["paths"], path


async def test_group_and_its_modlog_entry_are_written_together(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    staff = await staff_of(ctx, admin.account)
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "CREATE FUNCTION refuse_modlog() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'modlog unavailable'; END $$;"
            " CREATE TRIGGER refuse_modlog BEFORE INSERT ON modlog"
            " FOR EACH ROW EXECUTE FUNCTION refuse_modlog()")
    # The modlog entry cannot be written: the group is not created either.
    with pytest.raises(asyncpg.RaiseError, match="modlog unavailable"):
        await groups.create_group(ctx, staff, name="kaputt", title="Kaputt")
    await call(app_client, "GET", "/api/v1/groups/kaputt", None, 404)
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM actors WHERE username = 'kaputt'") == 0
        await conn.execute("DROP TRIGGER refuse_modlog ON modlog")

    created = await call(app_client, "POST", "/api/v1/admin/groups", admin, 201,
                         json={"name": "heil", "title": "Heil"})
    entry = (await call(app_client, "GET", "/api/v1/modlog", None, 200))["items"][0]
    assert (entry["action"], entry["group"]) == ("group_create", created["handle"])
