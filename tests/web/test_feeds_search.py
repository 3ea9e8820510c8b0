"""Atom feeds and the German full-text search."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import User, make_group
from tests.web.conftest import only_h1

ATOM = "{http://www.w3.org/2005/Atom}"


async def test_group_feed_is_atom(app_client: httpx.AsyncClient, ctx: Context, alice: User,
                                  group: Any) -> None:
    await post_service.create_thread(ctx, author=alice.actor, group=group,
                                     title="Ausbau <Nord> & Süd", content="**Los** geht's")
    response = await app_client.get("/groups/breitband/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Breitbandausbau"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Ausbau <Nord> & Süd"
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert "<strong>Los</strong>" in (content.text or "")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Alice"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == "http://127.0.0.1:8000/groups/breitband/feed.atom"


async def test_thread_feed_lists_the_posts(app_client: httpx.AsyncClient, ctx: Context,
                                           alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Start")
    for n in range(3):
        await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                        content=f"Antwort {n}")
    page = await app_client.get(f"/posts/{thread.id}", headers={"Accept": "text/html"})
    assert f'type="application/atom+xml" title="Beiträge in „Thema“" href="/posts/{thread.id}' \
           f'/feed.atom"' in page.text
    feed = ET.fromstring((await app_client.get(f"/posts/{thread.id}/feed.atom")).content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4
    assert entries[0].findtext(f"{ATOM}id") == thread.ap_id
    missing = await app_client.get("/posts/424242/feed.atom")
    assert missing.status_code == 404


async def test_search_finds_a_german_word_form(app_client: httpx.AsyncClient, ctx: Context,
                                               alice: User, group: Any) -> None:
    other = await make_group(ctx, "verkehr", title="Verkehr")
    thread = await post_service.create_thread(
        ctx, author=alice.actor, group=group, title="Fristen",
        content="Bis wann müssen die Förderanträge beim Landkreis sein?")
    await post_service.create_thread(ctx, author=alice.actor, group=other, title="Radweg",
                                     content="Der Radweg an der Schule fehlt.")
    response = await app_client.get("/search", params={"q": "Förderantrag"})
    assert response.status_code == 200
    assert only_h1(response.text) == "Suche"
    assert "1 Treffer" in response.text
    assert f'href="/posts/{thread.id}"' in response.text
    assert "<mark>Förderanträge</mark> beim Landkreis" in response.text
    # Limited to one group, the same word finds nothing in another.
    narrowed = await app_client.get("/search", params={"q": "Förderantrag", "group": "verkehr"})
    assert "0 Treffer" in narrowed.text and "Nichts gefunden" in narrowed.text
    # Replies are found and link to their place in the thread.
    reply = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                            content="Die Schulen bekommen Zuschüsse.")
    found = await app_client.get("/search", params={"q": "Schule Zuschuss"})
    assert f'href="/posts/{thread.id}#post-{reply.id}"' in found.text
    # websearch syntax errors do not exist: odd input is still a 200.
    odd = await app_client.get("/search", params={"q": '"unclosed -  OR & |'})
    assert odd.status_code == 200
    unknown = await app_client.get("/search", params={"q": "x", "group": "nope"})
    assert unknown.status_code == 404


async def test_deleted_posts_are_not_found(app_client: httpx.AsyncClient, ctx: Context,
                                           alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Kanalsanierung", content="Wann?")
    await post_service.delete_post(ctx, actor=alice.actor, post=thread)
    response = await app_client.get("/search", params={"q": "Kanalsanierung"})
    assert "0 Treffer" in response.text
