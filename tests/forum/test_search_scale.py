"""Search that stays flat at scale (issue 17): a common term's candidates come from the
newest documents in key order, capped before ranking; a rare term's from the GIN index;
no statement counts all matches; a request ranks a bounded number of windows, and paging
still reaches every match. Posts seeded with ``storage.seed`` (COPY, threads of ten, one
post in ten mentions "Glasfaser"), then ANALYZEd as the seed does. Real PostgreSQL.

``SCALE_POSTS`` sets the number of posts of the plan test (default 100,000)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import search
from storage import posts as post_store
from storage import search as search_store
from storage.search import Filters
from storage.seed import seed_posts
from tests.conftest import make_settings
from tests.support.helpers import make_group, make_user

POSTS = int(os.environ.get("SCALE_POSTS", "100000"))


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(), pool=pool, http=http)


async def _seed(ctx: Context, count: int) -> int:
    """``count`` seeded posts and three rare ones ("Zebrastreifen"); the group's id."""
    author = await make_user(ctx, "alice")
    group = await make_group(ctx)
    async with ctx.pool.acquire() as conn:
        await seed_posts(conn, group_id=group.id, author_ids=[author.actor.id],
                         base_url=ctx.settings.base_url, count=count, activities=False)
        for i in range(3):
            await post_store.insert(conn, {
                "ap_id": f"https://example.org/zebra/{i}", "local": False,
                "group_id": group.id, "author_id": author.actor.id,
                "title": f"Zebrastreifen {i}",
                "content_html": "<p>Der Zebrastreifen vor der Schule" + " fehlt" * i + "</p>"})
        await conn.execute("ANALYZE search_docs")
    search._lexicons.clear()  # statistics of this database, not an earlier test's
    return group.id


async def _ids(conn: asyncpg.Connection, tsquery: str) -> set[int]:
    rows = await conn.fetch("SELECT id FROM posts WHERE search @@ $1::tsquery", tsquery)
    return {r["id"] for r in rows}


async def _page_through(ctx: Context, query: str, **filters: object) -> list[list[int]]:
    """The ids of every page, following the cursors to the end."""
    pages: list[list[int]] = []
    after = None
    for _ in range(200):
        page = await search.search(ctx, query, filters=Filters(**filters),  # type: ignore[arg-type]
                                   after=after, limit=50)
        pages.append([r.hit.post.id for r in page.results])
        if page.next is None:
            return pages
        after = page.next
    raise AssertionError("no last page")


async def test_every_match_reachable_with_a_small_cap(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000 posts, 300 of them with "Glasfaser", windows of 25: the common term is read in
    key order, pages of 50 reach all 300 once; a rare term goes to the index, exactly; a
    state filter that leaves few hits per window gives short pages with cursors, each
    request ranking at most MAX_WINDOWS windows, and reaches every solved match."""
    monkeypatch.setattr(search_store, "CANDIDATE_CAP", 25)
    await _seed(ctx, 3000)
    async with ctx.pool.acquire() as conn:
        common = await search.build_query(conn, "Glasfaser")
        rare = await search.build_query(conn, "Zebrastreifen")
        assert common is not None and rare is not None
        known = await search.lexicon(ctx, conn)
        assert known is not None
        assert 0 < known.scan(common) < 3000  # in key order, a few hundred documents
        assert known.scan(rare) == 0  # the index
        glasfaser = await _ids(conn, common.text)
        zebra = await _ids(conn, rare.text)
        # Two threads solved: their Glasfaser posts are the only "solved" hits.
        threads = await conn.fetch(
            "SELECT t.id, min(p.id) AS reply FROM posts t JOIN posts p ON p.thread_id = t.id"
            " AND p.parent_id IS NOT NULL WHERE t.parent_id IS NULL AND t.id IN ("
            "SELECT coalesce(thread_id, id) FROM posts WHERE id = ANY($1::bigint[]))"
            " GROUP BY t.id ORDER BY t.id LIMIT 2", sorted(glasfaser))
        for row in threads:
            await conn.execute("UPDATE posts SET accepted_answer_id = $2 WHERE id = $1",
                               row["id"], row["reply"])
        solved = {r["id"] for r in await conn.fetch(
            "SELECT id FROM posts WHERE coalesce(thread_id, id) = ANY($1::bigint[])",
            [r["id"] for r in threads])} & glasfaser
    assert len(glasfaser) == 300 and len(zebra) == 3 and solved

    pages = await _page_through(ctx, "Glasfaser")
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)) == 300 and set(seen) == glasfaser
    assert all(len(page) == 50 for page in pages[:-1])

    assert [[*page] for page in await _page_through(ctx, "Zebrastreifen")] == [
        sorted(zebra, reverse=True)]  # one window: ranked exactly ("fehlt" adds nothing)

    pages = await _page_through(ctx, "Glasfaser", state="solved")
    seen = [i for page in pages for i in page]
    assert sorted(seen) == sorted(solved)
    # 12 windows of 25, at most MAX_WINDOWS a request: at least three requests, some short.
    assert len(pages) >= 300 // 25 // search.MAX_WINDOWS
    assert any(len(page) < 50 for page in pages[:-1]) or len(pages) == 1


async def test_both_ways_reach_the_same_matches(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the newest documents in key order (with a reading long enough for the cap,
    or so short that windows hold only what it read) and asking the GIN index reach the
    same matches, each once, window after window; a full window is the same either way."""
    monkeypatch.setattr(search_store, "CANDIDATE_CAP", 40)
    group_id = await _seed(ctx, 2000)
    async with ctx.pool.acquire() as conn:
        for text in ("Glasfaser", "Faser", "Förderung Gemeinde", "Zebrastreifen", "Wahl"):
            built = await search.build_query(conn, text)
            assert built is not None
            for filters in (Filters(), Filters(group_id=group_id), Filters(state="open")):
                reached: list[list[int]] = []
                full: list[set[tuple[int, int | None, tuple[int, ...]]]] = []
                for scan in (0, 100, 5000):
                    top, ids, windows = search_store.TOP, [], set()
                    for _ in range(500):
                        window = await search_store.search_window(
                            conn, built.text, top=top, after=None, filters=filters,
                            limit=500, scan=scan)
                        ids += [h.post.id for h in window.hits]
                        if window.size == search_store.CANDIDATE_CAP:
                            windows.add((top, window.low,
                                         tuple(h.post.id for h in window.hits)))
                        if not window.more or window.low is None:
                            break
                        top = window.low - 1
                    reached.append(ids)
                    full.append(windows)
                expected = await _ids(conn, built.text)
                for ids in reached:
                    assert len(ids) == len(set(ids)), (text, filters)
                    if filters.state is None:
                        assert set(ids) == expected, (text, filters)
                assert set(reached[0]) == set(reached[1]) == set(reached[2])
                assert full[0] == full[2], (text, filters)  # 5000 covers the table


async def test_a_term_common_only_long_ago_stays_bounded(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """3,000 posts mention "Glasfaser" one in ten, then 3,000 newer ones never do: the
    statistics call it common, so its windows are read in key order, and the newest ones
    hold only the documents read (no fallback collecting every old match); paging still
    reaches all 300, each once."""
    monkeypatch.setattr(search_store, "CANDIDATE_CAP", 25)
    group_id = await _seed(ctx, 3000)
    async with ctx.pool.acquire() as conn:
        author_id = await conn.fetchval("SELECT author_id FROM posts WHERE group_id = $1"
                                        " LIMIT 1", group_id)
        await seed_posts(conn, group_id=group_id, author_ids=[author_id],
                         base_url=ctx.settings.base_url, count=3000, activities=False,
                         keyword_every=10**9)
        search._lexicons.clear()
        common = await search.build_query(conn, "Glasfaser")
        assert common is not None
        known = await search.lexicon(ctx, conn)
        assert known is not None and 0 < known.scan(common) < 3000
        newest = await search_store.search_window(
            conn, common.text, top=search_store.TOP, after=None, filters=Filters(),
            limit=50, scan=known.scan(common))
        assert newest.size == 0 and newest.more and newest.low is not None
        glasfaser = await _ids(conn, common.text)
    pages = await _page_through(ctx, "Glasfaser")
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)) == 300 and set(seen) == glasfaser


