"""The reading pages over the ASGI transport: status, one h1, language, content."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from typing import Any

import httpx

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import User, make_group
from tests.web.conftest import log_in, only_h1, outline

HTML = {"Accept": "text/html"}


async def _thread(ctx: Context, alice: User, group: Any, **kwargs: Any) -> Any:
    return await post_service.create_thread(
        ctx, author=alice.actor, group=group, title=kwargs.get("title", "Glasfaser im Ortsteil"),
        content=kwargs.get("content", "Wann kommt der **Ausbau**?"))


async def test_start_page_lists_groups_with_counts_in_german(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    await _thread(ctx, alice, group)
    response = await app_client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert only_h1(response.text) == "Teststadt"
    assert outline(response.text).lang == "de"
    assert response.headers["content-language"] == "de"
    assert "Themengruppen" in response.text
    assert 'href="/groups/breitband"' in response.text
    assert "1 Thema" in response.text
    assert "letzte Aktivität" in response.text


async def test_english_from_accept_language(app_client: httpx.AsyncClient, group: Any) -> None:
    response = await app_client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
    assert outline(response.text).lang == "en"
    assert "Topic groups" in response.text
    assert "0 threads" in response.text
    # German wins when the browser prefers it.
    response = await app_client.get("/", headers={"Accept-Language": "de-AT,en;q=0.8"})
    assert outline(response.text).lang == "de"


async def test_language_switch_is_stored_in_a_cookie(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/language/en?next=/search")
    assert response.status_code == 303
    assert response.headers["location"] == "/search"
    assert app_client.cookies.get("demisa_lang") == "en"
    page = await app_client.get("/search", headers={"Accept-Language": "de"})
    assert outline(page.text).lang == "en"
    assert only_h1(page.text) == "Search"
    # The switch back and a foreign "next" that must not leave the site.
    response = await app_client.get("/language/de?next=//evil.example/x")
    assert response.headers["location"] == "/"
    page = await app_client.get("/search")
    assert only_h1(page.text) == "Suche"


async def test_group_page_threads_pinned_first_and_follow_handle(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    old = await _thread(ctx, alice, group, title="Altes Thema")
    await _thread(ctx, alice, group, title="Neues Thema")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET pinned_at = now() WHERE id = $1", old.id)
    response = await app_client.get("/groups/breitband", headers=HTML)
    assert response.status_code == 200
    assert only_h1(response.text) == "Breitbandausbau"
    text = response.text
    assert text.index("Altes Thema") < text.index("Neues Thema")  # pinned on top
    assert "Angeheftet" in text
    assert "@breitband@127.0.0.1:8000" in text
    assert 'data-copy="@breitband@127.0.0.1:8000"' in text
    assert 'type="application/atom+xml"' in text and "/groups/breitband/feed.atom" in text
    assert "Vary" in response.headers and "accept" in response.headers["vary"].lower()


async def test_group_page_paginates(app_client: httpx.AsyncClient, ctx: Context, alice: User,
                                    group: Any) -> None:
    from fedi.web.pages import THREADS_PER_PAGE

    for n in range(THREADS_PER_PAGE + 2):
        await _thread(ctx, alice, group, title=f"Thema Nummer {n:02d}")
    first = await app_client.get("/groups/breitband", headers=HTML)
    assert "Thema Nummer 26" in first.text and "Thema Nummer 00" not in first.text
    assert 'rel="next"' in first.text
    next_href = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await app_client.get(next_href.replace("&amp;", "&"), headers=HTML)
    assert second.status_code == 200
    assert "Thema Nummer 00" in second.text and "Thema Nummer 26" not in second.text


async def test_group_page_json_stays_activitypub(app_client: httpx.AsyncClient,
                                                 group: Any) -> None:
    response = await app_client.get("/groups/breitband",
                                    headers={"Accept": "application/activity+json"})
    assert response.status_code == 200
    assert response.json()["type"] == "Group"


async def test_thread_page_tree_permalinks_cw_and_remote_author(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await _thread(ctx, alice, group)
    first = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                            content="Erste Antwort")
    await post_service.create_reply(ctx, author=alice.actor, parent=first,
                                    content="Antwort auf die Antwort")
    async with ctx.pool.acquire() as conn:
        remote_id = await conn.fetchval(
            "INSERT INTO actors (ap_id, type, local, username, domain, name, url)"
            " VALUES ('https://social.example/users/bob', 'Person', false, 'bob',"
            " 'social.example', 'Bob', 'https://social.example/@bob') RETURNING id")
        await conn.execute(
            "INSERT INTO posts (ap_id, local, group_id, author_id, thread_id, parent_id, depth,"
            " content_html, summary, language) VALUES ('https://social.example/notes/1', false,"
            " $1, $2, $3, $3, 1, '<p>Versteckter Text</p>', 'Baustellenlärm', 'de')",
            group.id, remote_id, thread.id)
    response = await app_client.get(f"/posts/{thread.id}", headers=HTML)
    assert response.status_code == 200
    text = response.text
    assert only_h1(text) == "Glasfaser im Ortsteil"
    assert f'id="post-{first.id}"' in text and f'href="#post-{first.id}"' in text
    # The reply to the reply sits inside the first reply's collapsible list.
    nested = text.split(f'id="post-{first.id}"')[1]
    assert '<details open class="subreplies">' in nested.split("Antwort auf die Antwort")[0]
    assert '<details class="cw">' in text and "Baustellenlärm" in text
    assert "@bob@social.example" in text
    assert 'lang="de"' in text
    assert "3 Antworten" in text


async def test_reply_url_redirects_to_its_place_in_the_thread(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await _thread(ctx, alice, group)
    reply = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                            content="Antwort")
    response = await app_client.get(f"/posts/{reply.id}", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/posts/{thread.id}#post-{reply.id}"


async def test_deleted_and_missing_things_get_html_error_pages(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    missing = await app_client.get("/posts/999999", headers=HTML)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert only_h1(missing.text) == "Nicht gefunden"
    unknown = await app_client.get("/no/such/page", headers=HTML)
    assert unknown.status_code == 404 and "Nicht gefunden" in unknown.text
    # The API keeps its JSON errors.
    api = await app_client.get("/api/v1/posts/999999", headers=HTML)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    thread = await _thread(ctx, alice, group)
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET removed_at = now() WHERE id = $1", thread.id)
    removed = await app_client.get(f"/posts/{thread.id}", headers=HTML)
    assert removed.status_code == 410
    assert "von der Moderation entfernt" in removed.text


async def test_user_profile(app_client: httpx.AsyncClient, ctx: Context, alice: User,
                            group: Any) -> None:
    await _thread(ctx, alice, group, title="Mein erstes Thema")
    response = await app_client.get("/users/alice", headers=HTML)
    assert response.status_code == 200
    assert only_h1(response.text) == "Alice"
    assert "@alice@127.0.0.1:8000" in response.text
    assert "Mein erstes Thema" in response.text
    assert "Dabei seit" in response.text


async def test_dates_and_numbers_follow_the_language(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await _thread(ctx, alice, group)
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET published = '2025-03-04 12:05:00+00',"
                           " like_count = 1234 WHERE id = $1", thread.id)
    german = await app_client.get(f"/posts/{thread.id}", headers=HTML)
    assert "4. März 2025, 13:05" in german.text  # Berlin time, German format
    assert "1.234 Likes" in german.text
    english = await app_client.get(f"/posts/{thread.id}",
                                   headers={**HTML, "Accept-Language": "en"})
    assert "4 March 2025, 13:05" in english.text
    assert "1,234 likes" in english.text


async def test_start_page_shows_remote_groups_separately(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    await make_group(ctx, "verkehr", title="Verkehr")
    async with ctx.pool.acquire() as conn:
        actor_id = await conn.fetchval(
            "INSERT INTO actors (ap_id, type, local, username, domain, name)"
            " VALUES ('https://lemmy.example/c/radwege', 'Group', false, 'radwege',"
            " 'lemmy.example', 'Radwege') RETURNING id")
        await conn.execute("INSERT INTO groups (actor_id) VALUES ($1)", actor_id)
    response = await app_client.get("/")
    assert "Gruppen von anderen Instanzen" in response.text
    assert 'href="/g/radwege@lemmy.example"' in response.text
    remote = await app_client.get("/g/radwege@lemmy.example")
    assert remote.status_code == 200
    assert only_h1(remote.text) == "Radwege"
    local = await app_client.get("/g/verkehr")
    assert local.status_code == 301 and local.headers["location"] == "/groups/verkehr"


class _Headings(HTMLParser):
    """The levels of a page's headings, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.levels.append(int(tag[1]))


