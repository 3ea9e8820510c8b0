"""Mentions and hashtags of local posts (issue 14, part 5): links and tags in the post,
``post_mentions`` rows, warnings for handles that stay text (API and page), the tag page
``/tags/{name}`` and its Atom feed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import User, make_group, make_user
from tests.web.conftest import log_in, only_h1, post_form

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://127.0.0.1:8000"
AP = {"Accept": "application/activity+json"}


async def mentioned(ctx: Context, post_id: int) -> list[str]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.username FROM post_mentions m JOIN actors a ON a.id = m.actor_id"
            " WHERE m.post_id = $1 ORDER BY a.username", post_id)
    return [r["username"] for r in rows]


async def test_a_local_mention_is_a_link_a_tag_and_a_row(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    bob = await make_user(ctx, "bob")
    r = await app_client.post("/api/v1/groups/breitband/threads", headers=alice.headers, json={
        "title": "Anschluss", "content": "Hallo @bob, kennst du @Bob@127.0.0.1:8000? "
                                         "`@bob` zählt nicht. #Glasfaser #Südstraße"})
    assert r.status_code == 201, r.text
    thread = r.json()
    assert thread["warnings"] == []
    assert thread["hashtags"] == ["glasfaser", "südstraße"]
    assert (f'<span class="h-card"><a href="{bob.actor.ap_id}" class="u-url mention"'
            in thread["content"])
    assert thread["content"].count("u-url mention") == 2
    assert "<code>@bob</code>" in thread["content"]
    assert await mentioned(ctx, thread["id"]) == ["bob"]

    note = (await app_client.get(f"/posts/{thread['id']}", headers=AP)).json()
    mentions = [t for t in note["tag"] if t["type"] == "Mention"]
    assert {"type": "Mention", "href": bob.actor.ap_id,
            "name": "@bob@127.0.0.1:8000"} in mentions
    assert bob.actor.ap_id in note["cc"]
    hashtags = {t["name"]: t["href"] for t in note["tag"] if t["type"] == "Hashtag"}
    assert hashtags == {"#glasfaser": f"{BASE}/tags/glasfaser",
                        "#südstraße": f"{BASE}/tags/s%C3%BCdstra%C3%9Fe"}
    # The Create in the outbox names bob too (a local mention is no delivery).
    async with ctx.pool.acquire() as conn:
        payload = await conn.fetchval(
            "SELECT payload FROM activities WHERE post_id = $1 AND type = 'Create'",
            thread["id"])
    create = payload if isinstance(payload, dict) else json.loads(payload)
    assert bob.actor.ap_id in create["cc"]


async def test_unknown_handles_stay_text_with_a_warning_and_edits_resolve_again(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    bob = await make_user(ctx, "bob")
    carol = await make_user(ctx, "carol")
    r = await app_client.post("/api/v1/groups/breitband/threads", headers=alice.headers, json={
        "title": "Wer?", "content": "Fragen an @bob und @niemand und @x@unresolvable.invalid"})
    assert r.status_code == 201, r.text
    thread = r.json()
    codes = {(w["code"], w["handle"]) for w in thread["warnings"]}
    assert codes == {("unknown_mention", "@niemand"),
                     ("unknown_mention", "@x@unresolvable.invalid")}
    assert all(w["message"] for w in thread["warnings"])
    assert "@niemand" in thread["content"] and thread["content"].count("mention") == 1
    assert await mentioned(ctx, thread["id"]) == ["bob"]

    r = await app_client.patch(f"/api/v1/posts/{thread['id']}", headers=alice.headers,
                               json={"content": "Nein, an @carol"})
    assert r.status_code == 200 and r.json()["warnings"] == []
    assert await mentioned(ctx, thread["id"]) == ["carol"]
    note = (await app_client.get(f"/posts/{thread['id']}", headers=AP)).json()
    hrefs = [t["href"] for t in note["tag"] if t["type"] == "Mention"]
    assert carol.actor.ap_id in hrefs and bob.actor.ap_id not in hrefs

    # Replies resolve mentions too.
    r = await app_client.post(f"/api/v1/posts/{thread['id']}/replies", headers=bob.headers,
                              json={"content": "@alice @keiner"})
    assert r.status_code == 201
    assert [w["handle"] for w in r.json()["warnings"]] == ["@keiner"]
    assert await mentioned(ctx, r.json()["id"]) == ["alice"]


async def test_the_thread_page_names_the_handles_that_stayed_text(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    await log_in(app_client, "alice")
    # (The CSRF token from the group page: any form of the session carries it.)
    created = await post_form(app_client, "/groups/breitband", "/groups/breitband/new",
                              {"title": "Hinweis", "content": "Hallo @niemand und @alice"})
    assert created.status_code == 303
    location = created.headers["location"]
    assert "unbekannt=%40niemand" in location and "alice" not in location
    page = await app_client.get(location)
    assert page.status_code == 200
    assert ("Diese Erwähnungen wurden nicht gefunden und bleiben einfacher Text: @niemand"
            in page.text)
    # Only handle-shaped values are shown.
    thread_id = location.split("?")[0].rsplit("/", 1)[1]
    crafted = await app_client.get(f"/posts/{thread_id}",
                                   params={"unbekannt": "Ihr Konto ist gesperrt"})
    assert "nicht gefunden" not in crafted.text
    plain = await app_client.get(f"/posts/{thread_id}")
    assert "nicht gefunden" not in plain.text


async def test_tag_page_lists_threads_with_the_tag_newest_first(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    other = await make_group(ctx, "verkehr", title="Verkehr")
    first = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                             title="Erstes", content="Zum #Glasfaser-Ausbau")
    second = await post_service.create_thread(ctx, author=alice.actor, group=other,
                                              title="Zweites", content="Ohne Schlagwort")
    await post_service.create_reply(ctx, author=alice.actor, parent=second,
                                    content="Doch: #GLASFASER")
    await post_service.create_thread(ctx, author=alice.actor, group=group,
                                     title="Drittes", content="`#glasfaser` im Code zählt nicht")
    page = await app_client.get("/tags/Glasfaser")
    assert page.status_code == 200
    assert only_h1(page.text) == "#glasfaser"
    assert "2 Themen mit diesem Schlagwort" in page.text
    assert page.text.index(f'href="/posts/{second.id}"') < page.text.index(
        f'href="/posts/{first.id}"')
    assert "Drittes" not in page.text
    assert 'href="/tags/glasfaser/feed.atom"' in page.text

    # The thread page links the tag to this page.
    thread = await app_client.get(f"/posts/{first.id}")
    assert f'href="{BASE}/tags/glasfaser" class="mention hashtag"' in thread.text

    feed = ET.fromstring((await app_client.get("/tags/glasfaser/feed.atom")).content)
    assert feed.findtext(f"{ATOM}title") == "#glasfaser"
    assert [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")] == [
        second.ap_id, first.ap_id]


async def test_tag_names_with_umlauts_unknown_tags_and_impossible_ones(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Straße", content="#Südstraße")
    page = await app_client.get("/tags/S%C3%BCdstra%C3%9Fe")
    assert page.status_code == 200 and f'href="/posts/{thread.id}"' in page.text
    empty = await app_client.get("/tags/niegesehen")
    assert empty.status_code == 200
    assert "Noch keine Themen mit diesem Schlagwort." in empty.text
    feed = await app_client.get("/tags/niegesehen/feed.atom")
    assert feed.status_code == 200 and ET.fromstring(feed.content).findall(f"{ATOM}entry") == []
    assert (await app_client.get("/tags/1abc")).status_code == 404
    assert (await app_client.get("/tags/a-b")).status_code == 404


async def test_tag_page_pages(app_client: httpx.AsyncClient, ctx: Context, alice: User,
                              group: Any) -> None:
    ids = []
    for n in range(27):
        post = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                                title=f"Thema {n}", content="#viel")
        ids.append(post.id)
    page = await app_client.get("/tags/viel")
    assert page.text.count('class="thread-item"') == 25
    assert f'href="/posts/{ids[-1]}"' in page.text and f'href="/posts/{ids[1]}"' not in page.text
    older = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    rest = await app_client.get(older.replace("&amp;", "&"))
    assert rest.text.count('class="thread-item"') == 2
    assert f'href="/posts/{ids[0]}"' in rest.text
