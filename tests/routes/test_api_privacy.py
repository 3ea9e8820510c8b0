"""The privacy rights in the JSON API: the data export (GET /api/v1/me/export, a ZIP) and
account deletion (DELETE /api/v1/me, DELETE /api/v1/admin/accounts/{name}), checked
against the OpenAPI document, the ZIP opened, and the database searched afterwards."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.core.queue import Worker
from fedi.forum.notify_queue import NotificationQueue
from fedi.forum.reports import report
from fedi.worker import run_once
from storage import actors as actor_store
from storage import follows as follow_store
from tests.routes.test_openapi import Api
from tests.support.helpers import User, make_group, make_user
from tests.support.personal_data import find_traces, tables

PASSWORD = "correct horse battery"
SHOWN = "Anna Amtfrau"
BIO = "Ich wohne in der Lindenstraße 7 und mag Glasfaser"


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def _remote_group(ctx: Context) -> int:
    async with ctx.pool.acquire() as conn:
        group = await actor_store.upsert_remote(conn, "https://lemmy.example/c/radwege", {
            "type": "Group", "username": "radwege", "domain": "lemmy.example",
            "inbox": "https://lemmy.example/c/radwege/inbox", "name": "Radwege"})
    return group.id


async def _active_user(api: Api, ctx: Context, name: str) -> tuple[User, dict[str, Any]]:
    """A user with a bio, a thread, a reply, a like, a local and a remote follow, and a
    report; returns the user and the ids made."""
    user = await make_user(ctx, name)
    other = await make_user(ctx, f"{name}x")
    async with ctx.pool.acquire() as conn:
        group_id = await conn.fetchval(
            "SELECT id FROM actors WHERE username = 'breitband' AND local")
        # A remote follower of the local group: the group relays (and stores) Announces.
        reader = await actor_store.upsert_remote(conn, "https://social.example/users/r", {
            "type": "Person", "username": "r", "domain": "social.example",
            "inbox": "https://social.example/users/r/inbox"})
        await follow_store.upsert(conn, follower_id=reader.id, target_id=group_id,
                                  ap_id=None, state="accepted")
    await api("PATCH", "/api/v1/me", user, status=200, json={"bio": BIO, "display_name": SHOWN})
    await api("POST", "/api/v1/groups/breitband/follow", user, status=200)
    thread = await api("POST", "/api/v1/groups/breitband/threads", user, status=201,
                       json={"title": "Wann kommt Glasfaser?", "content": "Frage **eins**"})
    reply = await api("POST", f"/api/v1/posts/{thread['id']}/replies", user, status=201,
                      json={"content": "Nachtrag _zwei_"})
    foreign = await api("POST", "/api/v1/groups/breitband/threads", other, status=201,
                        json={"title": "Antwort der Gemeinde", "content": "Bald."})
    await api("POST", f"/api/v1/posts/{foreign['id']}/like", user, status=200)
    remote = await _remote_group(ctx)
    async with ctx.pool.acquire() as conn:
        await follow_store.upsert(conn, follower_id=user.actor.id, target_id=remote,
                                  ap_id=None, state="accepted")
    await report(ctx, user.actor, post_id=foreign["id"], actor_ref=None,
                 reason="Das ist meine Meldung")
    return user, {"thread": thread, "reply": reply, "foreign": foreign}


async def test_the_export_zip_holds_posts_likes_follows_and_a_readme(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    await make_group(ctx)
    user, made = await _active_user(api, ctx, "anna")
    # Someone answers Anna's thread: she is notified (by the worker).
    other = await make_user(ctx, "ute")
    answer_to_anna = await api("POST", f"/api/v1/posts/{made['thread']['id']}/replies", other,
                               status=201, json={"content": "Im Frühjahr."})
    await Worker(ctx.pool, [NotificationQueue(ctx)], concurrency=2).run_once()

    answer = await app_client.get("/api/v1/me/export", headers=user.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert names == {"README.txt", "account.json", "posts.json", "likes.json",
                     "follows.json", "reports.json", "notifications.json", "sessions.json",
                     "media.json"}

    def load(name: str) -> Any:
        return json.loads(archive.read(name))

    account = load("account.json")
    assert account["account"]["email"] == "anna@example.org"
    assert "password_hash" not in account["account"]
    assert account["actor"]["username"] == "anna"
    # The profile, read generically from its table, so later fields come along.
    assert account["profiles"][0]["bio_source"] == BIO
    posts = load("posts.json")
    by_id = {p["id"]: p for p in posts}
    assert set(by_id) == {made["thread"]["id"], made["reply"]["id"]}
    assert by_id[made["thread"]["id"]]["source"] == "Frage **eins**"
    assert "<strong>eins</strong>" in by_id[made["thread"]["id"]]["content_html"]
    assert by_id[made["reply"]["id"]]["source"] == "Nachtrag _zwei_"
    assert [like["post_id"] for like in load("likes.json")] == [made["foreign"]["id"]]
    follows = {f["target_ap_id"]: f for f in load("follows.json")}
    assert set(follows) == {f"{ctx.settings.base_url}/groups/breitband",
                            "https://lemmy.example/c/radwege"}
    assert follows["https://lemmy.example/c/radwege"]["target_local"] is False
    assert [r["reason"] for r in load("reports.json")] == ["Das ist meine Meldung"]
    [notice] = [n for n in load("notifications.json") if n["type"] == "reply"]
    assert (notice["type"], notice["post_id"], notice["actor_ap_id"]) == (
        "reply", answer_to_anna["id"], f"{ctx.settings.base_url}/users/ute")
    assert "notifications" not in account  # once, in its own file
    sessions = load("sessions.json")
    assert [s["name"] for s in sessions] == ["test"]
    assert not any("hash" in key or "token" in key for s in sessions for key in s)
    readme = archive.read("README.txt").decode()
    assert "anna@127.0.0.1:8000" in readme and ctx.settings.base_url in readme
    assert "posts.json" in readme and "Beiträge" in readme and "notifications" in readme
    assert "Benachrichtigungen (Antworten" in readme and "media/" in readme


async def test_exports_are_rate_limited_and_need_a_login(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    user = await make_user(ctx, "bert")
    assert (await app_client.get("/api/v1/me/export")).status_code == 401
    for _ in range(3):
        assert (await app_client.get("/api/v1/me/export",
                                     headers=user.headers)).status_code == 200
    refused = await app_client.get("/api/v1/me/export", headers=user.headers)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0


async def _secrets_of(ctx: Context, user: User) -> dict[str, str | bytes]:
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT email, password_hash FROM accounts WHERE id = $1",
                                  user.account.id)
        key = await conn.fetchval("SELECT rsa_private_pem FROM actor_keys WHERE actor_id = $1",
                                  user.actor.id)
    return {"e-mail": row["email"], "password hash": row["password_hash"], "bio": BIO,
            "display name": SHOWN, "token": user.token,
            "token hash": hashlib.sha256(user.token.encode()).digest(),
            "private key": key.splitlines()[5], "thread title": "Wann kommt Glasfaser?"}


async def test_deleting_the_account_leaves_no_personal_data_and_deletes_the_posts(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    await make_group(ctx)
    user, made = await _active_user(api, ctx, "anna")
    needles = await _secrets_of(ctx, user)
    async with ctx.pool.acquire() as conn:
        before = await find_traces(conn, needles)
        assert len(await tables(conn)) > 20  # the search sees the whole schema
    assert any(t.startswith("e-mail in accounts.") for t in before), before
    assert any(t.startswith("bio in ") for t in before), before

    wrong = await api("DELETE", "/api/v1/me", user, status=403,
                      json={"password": "not my password at all"})
    assert wrong["error"] == "wrong_password" and "not deleted" in wrong["message"]
    missing = await api("DELETE", "/api/v1/me", user, status=422, json={})
    assert missing["field"] == "password"
    done = await api("DELETE", "/api/v1/me", user, status=202, json={"password": PASSWORD})
    assert done == {"status": "deleted", "username": "anna", "keep_posts": False}
    # The token is gone with the account.
    assert (await app_client.get("/api/v1/me", headers=user.headers)).status_code == 401

    # The posts are tombstones; the other user's post lost the like.
    thread = await api("GET", f"/api/v1/posts/{made['thread']['id']}", status=200)
    assert (thread["deleted"], thread["content"], thread["title"]) == (True, "", "")
    assert [(r["deleted"], r["content"]) for r in thread["replies"]] == [(True, "")]
    foreign = await api("GET", f"/api/v1/posts/{made['foreign']['id']}", status=200)
    assert foreign["like_count"] == 0
    # The actor answers 410 with a Tombstone.
    actor = await app_client.get(user.actor.ap_id,
                                 headers={"Accept": "application/activity+json"})
    assert actor.status_code == 410
    assert actor.json()["type"] == "Tombstone" and actor.json()["formerType"] == "Person"

    # The Deletes went to the group's remote follower; the keys go once nothing is left
    # to sign (this app runs no workers: the deliveries are ended here by hand).
    async with ctx.pool.acquire() as conn:
        sent = await conn.fetch(
            "SELECT a.type, a.payload->'object'->>'type' AS inner, d.inbox_url"
            " FROM deliveries d JOIN activities a ON a.id = d.activity_id"
            " WHERE d.state = 'queued' ORDER BY d.id")
        await conn.execute("UPDATE deliveries SET state = 'delivered'")
    assert {(r["type"], r["inner"]) for r in sent} >= {("Delete", None),
                                                       ("Announce", "Delete")}
    await run_once(ctx)
    async with ctx.pool.acquire() as conn:
        traces = await find_traces(conn, needles)
        report_row = await conn.fetchrow("SELECT reporter_id, reason FROM reports")
    assert traces == [], traces
    assert report_row["reporter_id"] is None  # the report stays for the moderators

    # The name is not given out again.
    taken = await app_client.post("/api/v1/accounts", json={
        "username": "anna", "email": "new-anna@example.org", "password": PASSWORD,
        "accept_terms": True})
    assert taken.status_code == 409, taken.text
    assert taken.json()["field"] == "username"
    assert "deleted account" in taken.json()["message"]


async def test_kept_posts_show_a_deleted_account_without_a_name(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    group = await make_group(ctx)
    user = await make_user(ctx, "carla")
    thread = await api("POST", "/api/v1/groups/breitband/threads", user, status=201,
                       json={"title": "Bleibt stehen", "content": "Mein Beitrag bleibt"})
    await api("DELETE", "/api/v1/me", user, status=202,
              json={"password": PASSWORD, "keep_posts": True})
    kept = await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
    assert kept["content"].startswith("<p>Mein Beitrag bleibt")
    assert kept["author"]["display_name"] == "gelöschtes Konto"
    page = await app_client.get(f"/groups/breitband/posts/{thread['id']}",
                                headers={"Accept": "text/html"})
    if page.status_code == 404:  # the thread page lives at the post's URL
        page = await app_client.get(kept["url"], headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "gelöschtes Konto" in page.text and "Carla" not in page.text
    profile = await app_client.get("/users/carla", headers={"Accept": "text/html"})
    assert profile.status_code == 410
    assert "Carla" not in profile.text
    assert group.ap_id
    bad = await api("DELETE", "/api/v1/me", await make_user(ctx, "dora"), status=422,
                    json={"password": PASSWORD, "keep_posts": "ja"})
    assert bad["field"] == "keep_posts"


async def test_an_admin_deletes_an_account_with_a_modlog_entry(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    admin = await make_user(ctx, "vera", admin=True)
    user = await make_user(ctx, "egon")
    await api("DELETE", "/api/v1/admin/accounts/egon", user, status=403)
    await api("DELETE", "/api/v1/admin/accounts/nobody", admin, status=404)
    own = await api("DELETE", "/api/v1/admin/accounts/vera", admin, status=422)
    assert "/api/v1/me" in own["message"]
    done = await api("DELETE", "/api/v1/admin/accounts/egon", admin, status=202,
                     json={"reason": "Auf eigenen Wunsch per Brief"})
    assert done == {"status": "deleted", "username": "egon", "keep_posts": False}
    async with ctx.pool.acquire() as conn:
        entry = await conn.fetchrow(
            "SELECT action, public, moderator_id, target_actor_id, reason FROM modlog"
            " WHERE action = 'account_delete'")
        left = await conn.fetchval("SELECT count(*) FROM accounts WHERE username = 'egon'")
    assert dict(entry) == {"action": "account_delete", "public": False,
                           "moderator_id": admin.actor.id,
                           "target_actor_id": user.actor.id,
                           "reason": "Auf eigenen Wunsch per Brief"}
    assert left == 0
    await api("DELETE", "/api/v1/admin/accounts/egon", admin, status=404)
