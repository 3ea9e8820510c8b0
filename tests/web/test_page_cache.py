"""The page cache for anonymous readers (fedi/web/page_cache.py, migration 0020): two app
instances on one database; a write through one is seen at once by an anonymous reader of
the other, and logged-in readers never get a cached page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fedi.app import create_app
from fedi.core.context import Context
from fedi.forum import answers, officials, threads
from fedi.forum import posts as post_service
from fedi.forum.staff import Staff
from fedi.web.page_cache import Entry, PageStore, store_of
from storage import actors as actor_store
from storage import groups as group_store
from tests.conftest import make_settings
from tests.support.helpers import make_group, make_user
from tests.web.conftest import log_in

HTML = {"Accept": "text/html"}


@pytest.fixture
async def two_apps(dsn: str) -> AsyncIterator[tuple[Starlette, Starlette]]:
    """Two processes' worth of app (own pools, own caches) on one database."""
    first = create_app(make_settings(), dsn, run_workers=False)
    second = create_app(make_settings(), dsn, run_workers=False)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        yield first, second


def client_of(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://127.0.0.1:8000")


async def read(client: httpx.AsyncClient, path: str, **headers: str) -> str:
    response = await client.get(path, headers={**HTML, **headers})
    assert response.status_code == 200, response.text
    return response.text


async def test_a_write_through_one_process_is_seen_by_the_other(
        two_apps: tuple[Starlette, Starlette]) -> None:
    writer_app, reader_app = two_apps
    ctx: Context = writer_app.state.ctx
    author = await make_user(ctx, "alice")
    mod = await make_user(ctx, "maria", admin=True)
    group = await make_group(ctx, moderators=[mod.actor])
    staff = Staff(mod.account, mod.actor)
    thread = await post_service.create_thread(ctx, author=author.actor, group=group,
                                              title="Glasfaser", content="Wann kommt es?",
                                              kind="question")
    reply = await post_service.create_reply(ctx, author=mod.actor, parent=thread,
                                            content="Im Frühjahr.")
    path = f"/posts/{thread.id}"
    store = store_of(reader_app)
    async with client_of(reader_app) as reader:
        first = await read(reader, path)
        assert "Im Frühjahr." in first
        assert await read(reader, path) == first
        assert store.hits == 1  # the second reading came from the cache

        async def changed(check: Any) -> str:
            hits = store.hits
            page = await read(reader, path)
            assert check(page), page
            assert store.hits == hits, "served from the cache after a write"
            assert await read(reader, path) == page  # and cached again
            return page

        # A new reply, written through the other process.
        await post_service.create_reply(ctx, author=author.actor, parent=reply,
                                        content="Danke, das hilft.")
        await changed(lambda page: "Danke, das hilft." in page)
        # A like changes the count shown.
        await post_service.like_post(ctx, actor=author.actor, post=reply)
        await changed(lambda page: "1 Gefällt mir" in page or "1 like" in page
                      or '<span class="likes">1 ' in page)
        # An accepted answer.
        await answers.accept(ctx, actor=author.actor, reply_id=reply.id)
        await changed(lambda page: 'class="accepted-answer"' in page)
        # An edit.
        await post_service.edit_post(ctx, actor=mod.actor,
                                     post=await post_service.get_post(ctx, reply.id),
                                     content="Im Sommer.")
        await changed(lambda page: "Im Sommer." in page and "Im Frühjahr." not in page)
        # Lock.
        await threads.lock_thread(ctx, staff, thread.id, locked=True, reason="")
        await changed(lambda page: 'class="login-hint"' not in page)
        # The author's display name and an official badge (actors: the global scope).
        async with ctx.pool.acquire() as conn:
            await conn.execute("UPDATE actors SET name = 'Alice Neu' WHERE id = $1",
                               author.actor.id)
        await changed(lambda page: "Alice Neu" in page)
        await officials.set_official(ctx, staff, "alice", "Bürgermeisterin")
        await changed(lambda page: "Bürgermeisterin" in page)
        # The group's title (breadcrumb).
        async with ctx.pool.acquire() as conn:
            await conn.execute("UPDATE actors SET name = 'Glasfaser jetzt' WHERE id = $1",
                               group.id)
            assert await group_store.get(conn, group.id) is not None
        await changed(lambda page: "Glasfaser jetzt" in page)
        # A removed reply, then the removed thread: gone for the public at once.
        await threads.remove_post(ctx, staff, reply.id, reason="Spam")
        await changed(lambda page: "Im Sommer." not in page)
        await threads.remove_post(ctx, staff, thread.id, reason="Spam")
        gone = await reader.get(path, headers=HTML)
        assert gone.status_code == 410


async def test_a_refreshed_remote_actor_keeps_the_cache(
        two_apps: tuple[Starlette, Starlette]) -> None:
    """Bookkeeping of an actor (fetch time, raw document) changes nothing shown."""
    writer_app, reader_app = two_apps
    ctx: Context = writer_app.state.ctx
    author = await make_user(ctx, "alice")
    group = await make_group(ctx)
    thread = await post_service.create_thread(ctx, author=author.actor, group=group,
                                              title="Glasfaser", content="Wann kommt es?")
    store = store_of(reader_app)
    async with client_of(reader_app) as reader:
        await read(reader, f"/posts/{thread.id}")
        async with ctx.pool.acquire() as conn:
            await conn.execute("UPDATE actors SET fetched_at = now(), raw = '{}'::jsonb,"
                               " updated_at = now() WHERE id = $1", author.actor.id)
            actor = await actor_store.get(conn, author.actor.id)
            assert actor is not None
        await read(reader, f"/posts/{thread.id}")
        assert store.hits == 1


async def test_logged_in_readers_never_get_the_cached_page(
        two_apps: tuple[Starlette, Starlette]) -> None:
    app, _ = two_apps
    ctx: Context = app.state.ctx
    await make_user(ctx, "alice")
    author = await make_user(ctx, "bob")
    group = await make_group(ctx)
    thread = await post_service.create_thread(ctx, author=author.actor, group=group,
                                              title="Glasfaser", content="Wann kommt es?")
    path = f"/posts/{thread.id}"
    async with client_of(app) as anonymous, client_of(app) as alice:
        anonymous_page = await read(anonymous, path)
        await read(anonymous, path)
        assert 'name="csrf_token"' not in anonymous_page
        hits = store_of(app).hits
        await log_in(alice, "alice")
        page = await read(alice, path)
        assert 'name="csrf_token"' in page
        assert 'action="/logout"' in page
        assert store_of(app).hits == hits
        # A reader without the CSRF cookie gets one from a cached page too.
        fresh = client_of(app)
        async with fresh:
            response = await fresh.get(path, headers=HTML)
            assert response.status_code == 200
            assert store_of(app).hits == hits + 1
            assert response.cookies.get("demisa_csrf")
            assert response.headers["content-language"] == "de"
            assert response.headers["cache-control"] == "private, no-cache"
        # The language is part of the key.
        english = await read(anonymous, path, **{"Accept-Language": "en"})
        assert 'lang="en"' in english and english != anonymous_page
        # ActivityPub clients get the document, not the cached page.
        document = await anonymous.get(path, headers={"Accept": "application/activity+json"})
        assert document.json()["id"].endswith(path)


async def test_the_store_keeps_to_its_budget() -> None:
    store = PageStore(max_bytes=4000)
    for n in range(10):
        store.put((f"/posts/{n}", "", "de"), Entry((1,), 200, (), b"x" * 900))
    assert store.get(("/posts/0", "", "de")) is None
    assert store.get(("/posts/9", "", "de")) is not None
    assert sum(len(e.body) for e in store._entries.values()) <= 4000


async def test_concurrent_likes_in_one_thread_do_not_deadlock_on_the_version(
        two_apps: tuple[Starlette, Starlette]) -> None:
    """The version row is bumped at commit (deferred triggers), after the post rows are
    locked: likes of different replies of one thread, at once, all succeed."""
    writer_app, reader_app = two_apps
    ctx: Context = writer_app.state.ctx
    people = [await make_user(ctx, f"person{n}") for n in range(8)]
    group = await make_group(ctx)
    thread = await post_service.create_thread(ctx, author=people[0].actor, group=group,
                                              title="Glasfaser", content="Wann?")
    replies = [await post_service.create_reply(ctx, author=people[0].actor, parent=thread,
                                               content=f"Antwort {n}") for n in range(3)]
    async with client_of(reader_app) as reader:
        await read(reader, f"/posts/{thread.id}")
        results = await asyncio.gather(*(
            post_service.like_post(ctx, actor=person.actor, post=replies[n % 3])
            for n, person in enumerate(people)), return_exceptions=True)
        assert all(result is True for result in results), results
        page = await read(reader, f"/posts/{thread.id}")
        assert page.count('<span class="likes">3 ') == 2 and '<span class="likes">2 ' in page
