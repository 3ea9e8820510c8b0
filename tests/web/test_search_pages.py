"""The search page's filters and paging, and the new-thread form's "Prüfen" step
(fedi/web/search_pages.py, post_pages.new_thread) with its fragment for similar.js."""

from __future__ import annotations

import re
from typing import Any

import httpx

from fedi.core.context import Context
from fedi.forum import posts as post_service
from storage import posts as post_store
from tests.support.helpers import User
from tests.web.conftest import csrf_of, only_h1


async def test_check_lists_similar_threads_and_keeps_the_text(
        client_as_alice: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    solved = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Fördermittel für den Glasfaserausbau",
                                              content="Wie?")
    answer = await post_service.create_reply(ctx, author=alice.actor, parent=solved,
                                             content="So.")
    other = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                             title="Glasfaser im Neubaugebiet", content="?")
    await post_service.create_thread(ctx, author=alice.actor, group=group,
                                     title="Radweg", content="?")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET accepted_answer_id = $1 WHERE id = $2",
                           answer.id, solved.id)
    form = await client_as_alice.get("/groups/breitband/new")
    assert 'name="action" value="check"' in form.text
    assert '<script src="/static/similar.js" defer></script>' in form.text
    response = await client_as_alice.post("/groups/breitband/new", data={
        "csrf_token": csrf_of(form.text), "action": "check",
        "title": "Förderung Glasfaser <beantragen>", "content": "Mein Entwurf & mehr"})
    assert response.status_code == 200
    page = response.text
    assert "Ähnliche Themen" in page
    links = re.findall(r'<li><a href="/posts/(\d+)">', page)
    assert links[:2] == [str(solved.id), str(other.id)]  # solved first
    assert "Gelöst" in page and "Radweg" not in page
    # The typed text is kept, escaped; nothing was published.
    assert 'value="Förderung Glasfaser &lt;beantragen&gt;"' in page
    assert "Mein Entwurf &amp; mehr</textarea>" in page
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM posts") == 4
    # The fragment the script fetches: the same list alone.
    fragment = await client_as_alice.get("/search/similar", params={"title": "Glasfaser"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert f'href="/posts/{solved.id}"' in fragment.text


async def test_search_page_filters_and_pages(app_client: httpx.AsyncClient, ctx: Context,
                                             alice: User, group: Any) -> None:
    async with ctx.pool.acquire() as conn:
        for i in range(30):
            await post_store.insert(conn, {
                "ap_id": f"https://example.org/p/{i}", "local": False, "group_id": group.id,
                "author_id": alice.actor.id, "title": f"Breitbandplanung {i}",
                "content_html": "<p>Text</p>"})
    first = await app_client.get("/search", params={"q": "Breitband"})
    assert only_h1(first.text) == "Suche"
    assert "Mehr als 20 Treffer" in first.text
    more = re.search(r'<a href="(/search\?[^"]+)" rel="next">', first.text)
    assert more is not None
    second = await app_client.get(more.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "Weitere Treffer" in second.text
    assert second.text.count("Breitbandplanung") >= 10
    unanswered = await app_client.get("/search", params={"q": "Breitband",
                                                         "state": "solved"})
    assert "Nichts gefunden" in unanswered.text
    too_long = await app_client.get("/search", params={"q": "x" * 300})
    assert too_long.status_code == 200 and "zu lang" in too_long.text
