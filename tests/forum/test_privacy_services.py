"""The export and erasure services below the API: a large export comes in pieces, and the
erasure job keeps the private keys while Deletes signed with them wait for delivery."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.forum.erasure import ErasureQueue, erase_account
from fedi.forum.export import PAGE, export_zip
from tests.conftest import make_settings
from tests.support.helpers import make_group, make_user


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(), pool=pool, http=http)


async def test_a_large_export_is_streamed_in_pages(ctx: Context) -> None:
    group = await make_group(ctx)
    user = await make_user(ctx, "viel")
    count = 2 * PAGE + 7
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO posts (ap_id, local, group_id, author_id, title, content_html,"
            " source) SELECT 'http://127.0.0.1:8000/posts/x' || n, true, $1, $2,"
            " 'Thema ' || n, '<p>Text ' || n || '</p>', 'Text ' || n || ' '"
            " || repeat(md5(n::text), 30)"
            " FROM generate_series(1, $3) AS n", group.id, user.actor.id, count)
    chunks = [chunk async for chunk in export_zip(ctx, user.account)]
    # README and account first, then the posts as they are read: nothing waits for all.
    assert len(chunks) >= 4 and all(chunks)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    posts = json.loads(archive.read("posts.json"))
    assert len(posts) == count
    assert posts[-1]["source"].startswith(f"Text {count} ")
    assert posts[0]["title"] == "Thema 1"


async def test_the_keys_stay_until_the_deletes_are_delivered(ctx: Context) -> None:
    user = await make_user(ctx, "gehtbald")
    async with ctx.pool.acquire() as conn:
        remote = await conn.fetchval(
            "INSERT INTO actors (ap_id, type, local, username, domain, inbox)"
            " VALUES ('https://social.example/users/f', 'Person', false, 'f',"
            " 'social.example', 'https://social.example/users/f/inbox') RETURNING id")
        await conn.execute("INSERT INTO follows (follower_id, target_id, state)"
                           " VALUES ($1, $2, 'accepted')", remote, user.actor.id)
    await erase_account(ctx, user.account, keep_posts=False, staff=None)
    queue = ErasureQueue(ctx)
    worker = uuid.uuid4()

    async def run_job() -> int:
        async with ctx.pool.acquire() as conn:
            jobs = await queue.claim(conn, worker, 10)
        for job in jobs:
            await queue.process(job, asyncio.Event())
        return len(jobs)

    async with ctx.pool.acquire() as conn:
        delivery = await conn.fetchrow(
            "SELECT d.id, d.inbox_url, a.payload FROM deliveries d"
            " JOIN activities a ON a.id = d.activity_id WHERE a.actor_id = $1",
            user.actor.id)
    assert delivery["inbox_url"] == "https://social.example/users/f/inbox"
    assert delivery["payload"]["object"] == user.actor.ap_id
    assert await run_job() == 1
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM actor_keys WHERE actor_id = $1",
                                   user.actor.id) == 1
        job = await conn.fetchrow("SELECT state, last_error FROM account_erasures")
        assert job["state"] == "queued" and "still queued" in job["last_error"]
        await conn.execute("UPDATE deliveries SET state = 'delivered' WHERE id = $1",
                           delivery["id"])
        await conn.execute("UPDATE account_erasures SET next_attempt_at = now()")
    assert await run_job() == 1
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM actor_keys WHERE actor_id = $1",
                                   user.actor.id) == 0
        assert await conn.fetchval("SELECT state FROM account_erasures") == "done"
