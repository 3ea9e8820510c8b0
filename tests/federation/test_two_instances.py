"""Two dEMiSA instances on loopback (own ports, own databases, in-process workers): a user
on B joins a group on A, posts into it, reads the replies from A, edits, deletes, likes,
leaves; a group's history is backfilled; remote group lookups fail cleanly.

Everything is observed through each side's JSON API (and, for "nothing arrives", its
database), polling with a timeout: the instances talk to each other in the background.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from activitypub.delivery import deliver
from activitypub.keys import generate_rsa_keypair
from fedi.core.actors import signing_key
from fedi.worker import run_once
from storage import actors as actor_store
from storage import backfills as backfill_store
from storage import posts as post_store
from tests.conftest import LiveServer, free_port
from tests.support.federation_helpers import Instance, Side, eventually, idle, join
from tests.support.helpers import make_group, make_user
from tests.support.inbound_fixtures import FakeClock

AP = "application/activity+json"


@pytest.fixture
async def sides(instance: Instance) -> AsyncIterator[tuple[Side, Side]]:
    a = await instance(workers=1)
    b = await instance(workers=1)
    async with httpx.AsyncClient(base_url=a.url) as ca, \
            httpx.AsyncClient(base_url=b.url) as cb:
        yield Side(a, ca), Side(b, cb)


async def only_reply(side: Side, post_id: int, reply_ap_id: str) -> dict[str, Any]:
    """The one reply of a post, once it has arrived."""
    async def check() -> dict[str, Any]:
        tree = await side.get(f"/api/v1/posts/{post_id}")
        assert [r["ap_id"] for r in tree["replies"]] == [reply_ap_id], tree
        return dict(tree["replies"][0])

    return await eventually(check)


async def deleted(side: Side, post_id: int) -> None:
    """Wait until the post shows as deleted (a tombstone without content)."""
    async def check() -> None:
        post = await side.get(f"/api/v1/posts/{post_id}")
        assert post["deleted"] is True and post["content"] == "", post

    await eventually(check)


def thread_titles(page: dict[str, Any]) -> list[str]:
    return [t["title"] for t in page["items"]]


async def test_remote_group_lookup(sides: tuple[Side, Side]) -> None:
    a, b = sides
    await make_group(a.ctx, "breitband")
    await make_user(a.ctx, "anna")
    bert = await make_user(b.ctx, "bert")

    group = await b.get(f"/api/v1/groups/breitband@{a.host}", bert)
    assert group["local"] is False
    assert group["title"] == "Breitbandausbau"
    assert group["ap_id"] == f"{a.server.url}/groups/breitband"
    assert group["follow_state"] == "none"
    assert group["thread_count"] == 0
    # It is cached with its groups row: it lists, and a URL finds the same group.
    listed = await b.get("/api/v1/groups")
    assert [g["handle"] for g in listed["items"]] == [f"breitband@{a.host}"]
    again = await b.get(f"/api/v1/groups/!breitband@{a.host}")
    assert again["ap_id"] == group["ap_id"]

    cases = [
        (f"nosuch@{a.host}", 404, "remote_not_found"),
        (f"anna@{a.host}", 422, "not_a_group"),
        (f"gruppe@127.0.0.1:{free_port()}", 502, "remote_error"),
        ("gruppe@bad_host!", 422, "validation_failed"),
        (f"nosuch@{b.host}", 404, "not_found"),
    ]
    for ref, status, code in cases:
        r = await b.client.get(f"/api/v1/groups/{ref}")
        assert (r.status_code, r.json()["error"]) == (status, code), (ref, r.text)
        assert r.json()["message"]
    r = await b.client.post(f"/api/v1/groups/nosuch@{a.host}/follow", headers=bert.headers)
    assert r.status_code == 404
    r = await b.client.post(f"/api/v1/groups/breitband@{a.host}/follow")
    assert r.status_code == 401


async def test_local_group_follow_is_accepted_at_once(sides: tuple[Side, Side]) -> None:
    a, _ = sides
    await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")
    group = await a.call("POST", "/api/v1/groups/breitband/follow", anna)
    assert group["follow_state"] == "accepted" and group["follower_count"] == 1
    group = await a.call("DELETE", "/api/v1/groups/breitband/follow", anna)
    assert group["follow_state"] == "none" and group["follower_count"] == 0
    assert await a.queued() == 0  # nothing to send for a local group


async def test_member_on_b_takes_part_in_group_on_a(sides: tuple[Side, Side]) -> None:
    a, b = sides
    await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")
    bert = await make_user(b.ctx, "bert")
    ref = f"breitband@{a.host}"

    # Follow: pending until A's Accept arrives.
    await join(b, ref, bert)
    assert (await a.get("/api/v1/groups/breitband"))["follower_count"] == 1

    # Bert's thread reaches A, and A's group announces it back to B.
    mine = await b.call("POST", f"/api/v1/groups/{ref}/threads", bert, status=201,
                        json={"title": "Glasfaser in Nebendorf?",
                              "content": "Wann kommt der **Ausbau**?"})

    async def on_a() -> dict[str, Any]:
        page = await a.get("/api/v1/groups/breitband/threads")
        found = [t for t in page["items"] if t["ap_id"] == mine["ap_id"]]
        assert found, page
        return dict(found[0])

    thread_a = await eventually(on_a)
    assert thread_a["title"] == "Glasfaser in Nebendorf?"
    # Addressed as Lemmy addresses a community post; the Create and its Note are both
    # fetchable at their ids.
    async with a.ctx.pool.acquire() as conn:
        create = await conn.fetchval(
            "SELECT payload FROM inbox_activities WHERE type = 'Create'"
            " AND payload -> 'object' ->> 'id' = $1", mine["ap_id"])
    group_id = f"{a.server.url}/groups/breitband"
    public = "https://www.w3.org/ns/activitystreams#Public"
    for doc in (create, create["object"]):
        assert doc["to"] == [group_id, public] and doc["audience"] == group_id, doc
    for url in (create["id"], mine["ap_id"]):
        r = await b.client.get(url, headers={"Accept": AP})
        assert r.status_code == 200 and r.json()["id"] == url
    assert "<strong>Ausbau</strong>" in thread_a["content"]
    assert thread_a["author"]["handle"] == f"bert@{b.host}"

    async def announced_back() -> None:
        async with b.ctx.pool.acquire() as conn:
            payloads = await conn.fetch(
                "SELECT payload FROM inbox_activities WHERE type = 'Announce'")
        inner = [p["payload"]["object"] for p in payloads]
        assert any(isinstance(i, dict) and i.get("type") == "Create"
                   and i["object"]["id"] == mine["ap_id"] for i in inner), inner

    await eventually(announced_back)

    # Anna answers on A; bert reads it on B, in his thread.
    reply_a = await a.call("POST", f"/api/v1/posts/{thread_a['id']}/replies", anna,
                           status=201, json={"content": "Im *Frühjahr*."})

    reply_b = await only_reply(b, mine["id"], reply_a["ap_id"])
    assert "<em>Frühjahr</em>" in reply_b["content"]
    assert reply_b["author"]["handle"] == f"anna@{a.host}"

    # Edits travel both ways.
    await a.call("PATCH", f"/api/v1/posts/{reply_a['id']}", anna,
                 json={"content": "Im Frühjahr 2027."})

    async def edit_on_b() -> None:
        post = await b.get(f"/api/v1/posts/{reply_b['id']}")
        assert "Frühjahr 2027" in post["content"] and post["updated"], post

    await eventually(edit_on_b)
    await b.call("PATCH", f"/api/v1/posts/{mine['id']}", bert,
                 json={"title": "Glasfaser in Nebendorf: wann?"})

    async def edit_on_a() -> None:
        post = await a.get(f"/api/v1/posts/{thread_a['id']}")
        assert post["title"] == "Glasfaser in Nebendorf: wann?", post

    await eventually(edit_on_a)

    # A like from B counts on A.
    liked = await b.call("POST", f"/api/v1/posts/{reply_b['id']}/like", bert)
    assert liked["like_count"] == 1

    async def like_on_a() -> None:
        assert (await a.get(f"/api/v1/posts/{reply_a['id']}"))["like_count"] == 1

    await eventually(like_on_a)

    # Bert answers anna's (remote) reply: it reaches the group and her; then he deletes it.
    answer = await b.call("POST", f"/api/v1/posts/{reply_b['id']}/replies", bert,
                          status=201, json={"content": "Danke!"})

    answer_a = await only_reply(a, reply_a["id"], answer["ap_id"])
    await b.call("DELETE", f"/api/v1/posts/{answer['id']}", bert, status=204)
    await deleted(a, answer_a["id"])

    # Anna deletes her reply: gone on B too.
    await a.call("DELETE", f"/api/v1/posts/{reply_a['id']}", anna, status=204)
    await deleted(b, reply_b["id"])

    # Bert leaves: A forgets him as a follower, and A's next thread does not reach B.
    group = await b.call("DELETE", f"/api/v1/groups/{ref}/follow", bert)
    assert group["follow_state"] == "none"

    async def unfollowed_on_a() -> None:
        assert (await a.get("/api/v1/groups/breitband"))["follower_count"] == 0

    await eventually(unfollowed_on_a)
    await idle(a, b)
    after = await a.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                         json={"title": "Nur noch für A", "content": "Neu"})
    await idle(a, b)
    async with a.ctx.pool.acquire() as conn:
        to_b = await conn.fetchval(
            "SELECT count(*) FROM deliveries d JOIN activities x ON x.id = d.activity_id"
            " WHERE x.post_id = $1 AND d.domain = $2", after["id"], b.host)
    assert to_b == 0
    async with b.ctx.pool.acquire() as conn:
        assert await post_store.by_ap_id(conn, after["ap_id"]) is None
        seen = await conn.fetchval(
            "SELECT count(*) FROM inbox_activities WHERE payload::text LIKE $1",
            f"%{after['ap_id']}%")
    assert seen == 0
    titles = thread_titles(await b.get(f"/api/v1/groups/{ref}/threads"))
    assert titles == ["Glasfaser in Nebendorf: wann?"]


# --- backfill -------------------------------------------------------------------------


class Origin:
    """A third server that only serves documents: an actor and one reply of hers, so a
    reply reaches B only through A's context collection (never through A's outbox)."""

    def __init__(self) -> None:
        self.url = ""
        self.docs: dict[str, dict[str, Any]] = {}
        self.pem = generate_rsa_keypair().public_pem

    async def serve(self, request: Request) -> JSONResponse:
        doc = self.docs.get(request.url.path)
        if doc is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(doc, media_type=AP)

    def app(self, port: int) -> Starlette:
        self.url = f"http://127.0.0.1:{port}"
        return Starlette(routes=[Route("/{path:path}", self.serve, methods=["GET"])])

    @classmethod
    async def start(cls, live_server: Callable[..., Awaitable[LiveServer]]) -> Origin:
        origin = cls()
        await live_server(origin.app)
        return origin

    def person(self, name: str) -> str:
        actor_id = f"{self.url}/users/{name}"
        return self.add(f"/users/{name}", {
            "type": "Person", "preferredUsername": name, "inbox": f"{self.url}/inbox",
            "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id,
                          "publicKeyPem": self.pem}})

    def add(self, path: str, doc: dict[str, Any]) -> str:
        ap_id = self.url + path
        self.docs[path] = {"@context": "https://www.w3.org/ns/activitystreams", "id": ap_id,
                           **doc}
        return ap_id


async def test_backfill_of_a_group_on_first_follow(
    sides: tuple[Side, Side], live_server: Callable[..., Awaitable[LiveServer]],
) -> None:
    a, b = sides
    group = await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")
    titles = ["Erster Faden", "Zweiter Faden", "Dritter Faden"]
    threads = [await a.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                            json={"title": t, "content": f"Text zu {t}"}) for t in titles]
    await a.call("POST", f"/api/v1/posts/{threads[0]['id']}/replies", anna, status=201,
                 json={"content": "Eine Antwort von A"})

    # A reply by someone elsewhere, stored on A as a remote post: only A's context
    # collection of the first thread lists it.
    origin = await Origin.start(live_server)
    carla_id = origin.person("carla")
    note_id = origin.add("/notes/1", {
        "type": "Note", "attributedTo": carla_id, "content": "<p>Antwort von anderswo</p>",
        "inReplyTo": threads[0]["ap_id"], "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [group.ap_id], "published": "2026-01-02T10:00:00Z"})
    async with a.ctx.pool.acquire() as conn:
        carla = await actor_store.upsert_remote(conn, carla_id, {
            "type": "Person", "username": "carla", "domain": origin.url.split("//")[1],
            "inbox": f"{origin.url}/inbox"})
        root = await post_store.by_ap_id(conn, threads[0]["ap_id"])
        assert root is not None
        await post_store.insert(conn, {
            "ap_id": note_id, "local": False, "group_id": group.id, "author_id": carla.id,
            "thread_id": root.id, "parent_id": root.id, "depth": 1,
            "content_html": "<p>Antwort von anderswo</p>"})

    bert = await make_user(b.ctx, "bert")
    ref = f"breitband@{a.host}"
    await b.call("POST", f"/api/v1/groups/{ref}/follow", bert)

    async def backfilled() -> list[dict[str, Any]]:
        page = await b.get(f"/api/v1/groups/{ref}/threads")
        assert sorted(thread_titles(page)) == sorted(titles), page
        return list(page["items"])

    items = await eventually(backfilled)
    first = next(t for t in items if t["title"] == "Erster Faden")
    assert first["content"].endswith("<p>Text zu Erster Faden</p>")

    async def replies_backfilled() -> None:
        tree = await b.get(f"/api/v1/posts/{first['id']}")
        contents = sorted(r["content"] for r in tree["replies"])
        assert contents == ["<p>Antwort von anderswo</p>", "<p>Eine Antwort von A</p>"], tree

    await eventually(replies_backfilled)
    group_b = await b.get(f"/api/v1/groups/{ref}", bert)
    assert group_b["follow_state"] == "accepted"
    assert group_b["thread_count"] == 3 and group_b["post_count"] == 5


async def test_backfill_is_a_durable_job_retried_after_a_failure(instance: Instance) -> None:
    server_a = await instance(workers=1)
    server_b = await instance()  # no workers: B's queues run only when the test says so
    async with httpx.AsyncClient(base_url=server_a.url) as ca, \
            httpx.AsyncClient(base_url=server_b.url) as cb:
        a, b = Side(server_a, ca), Side(server_b, cb)
        group = await make_group(a.ctx, "breitband")
        anna = await make_user(a.ctx, "anna")
        await a.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                     json={"title": "Alter Faden", "content": "von früher"})
        bert = await make_user(b.ctx, "bert")
        carl = await make_user(b.ctx, "carl")
        ref = f"breitband@{a.host}"
        clock = FakeClock()

        async def accepted_on_b(count: int) -> None:
            await run_once(b.ctx, clock=clock)  # sends the Follow

            async def arrived() -> None:
                async with b.ctx.pool.acquire() as conn:
                    assert await conn.fetchval("SELECT count(*) FROM inbox_activities"
                                               " WHERE type = 'Accept'") == count

            await eventually(arrived)
            # The job is queued at the database's now: on a slow machine that can be past
            # the fake clock made a while ago, so bring the clock up to the present.
            clock.now = max(clock.now, datetime.now(UTC) + timedelta(seconds=5))
            await run_once(b.ctx, clock=clock)  # the Accept, then the job it queued

        await b.call("POST", f"/api/v1/groups/{ref}/follow", bert)
        async with b.ctx.pool.acquire() as conn:
            cached = await actor_store.by_ap_id(conn, group.ap_id)
            assert cached is not None and cached.outbox
            # The group's server cannot be reached for the first try.
            await conn.execute("UPDATE actors SET outbox = $2 WHERE id = $1", cached.id,
                               f"http://127.0.0.1:{free_port()}/outbox")
        await accepted_on_b(1)
        async with b.ctx.pool.acquire() as conn:
            job = await backfill_store.by_group(conn, cached.id)
        assert job is not None and (job.state, job.attempts) == ("queued", 1), job
        assert job.last_error and job.next_attempt_at > clock.now
        assert thread_titles(await b.get(f"/api/v1/groups/{ref}/threads")) == []

        # Back again: the retry, when due, reads the history.
        async with b.ctx.pool.acquire() as conn:
            await conn.execute("UPDATE actors SET outbox = $2 WHERE id = $1", cached.id,
                               cached.outbox)
        await run_once(b.ctx, clock=clock)
        async with b.ctx.pool.acquire() as conn:
            assert (await backfill_store.by_group(conn, cached.id)) == job  # not due yet
        clock.now += timedelta(seconds=61)
        await run_once(b.ctx, clock=clock)
        async with b.ctx.pool.acquire() as conn:
            job = await backfill_store.by_group(conn, cached.id)
        assert job is not None and (job.state, job.attempts, job.threads) == ("done", 2, 1)
        assert thread_titles(await b.get(f"/api/v1/groups/{ref}/threads")) == ["Alter Faden"]

        # A second member: no second job.
        await b.call("POST", f"/api/v1/groups/{ref}/follow", carl)
        await accepted_on_b(2)
        async with b.ctx.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM backfill_jobs") == 1
            assert await backfill_store.by_group(conn, cached.id) == job


# --- Announce forms and origin checks -------------------------------------------------


async def test_announces_are_trusted_only_from_their_origin(
    sides: tuple[Side, Side], live_server: Callable[..., Awaitable[LiveServer]],
) -> None:
    a, b = sides
    group = await make_group(a.ctx, "breitband")
    quiet = await make_group(a.ctx, "verkehr", title="Verkehr")
    bert = await make_user(b.ctx, "bert")
    ref = f"breitband@{a.host}"
    await join(b, ref, bert)

    origin = await Origin.start(live_server)
    carla = origin.person("carla")
    public = ["https://www.w3.org/ns/activitystreams#Public"]

    def note(path: str, text: str, group_id: str = group.ap_id) -> dict[str, Any]:
        return {"id": origin.url + path, "type": "Note", "attributedTo": carla,
                "content": f"<p>{text}</p>", "to": public, "cc": [group_id],
                "audience": group_id}

    real = note("/notes/1", "echt")
    origin.add("/notes/1", real)
    create = {"type": "Create", "actor": carla, "object": real, "to": public}
    create_id = origin.add("/activities/1", create)
    origin.add("/notes/2", note("/notes/2", "als Verweis"))
    origin.add("/notes/3", note("/notes/3", "in fremder Gruppe", quiet.ap_id))

    async with a.ctx.pool.acquire() as conn:
        key = await signing_key(conn, group)
        quiet_key = await signing_key(conn, quiet)
    sent: list[str] = []

    async def announce(obj: Any, *, by: Any = group, with_key: Any = None) -> str:
        announce_id = f"{a.server.url}/activities/test-{len(sent)}"
        body = {"@context": "https://www.w3.org/ns/activitystreams", "id": announce_id,
                "type": "Announce", "actor": by.ap_id, "object": obj, "to": public,
                "cc": [by.followers_url]}
        result = await deliver(b.ctx.http, f"{b.server.url}/inbox", body,
                               key=with_key or key, allow_private=True)
        assert result.outcome == "delivered", result
        sent.append(announce_id)
        return announce_id

    # 1. An embedded Create from another host: B reads the Create from its origin.
    forged = {**create, "id": create_id, "object": {**real, "content": "<p>gefälscht</p>"}}
    await announce(forged)
    # 2. Announce(<object id>), the Mastodon-compatible form.
    await announce(f"{origin.url}/notes/2")
    # 3. A Create minted on the group's host in carla's name: not the group's to vouch for.
    await announce({"id": f"{a.server.url}/activities/minted", "type": "Create",
                    "actor": carla, "object": {**note("/notes/9", "untergeschoben")}})
    # 4. From a group nobody here follows.
    await announce(f"{origin.url}/notes/3", by=quiet, with_key=quiet_key)
    await idle(b)

    async with b.ctx.pool.acquire() as conn:
        stored = {r["ap_id"]: r["content_html"] for r in await conn.fetch(
            "SELECT ap_id, content_html FROM posts WHERE NOT local")}
        states = {r["ap_id"]: (r["state"], r["last_error"]) for r in await conn.fetch(
            "SELECT ap_id, state, last_error FROM inbox_activities WHERE type = 'Announce'")}
    assert stored == {f"{origin.url}/notes/1": "<p>echt</p>",
                      f"{origin.url}/notes/2": "<p>als Verweis</p>"}
    assert [states[s][0] for s in sent] == ["done", "done", "ignored", "ignored"], states
    assert "not by an actor of its own host" in states[sent[2]][1]
    assert "nobody here follows" in states[sent[3]][1]

    # 5. A removal by the group (Lemmy's moderator Delete with a summary), relayed in an
    # Announce: the group has authority over its posts, so B hides the post.
    removal = await announce({"id": f"{a.server.url}/activities/removal", "type": "Delete",
                              "actor": group.ap_id, "object": f"{origin.url}/notes/1",
                              "summary": "Spam"})
    # The same from a group that does not hold the post changes nothing.
    intrusion = await announce({"id": f"{a.server.url}/activities/removal-2",
                                "type": "Delete", "actor": quiet.ap_id,
                                "object": f"{origin.url}/notes/2", "summary": "Spam"},
                               by=quiet, with_key=quiet_key)
    await idle(b)
    async with b.ctx.pool.acquire() as conn:
        rows = {r["ap_id"]: r for r in await conn.fetch(
            "SELECT ap_id, state, last_error FROM inbox_activities WHERE ap_id = ANY($1)",
            [removal, intrusion])}
        post = await post_store.by_ap_id(conn, f"{origin.url}/notes/1")
        other = await post_store.by_ap_id(conn, f"{origin.url}/notes/2")
    assert rows[removal]["state"] == "done", rows[removal]["last_error"]
    assert post is not None and post.removed_at is not None and post.deleted_at is None
    assert post.removed_reason == "Spam"
    assert rows[intrusion]["state"] == "ignored"
    assert other is not None and other.removed_at is None

    # 5b. A Lock relayed the same way locks the thread here (and its Undo unlocks it).
    lock = {"id": f"{a.server.url}/activities/lock", "type": "Lock", "actor": group.ap_id,
            "object": f"{origin.url}/notes/2"}
    await announce(lock)
    await idle(b)
    async with b.ctx.pool.acquire() as conn:
        other = await post_store.by_ap_id(conn, f"{origin.url}/notes/2")
    assert other is not None and other.locked
    await announce({"id": f"{a.server.url}/activities/unlock", "type": "Undo",
                    "actor": group.ap_id, "object": lock})
    await idle(b)
    async with b.ctx.pool.acquire() as conn:
        other = await post_store.by_ap_id(conn, f"{origin.url}/notes/2")
    assert other is not None and not other.locked

    # 6. Carla deletes her note: the Delete is believed once her server says it is gone.
    del origin.docs["/notes/1"]
    await announce({"id": f"{origin.url}/activities/delete-1", "type": "Delete",
                    "actor": carla, "object": f"{origin.url}/notes/1"})
    await idle(b)
    async with b.ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, f"{origin.url}/notes/1")
    assert post is not None and post.deleted_at is not None


async def test_only_the_group_answers_our_follow(sides: tuple[Side, Side]) -> None:
    a, b = sides
    group = await make_group(a.ctx, "breitband")
    other = await make_group(a.ctx, "verkehr", title="Verkehr")
    bert = await make_user(b.ctx, "bert")
    ref = f"breitband@{a.host}"
    await join(b, ref, bert)
    async with b.ctx.pool.acquire() as conn:
        follow_id = await conn.fetchval("SELECT ap_id FROM follows")
    async with a.ctx.pool.acquire() as conn:
        keys = {g.ap_id: await signing_key(conn, g) for g in (group, other)}

    async def answer(kind: str, by: Any, obj: Any) -> str:
        activity_id = f"{by.ap_id}#{kind.lower()}-{obj if isinstance(obj, str) else 'pair'}"
        body = {"@context": "https://www.w3.org/ns/activitystreams", "id": activity_id,
                "type": kind, "actor": by.ap_id, "object": obj}
        result = await deliver(b.ctx.http, f"{b.server.url}/inbox", body,
                               key=keys[by.ap_id], allow_private=True)
        assert result.outcome == "delivered", result
        await idle(b)
        async with b.ctx.pool.acquire() as conn:
            return str(await conn.fetchval(
                "SELECT state FROM inbox_activities WHERE ap_id = $1", activity_id))

    # Another group cannot end (or accept) bert's membership.
    assert await answer("Reject", other, follow_id) == "ignored"
    assert (await b.get(f"/api/v1/groups/{ref}", bert))["follow_state"] == "accepted"
    # The group itself can, here matched by the pair in an embedded Follow whose id is
    # not the one we sent.
    pair = {"id": f"{group.ap_id}#some-follow", "type": "Follow", "actor": bert.actor.ap_id,
            "object": group.ap_id}
    assert await answer("Reject", group, pair) == "done"
    assert (await b.get(f"/api/v1/groups/{ref}", bert))["follow_state"] == "none"