def heading_levels(html: str) -> list[int]:
    parser = _Headings()
    parser.feed(html)
    return parser.levels


def assert_heading_order(levels: list[int]) -> None:
    """axe's heading-order: one h1 first, and no heading more than one level below the
    heading before it."""
    assert levels[0] == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels


async def test_headings_in_posts_follow_the_pages_outline(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await _thread(ctx, alice, group, content="## Zwischenstand\n\nText\n\n"
                                                       "#### Tiefer\n\n# Oben")
    await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                    content="### Antwort mit Überschrift\n\n###### Klein")
    page = await app_client.get(f"/posts/{thread.id}", headers=HTML)
    levels = heading_levels(page.text)
    assert_heading_order(levels)
    assert "<h2>Zwischenstand</h2>" in page.text  # right under the page's h1
    assert "<h3>Tiefer</h3>" in page.text and "<h2>Oben</h2>" in page.text
    assert "<h3>Antwort mit Überschrift</h3>" in page.text  # under "1 Antwort" (h2)
    assert "<h4>Klein</h4>" in page.text


async def test_markdown_images_become_links_and_the_form_says_so(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await _thread(ctx, alice, group, content="Der Plan: ![Lageplan Ortsteil Nord]"
                                                       "(https://example.org/plan.png)")
    page = await app_client.get(f"/posts/{thread.id}", headers=HTML)
    assert ('<a href="https://example.org/plan.png" rel="nofollow ugc noopener">'
            "Lageplan Ortsteil Nord</a>") in page.text
    await log_in(app_client, "alice")
    form = await app_client.get("/groups/breitband/new")
    assert "Bilder lassen sich noch nicht einbetten" in form.text


async def test_tables_in_posts_have_borders(app_client: httpx.AsyncClient) -> None:
    css = (await app_client.get("/static/style.css")).text
    rule = re.search(r"\.content th,\s*\.content td\s*\{([^}]*)\}", css)
    assert rule is not None and "border" in rule.group(1)