def _scans(plan: str) -> list[str]:
    return [line.strip() for line in plan.splitlines() if "Scan" in line]


def _seq_scans(plan: str) -> list[str]:
    """Sequential scans of the tables that grow with posts (small tables may be scanned)."""
    return [s for s in _scans(plan)
            if "Seq Scan on posts" in s or "Seq Scan on search_docs" in s]


async def test_common_term_plan_at_scale(ctx: Context) -> None:
    """At 100,000 posts the common term (one post in ten) is read from the newest
    documents by the primary key, a few thousand of them, with no sequential scan of posts
    or search_docs and no count of all matches; the rare term goes through the GIN index;
    similar threads likewise."""
    await _seed(ctx, POSTS)
    async with ctx.pool.acquire() as conn:
        known = await search.lexicon(ctx, conn)
        common = await search.build_query(conn, "Glasfaser")
        rare = await search.build_query(conn, "Zebrastreifen")
        similar = await search.build_query(conn, "Glasfaser für die Schule", any_word=True)
        assert known is not None and common and rare and similar
        scan = known.scan(common)
        assert 0 < scan <= 10_000, scan
        assert known.scan(rare) == 0

        args = (common.text, search_store.TOP, None, None, None, None, 21)
        ordered = search_store._window_sql(Filters(), search_store._bucket(scan))
        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + ordered, *args))
        scans = _scans(plan)
        assert not _seq_scans(plan), plan
        assert any("Index Scan Backward using search_docs_pkey" in s for s in scans), plan
        # Read in key order until the cap was reached: far fewer documents than matches;
        # the documents read are counted only for a window that is not full (not here).
        first, *others = [line for line in plan.splitlines() if "search_docs_pkey" in line]
        assert int(first.split("rows=")[1].split()[0]) <= scan, plan
        assert all("never executed" in line for line in others), plan

        similar_scan = known.scan(similar, threads_only=True)
        assert similar_scan > 0
        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN (COSTS OFF) " + search_store._similar_sql(search_store._bucket(similar_scan)),
            similar.text, search_store.TOP, None, None, 5))
        assert not _seq_scans(plan), plan

        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN (COSTS OFF) " + search_store._window_sql(Filters(), None), *args))
        assert "Function Scan on search_index_candidates" in plan, plan
        async with conn.transaction():  # the function's own settings (migration 0022)
            await conn.execute("SET LOCAL enable_seqscan = off")
            await conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            inner = "\n".join(r[0] for r in await conn.fetch(
                "EXPLAIN (COSTS OFF) SELECT d.post_id FROM search_docs d"
                " WHERE d.search @@ $1::tsquery AND d.post_id <= $2"
                " ORDER BY d.post_id + 0 DESC LIMIT 200", rare.text, search_store.TOP))
        assert "Bitmap Index Scan on search_docs_search" in inner, inner

    page = await search.search(ctx, "Glasfaser")
    assert len(page.results) == search.PAGE_SIZE and page.next is not None
