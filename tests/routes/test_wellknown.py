"""WebFinger, host-meta and NodeInfo as Mastodon and Lemmy query them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from activitypub.fetch import fetch_document
from activitypub.nodeinfo import fetch_nodeinfo
from activitypub.webfinger import webfinger_lookup
from fedi import __version__
from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.urls import Urls
from fedi.forum.accounts import set_registration_mode
from storage import actors as actor_store
from storage import posts as post_store
from storage.actors import Actor
from tests.support.constants import BASE
from tests.support.helpers import make_user

HOST = "127.0.0.1:8000"


async def make_actor(ctx: Context, type_: str, name: str) -> Actor:
    async with ctx.pool.acquire() as conn:
        return await create_local_actor(conn, ctx, type_=type_, username=name, name=name)


def ctx_of(client: httpx.AsyncClient) -> Context:
    ctx: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def finger(client: httpx.AsyncClient, resource: str) -> httpx.Response:
    # Built by hand like Mastodon: the resource goes into the query unencoded.
    return await client.get(f"/.well-known/webfinger?resource={resource}")


async def test_webfinger_finds_users_and_groups_in_one_namespace(
    app_client: httpx.AsyncClient,
) -> None:
    ctx = ctx_of(app_client)
    await make_actor(ctx, "Person", "alice")
    await make_actor(ctx, "Group", "cats")
    for name, path in (("alice", "/users/alice"), ("cats", "/groups/cats")):
        response = await finger(app_client, f"acct:{name}@{HOST}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/jrd+json"
        jrd = response.json()
        assert jrd["subject"] == f"acct:{name}@{HOST}"
        assert jrd["aliases"] == [BASE + path]
        assert {"rel": "self", "type": "application/activity+json",
                "href": BASE + path} in jrd["links"]
        assert {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                "href": BASE + path} in jrd["links"]
    # Percent-encoded, upper-case, or given as the actor URL: the same answer.
    encoded = await app_client.get("/.well-known/webfinger",
                                   params={"resource": f"acct:CATS@{HOST}"})
    assert encoded.json()["subject"] == f"acct:cats@{HOST}"
    assert "%3A" in str(encoded.request.url)
    by_url = await finger(app_client, f"{BASE}/groups/cats")
    assert by_url.json()["subject"] == f"acct:cats@{HOST}"


async def test_webfinger_finds_the_instance_actor(app_client: httpx.AsyncClient) -> None:
    for resource in (f"acct:instance.actor@{HOST}", BASE, f"{BASE}/", f"{BASE}/actor"):
        response = await finger(app_client, resource)
        assert response.status_code == 200, resource
        jrd = response.json()
        assert jrd["subject"] == f"acct:instance.actor@{HOST}"
        assert jrd["links"][0]["href"] == f"{BASE}/actor"


async def test_webfinger_errors_are_clear_json(app_client: httpx.AsyncClient) -> None:
    ctx = ctx_of(app_client)
    gone = await make_actor(ctx, "Person", "gone")
    async with ctx.pool.acquire() as conn:
        await actor_store.mark_deleted(conn, gone.id)
    cases = {
        f"acct:nobody@{HOST}": 404,
        "acct:alice@other.example": 404,
        "acct:alice@127.0.0.1:9999": 404,  # same address, other port: another server
        f"{BASE}/users/nobody": 404,
        "https://other.example/users/alice": 404,
        f"acct:gone@{HOST}": 410,
        "acct:nope": 400,
        "acct:a b@host": 400,
        "": 400,
    }
    for resource, status in cases.items():
        response = await finger(app_client, resource)
        assert response.status_code == status, resource
        assert response.json()["error"], resource
    missing = await app_client.get("/.well-known/webfinger")
    assert missing.status_code == 400 and missing.json()["field"] == "resource"


async def test_host_meta_points_at_webfinger(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    root = ET.fromstring(response.text)
    [link] = [e for e in root.iter() if e.tag.endswith("Link")]
    assert link.get("rel") == "lrdd"
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"


async def test_nodeinfo_counts_follow_the_database(app_client: httpx.AsyncClient) -> None:
    index = (await app_client.get("/.well-known/nodeinfo")).json()
    hrefs = {link["rel"].rsplit("/", 1)[-1]: link["href"] for link in index["links"]}
    assert hrefs["2.1"] == f"{BASE}/nodeinfo/2.1" and hrefs["2.0"] == f"{BASE}/nodeinfo/2.0"
    assert hrefs["activitystreams#Application"] == f"{BASE}/actor"

    async def usage() -> dict[str, Any]:
        response = await app_client.get("/nodeinfo/2.1")
        assert response.status_code == 200
        assert response.headers["content-type"] == (
            'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"')
        doc: dict[str, Any] = response.json()
        assert doc["software"]["name"] == "demisa"
        assert doc["software"]["version"] == __version__
        assert doc["protocols"] == ["activitypub"]
        assert doc["metadata"]["nodeName"] == "Teststadt"
        return doc

    before = await usage()
    assert before["usage"] == {"users": {"total": 0, "activeMonth": 0, "activeHalfyear": 0},
                               "localPosts": 0}
    assert before["openRegistrations"] is True

    ctx = ctx_of(app_client)
    alice = (await make_user(ctx, "alice")).actor
    suspended = await make_user(ctx, "bruno")
    async with ctx.pool.acquire() as conn:
        # Only active accounts count as users.
        await conn.execute("UPDATE accounts SET status = 'suspended' WHERE id = $1",
                           suspended.account.id)
    cats = await make_actor(ctx, "Group", "cats")
    async with ctx.pool.acquire() as conn:
        await conn.execute("INSERT INTO groups (actor_id) VALUES ($1)", cats.id)
        post_id = await post_store.next_id(conn)
        await post_store.insert(conn, {"ap_id": Urls(BASE).post(post_id), "local": True,
                                       "group_id": cats.id, "author_id": alice.id,
                                       "title": "Hallo", "content_html": "<p>Hi</p>"},
                                post_id=post_id)
        await set_registration_mode(conn, "approval")
    after = await usage()
    assert after["usage"] == {"users": {"total": 1, "activeMonth": 1, "activeHalfyear": 1},
                              "localPosts": 1}
    assert after["openRegistrations"] is False

    old = (await app_client.get("/nodeinfo/2.0")).json()
    assert old["version"] == "2.0" and old["usage"]["localPosts"] == 1
    assert (await app_client.get("/nodeinfo/3.0")).status_code == 404


async def test_a_remote_server_resolves_and_fetches_our_group(
    instance: Callable[..., Awaitable[Any]],
) -> None:
    """Over real HTTP, with the protocol package's client code (Mastodon's rules)."""
    server = await instance()
    ctx: Context = server.app.state.ctx
    await make_actor(ctx, "Group", "cats")
    host = f"127.0.0.1:{server.port}"
    async with httpx.AsyncClient() as client:
        actor_id = await webfinger_lookup(client, f"cats@{host}", allow_private=True)
        assert actor_id == f"{server.url}/groups/cats"
        document = await fetch_document(client, actor_id, auth=None, allow_private=True)
        assert document["type"] == "Group" and document["id"] == actor_id
        info = await fetch_nodeinfo(client, host, allow_private=True)
        assert info.software_name == "demisa" and info.version == "2.1"
