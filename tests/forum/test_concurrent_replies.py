"""Replies written at the same moment into one thread all land.

Each reply locks the thread row before it checks the policy and then updates it (reply
count, last activity). With a share lock two writers each held one and waited for the
other's: PostgreSQL broke the deadlock by failing one of them (found by the thread-page
benchmark). The lock is now the row lock for writing, so concurrent replies queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import answers as answer_service
from fedi.forum import posts as post_service
from storage import posts as post_store
from tests.conftest import make_settings
from tests.support.helpers import make_group, make_user


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(), pool=pool, http=http)


async def test_concurrent_replies_and_an_answer_choice_all_succeed(ctx: Context) -> None:
    group = await make_group(ctx)
    authors = [await make_user(ctx, f"person{i}") for i in range(8)]
    thread = await post_service.create_thread(
        ctx, author=authors[0].actor, group=group, title="Leerrohre mitverlegen?",
        content="Wer hat Erfahrung mit der Mitverlegung?")
    first = await post_service.create_reply(ctx, author=authors[1].actor, parent=thread,
                                            content="Wir, seit 2021.")

    async def reply(i: int) -> object:
        return await post_service.create_reply(
            ctx, author=authors[i % len(authors)].actor, parent=thread,
            content=f"Erfahrung Nummer {i}")

    results = await asyncio.gather(
        *(reply(i) for i in range(24)),
        answer_service.accept(ctx, actor=authors[0].actor, reply_id=first.id),
        return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    async with ctx.pool.acquire() as conn:
        replies = await conn.fetchval(
            "SELECT count(*) FROM posts WHERE thread_id = $1 AND id <> $1", thread.id)
        stored = await post_store.get(conn, thread.id)
    assert replies == 25
    assert stored is not None and stored.accepted_answer_id == first.id
