"""Our actors, posts, activities and collections as other servers fetch them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.urls import Urls
from fedi.federation.documents import CONTEXT
from storage import accounts as account_store
from storage import activities as activity_store
from storage import actors as actor_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post
from tests.support.constants import AS, BASE, PUBLIC

AP = {"Accept": "application/activity+json"}


def ctx_of(client: httpx.AsyncClient) -> Context:
    ctx: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def make_actor(client: httpx.AsyncClient, type_: str, name: str, **extra: Any) -> Actor:
    ctx = ctx_of(client)
    async with ctx.pool.acquire() as conn:
        actor = await create_local_actor(conn, ctx, type_=type_, username=name,
                                         name=name.title(), summary=extra.pop("summary", None),
                                         extra=extra or None)
        if type_ == "Group":
            await group_store.insert(conn, actor.id, summary_source="Alles über **Katzen**")
    return actor


async def make_post(client: httpx.AsyncClient, *, author: Actor, group: Actor,
                    title: str | None = None, parent: Post | None = None,
                    body: str = "Hallo", local: bool = True) -> Post:
    async with ctx_of(client).pool.acquire() as conn:
        post_id = await post_store.next_id(conn)
        ap_id = Urls(BASE).post(post_id) if local else f"https://remote.example/p/{post_id}"
        values: dict[str, Any] = {
            "ap_id": ap_id, "local": local, "group_id": group.id, "author_id": author.id,
            "title": title, "content_html": f"<p>{body}</p>", "source": body,
            "source_media_type": "text/markdown", "language": "de",
        }
        if parent is not None:
            values.update(parent_id=parent.id, thread_id=parent.thread_id,
                          depth=parent.depth + 1)
        return await post_store.insert(conn, values, post_id=post_id)


async def get_ap(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """Fetch as Mastodon does and check what Mastodon checks."""
    response = await client.get(url, headers=AP)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/activity+json"
    assert "Accept" in response.headers["vary"]
    doc: dict[str, Any] = response.json()
    assert doc["id"] == url
    assert AS in doc["@context"]
    return doc


@pytest.fixture
async def world(app_client: httpx.AsyncClient) -> dict[str, Any]:
    alice = await make_actor(app_client, "Person", "alice")
    cats = await make_actor(app_client, "Group", "cats")
    thread = await make_post(app_client, author=alice, group=cats, title="Futter <& Wasser>",
                             body="Was fressen **Katzen**?")
    reply = await make_post(app_client, author=alice, group=cats, parent=thread, body="Fisch")
    return {"alice": alice, "cats": cats, "thread": thread, "reply": reply}


async def test_group_document_has_what_mastodon_and_lemmy_read(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    url = f"{BASE}/groups/cats"
    doc = await get_ap(app_client, url)
    assert doc["type"] == "Group"
    assert doc["preferredUsername"] == "cats"
    assert doc["inbox"] == f"{url}/inbox"
    assert doc["outbox"] == f"{url}/outbox"
    assert doc["followers"] == f"{url}/followers"
    assert doc["featured"] == f"{url}/featured"
    assert doc["attributedTo"] == f"{url}/moderators"
    assert doc["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    assert doc["url"] == url
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True
    assert doc["postingRestrictedToMods"] is False
    assert doc["source"] == {"content": "Alles über **Katzen**", "mediaType": "text/markdown"}
    key = doc["publicKey"]
    assert key["id"] == f"{url}#main-key" and key["owner"] == url
    load_pem_public_key(key["publicKeyPem"].encode())
    [multikey] = doc["assertionMethod"]
    assert multikey["type"] == "Multikey" and multikey["controller"] == url
    assert multikey["publicKeyMultibase"].startswith("z6Mk")  # Ed25519 in base58btc


async def test_every_activitypub_accept_header_gets_json(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    for accept in ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                   "application/ld+json", "application/json",
                   "text/html;q=0.9, application/activity+json"):
        response = await app_client.get("/users/alice", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == "application/activity+json"
        assert response.json()["type"] == "Person"
    # q=0 means "not this".
    refused = await app_client.get("/users/alice",
                                   headers={"Accept": "application/json;q=0, text/html"})
    assert refused.headers["content-type"].startswith("text/html")


async def test_person_and_instance_actor_documents(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    person = await get_ap(app_client, f"{BASE}/users/alice")
    assert person["type"] == "Person" and person["preferredUsername"] == "alice"
    assert "featured" not in person and "postingRestrictedToMods" not in person
    app = await get_ap(app_client, f"{BASE}/actor")
    assert app["type"] == "Application"
    assert app["publicKey"]["id"] == f"{BASE}/actor#main-key"
    # Its outbox and followers are served too (empty).
    assert (await get_ap(app_client, app["outbox"]))["totalItems"] == 0
    assert (await get_ap(app_client, app["followers"]))["totalItems"] == 0
    # Asked for again, it is the same actor (created only once).
    assert (await get_ap(app_client, f"{BASE}/actor"))["publicKey"] == app["publicKey"]


async def test_unknown_things_are_404_json(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    for path in ("/users/nobody", "/groups/nobody", "/users/cats", "/groups/alice",
                 "/users/nobody/outbox", "/groups/alice/featured", "/posts/999999",
                 "/posts/99999999999999999999999", "/posts/999999/context",
                 "/activities/nope"):
        response = await app_client.get(path, headers=AP)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


async def test_deleted_actor_answers_410_tombstone(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    async with ctx_of(app_client).pool.acquire() as conn:
        await actor_store.mark_deleted(conn, world["alice"].id)
    response = await app_client.get("/users/alice", headers=AP)
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/activity+json"
    doc = response.json()
    assert doc["type"] == "Tombstone" and doc["id"] == f"{BASE}/users/alice"
    assert doc["formerType"] == "Person"
    assert (await app_client.get("/users/alice/outbox", headers=AP)).status_code == 410
    page = await app_client.get("/users/alice", headers={"Accept": "text/html"})
    assert page.status_code == 410 and page.headers["vary"] == "Accept"


async def test_thread_is_a_note_mastodon_and_lemmy_can_show(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    thread: Post = world["thread"]
    group = f"{BASE}/groups/cats"
    note = await get_ap(app_client, thread.ap_id)
    assert note["type"] == "Note"
    assert note["name"] == "Futter <& Wasser>"
    assert note["content"].startswith("<p><strong>Futter &lt;&amp; Wasser&gt;</strong></p>")
    assert note["source"] == {"content": "Was fressen **Katzen**?",
                              "mediaType": "text/markdown"}
    assert note["attributedTo"] == f"{BASE}/users/alice"
    assert note["audience"] == group
    assert note["context"] == note["conversation"] == f"{BASE}/posts/{thread.id}/context"
    assert note["to"] == [PUBLIC]
    assert note["cc"] == [group, f"{group}/followers"]
    assert {"type": "Mention", "href": group, "name": "@cats@127.0.0.1:8000"} in note["tag"]
    assert "inReplyTo" not in note


async def test_reply_points_at_its_parent(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    note = await get_ap(app_client, world["reply"].ap_id)
    assert note["inReplyTo"] == world["thread"].ap_id
    assert note["context"] == f"{BASE}/posts/{world['thread'].id}/context"
    assert "name" not in note


async def test_deleted_or_removed_post_answers_410_tombstone(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    reply: Post = world["reply"]
    removed = await make_post(app_client, author=world["alice"], group=world["cats"],
                              parent=world["thread"], body="Fisch")
    async with ctx_of(app_client).pool.acquire() as conn:
        await post_store.mark_deleted(conn, reply.id)
        await conn.execute("UPDATE posts SET removed_at = now() WHERE id = $1", removed.id)
    for post in (reply, removed):
        response = await app_client.get(post.ap_id, headers=AP)
        assert response.status_code == 410
        assert response.headers["content-type"] == "application/activity+json"
        assert response.headers["vary"] == "Accept"
        doc = response.json()
        assert doc["type"] == "Tombstone" and doc["id"] == post.ap_id
        assert "Fisch" not in response.text


async def test_remote_post_copy_is_not_served_as_ours(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    remote = await make_post(app_client, author=world["alice"], group=world["cats"],
                             title="Von weit her", local=False)
    assert (await app_client.get(f"/posts/{remote.id}", headers=AP)).status_code == 404
    browser = await app_client.get(f"/posts/{remote.id}", headers={"Accept": "text/html"})
    assert browser.headers["vary"] == "Accept"
    if "post" in getattr(app_client.app.state, "html_pages", {}):  # type: ignore[attr-defined]
        # The web forum shows its copy, as it does for every remote post.
        assert browser.status_code == 200
        assert "Von weit her" in browser.text
    else:
        assert browser.status_code == 302
        assert browser.headers["location"] == remote.ap_id


async def test_browser_gets_a_safe_minimal_page(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    """Without the web forum's renderers (an API-only setup) browsers get a minimal page."""
    app_client.app.state.html_pages = {}  # type: ignore[attr-defined]
    thread: Post = world["thread"]
    response = await app_client.get(
        thread.ap_id, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["vary"] == "Accept"
    page = response.text
    assert '<html lang="de">' in page
    assert "<title>Futter &lt;&amp; Wasser&gt;</title>" in page
    assert (f'<link rel="alternate" type="application/activity+json" href="{thread.ap_id}">'
            in page)
    assert "Was fressen **Katzen**?" in page
    sneaky = await make_post(app_client, author=world["alice"], group=world["cats"],
                             title="<script>alert(1)</script>", body="<script>x()</script>")
    page = (await app_client.get(sneaky.ap_id, headers={"Accept": "text/html"})).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page
    # No Accept at all (curl) is a browser too.
    plain = await app_client.get(thread.ap_id)
    assert plain.headers["content-type"].startswith("text/html")


async def test_registered_forum_page_renders_html(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    seen: list[Any] = []

    async def render(request: Request, row: Any) -> Response:
        seen.append(row)
        return HTMLResponse(f"<p>forum page {row.id}</p>")

    app_client.app.state.html_pages = {"group": render}  # type: ignore[attr-defined]
    response = await app_client.get("/groups/cats", headers={"Accept": "text/html"})
    assert response.text == f"<p>forum page {world['cats'].id}</p>"
    assert response.headers["vary"] == "Accept"
    assert seen == [world["cats"]]
    # Other kinds still fall back to the minimal page.
    user = await app_client.get("/users/alice", headers={"Accept": "text/html"})
    assert "<h1>Alice</h1>" in user.text


async def walk(client: httpx.AsyncClient, collection_url: str) -> tuple[dict[str, Any],
                                                                       list[dict[str, Any]]]:
    collection = await get_ap(client, collection_url)
    assert collection["type"] == "OrderedCollection"
    pages = []
    url = collection["first"]
    while url:
        page = await get_ap(client, url)
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == collection_url
        assert page["totalItems"] == collection["totalItems"]
        assert len(page["orderedItems"]) <= 20
        pages.append(page)
        url = page.get("next")
        assert len(pages) < 10, "paging does not end"
    return collection, pages


async def add_creates(client: httpx.AsyncClient, author: Actor, group: Actor,
                      count: int) -> list[str]:
    """``count`` threads, each with the Create its author sent; returns the Create ids."""
    ids = []
    for n in range(count):
        post = await make_post(client, author=author, group=group, title=f"Thema {n}")
        create_id = f"{BASE}/activities/create-{post.id}"
        async with ctx_of(client).pool.acquire() as conn:
            await activity_store.insert(
                conn, ap_id=create_id, actor_id=author.id, type_="Create",
                object_ap_id=post.ap_id, post_id=post.id,
                payload={"@context": AS, "id": create_id, "type": "Create",
                         "actor": author.ap_id, "object": {"id": post.ap_id, "type": "Note"}},
            )
        ids.append(create_id)
    return ids


async def test_user_outbox_pages_through_every_create_newest_first(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    created = await add_creates(app_client, world["alice"], world["cats"], 45)
    collection, pages = await walk(app_client, f"{BASE}/users/alice/outbox")
    assert collection["totalItems"] == 45
    assert [len(p["orderedItems"]) for p in pages] == [20, 20, 5]
    seen = [item["id"] for page in pages for item in page["orderedItems"]]
    assert seen == list(reversed(created))
    assert all("@context" not in item for page in pages for item in page["orderedItems"])
    assert "prev" not in pages[0]
    # Going back from the last page gives the middle page again.
    back = await get_ap(app_client, pages[2]["prev"])
    assert back["orderedItems"] == pages[1]["orderedItems"]
    assert back["next"] == pages[1]["next"]


async def test_group_outbox_lists_every_thread_as_the_groups_announce(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    cats: Actor = world["cats"]
    thread: Post = world["thread"]
    creates = await add_creates(app_client, world["alice"], cats, 3)
    post_ids = [int(c.rsplit("-", 1)[1]) for c in creates]
    # Never announced (no follower yet): an Announce of the author's Create, built with
    # a stable id of the thread's.
    built = await get_ap(app_client, f"{BASE}/groups/cats/outbox?page=true")
    assert [i["id"] for i in built["orderedItems"]] == [
        f"{BASE}/posts/{n}/announce" for n in (*reversed(post_ids), thread.id)]
    assert [i["object"]["id"] for i in built["orderedItems"][:3]] == list(reversed(creates))
    assert await get_ap(app_client, built["orderedItems"][0]["id"]) == {
        "@context": CONTEXT, **built["orderedItems"][0]}
    async with ctx_of(app_client).pool.acquire() as conn:
        for post_id, create_id in zip(post_ids, creates, strict=True):
            for form, obj in (("full", {"id": create_id, "type": "Create"}),
                              ("bare", f"{BASE}/posts/{post_id}"),
                              ("like", {"id": f"{create_id}-like", "type": "Like"})):
                announce_id = f"{BASE}/activities/announce-{form}-{post_id}"
                await activity_store.insert(
                    conn, ap_id=announce_id, actor_id=cats.id, type_="Announce",
                    object_ap_id=create_id, post_id=post_id,
                    payload={"id": announce_id, "type": "Announce", "actor": cats.ap_id,
                             "object": obj})
    # Announced: the group's Announce(Create) as sent; the bare Announce(id) for Mastodon
    # and the Announce(Like) are not listed.
    outbox = await get_ap(app_client, f"{BASE}/groups/cats/outbox")
    assert outbox["totalItems"] == 4
    page = await get_ap(app_client, outbox["first"])
    assert [i["id"] for i in page["orderedItems"]] == [
        *(f"{BASE}/activities/announce-full-{n}" for n in reversed(post_ids)),
        f"{BASE}/posts/{thread.id}/announce"]


async def test_outbox_hides_activities_of_deleted_posts(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    [create_id] = await add_creates(app_client, world["alice"], world["cats"], 1)
    assert (await get_ap(app_client, create_id))["type"] == "Create"
    async with ctx_of(app_client).pool.acquire() as conn:
        activity = await activity_store.by_ap_id(conn, create_id)
        assert activity is not None and activity.post_id is not None
        await post_store.mark_deleted(conn, activity.post_id)
    assert (await get_ap(app_client, f"{BASE}/users/alice/outbox"))["totalItems"] == 0
    response = await app_client.get(create_id, headers=AP)
    assert response.status_code == 410 and response.json()["type"] == "Tombstone"


async def test_reports_are_not_served_other_private_activities_are(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    url = f"{BASE}/activities/flag/abc"
    async with ctx_of(app_client).pool.acquire() as conn:
        await activity_store.insert(conn, ap_id=url, actor_id=world["alice"].id,
                                    type_="Flag", object_ap_id=world["cats"].ap_id,
                                    payload={"id": url, "type": "Flag"}, public=False)
    assert (await app_client.get(url, headers=AP)).status_code == 404
    follow_url = f"{BASE}/activities/follow/abc"
    async with ctx_of(app_client).pool.acquire() as conn:
        await activity_store.insert(conn, ap_id=follow_url, actor_id=world["alice"].id,
                                    type_="Follow", object_ap_id=world["cats"].ap_id,
                                    payload={"id": follow_url, "type": "Follow"},
                                    public=False)
    doc = await get_ap(app_client, follow_url)  # the stored payload, given its @context
    assert doc["type"] == "Follow"


async def test_context_collection_lists_the_thread_oldest_first(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    thread: Post = world["thread"]
    expected = [thread.ap_id, world["reply"].ap_id]
    for n in range(43):
        reply = await make_post(app_client, author=world["alice"], group=world["cats"],
                                parent=thread, body=f"Antwort {n}")
        expected.append(reply.ap_id)
    url = f"{BASE}/posts/{thread.id}/context"
    collection, pages = await walk(app_client, url)
    assert collection["totalItems"] == 45
    assert collection["attributedTo"] == f"{BASE}/groups/cats"
    assert collection["type"] == "OrderedCollection"
    assert [len(p["orderedItems"]) for p in pages] == [20, 20, 5]
    assert [i for p in pages for i in p["orderedItems"]] == expected
    back = await get_ap(app_client, pages[1]["prev"])
    assert back["orderedItems"] == pages[0]["orderedItems"]
    # Only the thread root has one.
    reply_context = await app_client.get(f"/posts/{world['reply'].id}/context", headers=AP)
    assert reply_context.status_code == 404


async def test_bad_page_cursor_is_a_clear_400(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    for bad in ("yesterday", "before-x", "after-", "before-99999999999999999999"):
        response = await app_client.get("/users/alice/outbox", params={"page": bad},
                                        headers=AP)
        assert response.status_code == 400, bad
        assert response.json()["field"] == "page"


async def test_followers_and_following_give_counts_only(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    alice, cats = world["alice"], world["cats"]
    async with ctx_of(app_client).pool.acquire() as conn:
        await follow_store.upsert(conn, follower_id=alice.id, target_id=cats.id,
                                  ap_id=None, state="accepted")
    followers = await get_ap(app_client, f"{BASE}/groups/cats/followers")
    assert followers["type"] == "OrderedCollection" and followers["totalItems"] == 1
    assert "orderedItems" not in followers and "first" not in followers
    assert (await get_ap(app_client, f"{BASE}/users/alice/following"))["totalItems"] == 1
    assert (await get_ap(app_client, f"{BASE}/users/alice/followers"))["totalItems"] == 0
    assert (await get_ap(app_client, f"{BASE}/groups/cats/following"))["totalItems"] == 0


async def test_featured_and_moderators(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    cats, thread = world["cats"], world["thread"]
    featured = await get_ap(app_client, f"{BASE}/groups/cats/featured")
    assert featured["totalItems"] == 0 and featured["orderedItems"] == []
    async with ctx_of(app_client).pool.acquire() as conn:
        await conn.execute("UPDATE posts SET pinned_at = now() WHERE id = $1", thread.id)
        await group_store.add_moderator(conn, cats.id, world["alice"].id)
    featured = await get_ap(app_client, f"{BASE}/groups/cats/featured")
    [note] = featured["orderedItems"]
    assert note["id"] == thread.ap_id and note["type"] == "Note" and note["stickied"] is True
    assert "@context" not in note
    mods = await get_ap(app_client, f"{BASE}/groups/cats/moderators")
    assert mods["orderedItems"] == [f"{BASE}/users/alice"] and mods["totalItems"] == 1


async def test_nodeinfo_active_users_count_recent_authors_only(
    app_client: httpx.AsyncClient, world: dict[str, Any],
) -> None:
    bob = await make_actor(app_client, "Person", "bob")
    old = await make_post(app_client, author=bob, group=world["cats"], title="Alt")
    async with ctx_of(app_client).pool.acquire() as conn:
        await conn.execute("UPDATE posts SET published = $2 WHERE id = $1", old.id,
                           datetime.now(UTC) - timedelta(days=60))
        # NodeInfo counts accounts, so give both people one.
        for person in (world["alice"], bob):
            await account_store.insert(conn, actor_id=person.id, username=person.username,
                                       email=f"{person.username}@example.org",
                                       password_hash="$argon2id$unused")
    usage = (await app_client.get("/nodeinfo/2.1")).json()["usage"]
    assert usage["users"] == {"total": 2, "activeMonth": 1, "activeHalfyear": 2}
