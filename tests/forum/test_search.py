"""Search (fedi/forum/search.py over storage/search.py and migration 0015's lexicon): German
compounds and inflections, ranking boosts, filters, windows and paging, remote groups,
snippet escaping, similar threads. Real PostgreSQL (the embedded one), no mocks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import posts as post_service
from fedi.forum import search
from storage import actors as actor_store
from storage import groups as group_store
from storage import posts as post_store
from storage import search as search_store
from storage.actors import Actor
from storage.search import Filters
from tests.conftest import make_settings
from tests.support.helpers import User, make_group, make_user


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(), pool=pool, http=http)


async def titles(ctx: Context, query: str, **filters: object) -> list[str]:
    page = await search.search(ctx, search.clean_query(query),
                               filters=Filters(**filters), limit=50)  # type: ignore[arg-type]
    return [r.hit.post.title or f"reply:{r.hit.post.id}" for r in page.results]


CORPUS = {
    "Glasfaserausbau im Landkreis": "Wie lief die Ausschreibung?",
    "Breitbandausbau Nord": "Wir bauen aus.",
    "Breitbandplanung 2027": "Die Planung beginnt.",
    "Fristen": "Bis wann müssen die Förderanträge beim Landkreis sein?",
    "Kabel": "Welche Glasfaserkabel nehmt ihr?",
    "Kommunen": "Mehrere Kommunen arbeiten zusammen.",
    "Sitzung": "Der Gemeinderat hat beschlossen.",
    "Netz": "Das Glasfasernetz ist fertig.",
    "Verwaltung": "Verwaltungsdigitalisierung kommt voran.",
    "Adresse": "Die Hauptstraße wird gesperrt.",
    "Portal": "Unser Bürgerportal ist online.",
    "Geld": "Fördermittel sind beantragt.",
    "Radweg": "Der Radweg an der Schule fehlt.",
}


@pytest.fixture
async def corpus(ctx: Context) -> tuple[User, Actor]:
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx)
    for title, content in CORPUS.items():
        await post_service.create_thread(ctx, author=alice.actor, group=group, title=title,
                                         content=content)
    return alice, group


@pytest.mark.parametrize(("query", "expected"), [
    ("Glas", "Glasfaserausbau im Landkreis"),
    ("Breitband", "Breitbandausbau Nord"),
    ("Breitband", "Breitbandplanung 2027"),
    ("Förderantrag", "Fristen"),
    ("Faser", "Kabel"),
    ("Antrag", "Fristen"),
    ("Anträge", "Fristen"),
    ("Kommune", "Kommunen"),
    ("Gemeinde", "Sitzung"),
    ("Netz", "Netz"),
    ("Ausbau", "Breitbandausbau Nord"),
    ("Digitalisierung", "Verwaltung"),
    ("Strasse", "Adresse"),
    ("Straße", "Adresse"),
    ("Bürger", "Portal"),
    ("Mittel", "Geld"),
    ("GLASFASER", "Kabel"),
    ("glasfaserNETZ", "Netz"),
    ("Förderung", "Geld"),
])
async def test_german_compounds_and_inflections(ctx: Context, corpus: object, query: str,
                                                expected: str) -> None:
    assert expected in await titles(ctx, query)


async def test_several_words_must_all_occur(ctx: Context, corpus: object) -> None:
    assert await titles(ctx, "Förderanträge Landkreis") == ["Fristen"]
    assert "Glasfaserausbau im Landkreis" in await titles(ctx, "Landkreis")
    assert await titles(ctx, "Radweg Glasfaser") == []
    # Unrelated words do not match: the infix expansion needs the word inside another.
    assert await titles(ctx, "Radweg") == ["Radweg"]
    # Only stopwords: nothing, not everything.
    assert await titles(ctx, "und oder") == []


async def test_empty_and_too_long_queries_are_refused() -> None:
    with pytest.raises(search.InvalidQuery, match="at least one"):
        search.clean_query("   ")
    with pytest.raises(search.InvalidQuery, match="200"):
        search.clean_query("x" * 201)
    with pytest.raises(search.InvalidQuery, match="state"):
        search.check_state("closed")


async def test_snippets_escape_everything_but_mark(ctx: Context) -> None:
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx)
    await post_service.create_thread(
        ctx, author=alice.actor, group=group, title="Sicherheit",
        content="Kosten & <b>Nutzen</b> <script>alert('x')</script> beim Glasfaserausbau")
    [result] = (await search.search(ctx, "Glasfaser")).results
    html = str(result.snippet)
    assert "<mark>Glasfaserausbau</mark>" in html
    assert "<script" not in html and "<b>" not in html
    assert "&amp;" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


async def test_hidden_posts_and_filters(ctx: Context) -> None:
    alice = await make_user(ctx, "alice")
    bob = await make_user(ctx, "bob")
    group = await make_group(ctx)
    other = await make_group(ctx, "verkehr", title="Verkehr")
    kept = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                            title="Glasfaser A", content="Text")
    gone = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                            title="Glasfaser B", content="Text")
    await post_service.create_thread(ctx, author=bob.actor, group=other,
                                     title="Glasfaser C", content="Text")
    reply = await post_service.create_reply(ctx, author=bob.actor, parent=kept,
                                            content="Glasfaser liegt.")
    await post_service.delete_post(ctx, actor=alice.actor, post=gone)
    assert sorted(await titles(ctx, "Glasfaser")) == sorted(
        ["Glasfaser A", "Glasfaser C", f"reply:{reply.id}"])
    assert sorted(await titles(ctx, "Glasfaser", group_id=group.id)) == sorted(
        ["Glasfaser A", f"reply:{reply.id}"])
    assert sorted(await titles(ctx, "Glasfaser", author_id=bob.actor.id)) == sorted(
        ["Glasfaser C", f"reply:{reply.id}"])
    assert await titles(ctx, "Glasfaser", state="unanswered") == ["Glasfaser C"]
    assert sorted(await titles(ctx, "Glasfaser", state="answered")) == sorted(
        ["Glasfaser A", f"reply:{reply.id}"])
    assert await titles(ctx, "Glasfaser", state="solved") == []
    # Solved: the thread's posts are boosted, the accepted answer most.
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET accepted_answer_id = $1 WHERE id = $2",
                           reply.id, kept.id)
    page = await search.search(ctx, "Glasfaser")
    assert page.results[0].hit.post.id == reply.id
    assert page.results[0].hit.accepted and page.results[0].state == "solved"
    assert sorted(await titles(ctx, "Glasfaser", state="solved")) == sorted(
        ["Glasfaser A", f"reply:{reply.id}"])
    assert await titles(ctx, "Glasfaser", state="open") == ["Glasfaser C"]


async def test_paging_reaches_every_match_across_windows(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """120 matches: pages of 50 reach them all, each once; with the window cap lowered to
    30 (four windows), too."""
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx)
    async with ctx.pool.acquire() as conn:
        for i in range(120):
            await post_store.insert(conn, {
                "ap_id": f"https://example.org/p/{i}", "local": False, "group_id": group.id,
                "author_id": alice.actor.id, "title": f"Thema {i}",
                "content_html": "<p>Breitbandausbau " + "Glasfaser " * (i % 7) + "</p>"})

    async def all_ids() -> list[int]:
        seen: list[int] = []
        after = None
        for _ in range(20):
            page = await search.search(ctx, "Breitband Ausbau", after=after,
                                       limit=50)
            seen += [r.hit.post.id for r in page.results]
            if page.next is None:
                return seen
            after = page.next
        raise AssertionError("no last page")

    ids = await all_ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    monkeypatch.setattr(search_store, "CANDIDATE_CAP", 30)
    ids = await all_ids()
    assert len(ids) == 120 and len(set(ids)) == 120


async def test_threads_of_followed_remote_groups(ctx: Context) -> None:
    async with ctx.pool.acquire() as conn:
        remote = await actor_store.upsert_remote(conn, "https://lemmy.example/c/netze", {
            "type": "Group", "username": "netze", "domain": "lemmy.example",
            "inbox": "https://lemmy.example/c/netze/inbox"})
        await group_store.insert(conn, remote.id)
        person = await actor_store.upsert_remote(conn, "https://lemmy.example/u/eva", {
            "type": "Person", "username": "eva", "domain": "lemmy.example",
            "inbox": "https://lemmy.example/u/eva/inbox"})
        await post_store.insert(conn, {
            "ap_id": "https://lemmy.example/post/1", "local": False, "group_id": remote.id,
            "author_id": person.id, "title": "Glasfaserkabel verlegen",
            "content_html": "<p>Tiefbau &amp; Kosten</p>"})
    page = await search.search(ctx, "Kabel")
    [result] = page.results
    view = search.item_view(ctx, result, page.actors)
    assert view["group"] == "netze@lemmy.example" and view["author"] == "eva@lemmy.example"
    assert view["type"] == "thread" and view["state"] == "open"
    assert "Tiefbau &amp; Kosten" in view["snippet"]
    # A blocked domain's group is left out.
    async with ctx.pool.acquire() as conn:
        await conn.execute("INSERT INTO domain_blocks (domain) VALUES ('lemmy.example')")
    assert (await search.search(ctx, "Kabel")).results == []


async def test_similar_threads_solved_first(ctx: Context, corpus: tuple[User, Actor]) -> None:
    alice, group = corpus
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Förderung Glasfaser", content="?")
    answer = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                             content="So ging es.")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET accepted_answer_id = $1 WHERE id = $2",
                           answer.id, thread.id)
    page = await search.similar_threads(ctx, "Wie kommen wir an Fördermittel für Glasfaser?")
    found = [r.hit.post.title for r in page.results]
    assert found[0] == "Förderung Glasfaser" and page.results[0].state == "solved"
    assert 1 < len(found) <= 5 and "Radweg" not in found
