"""The instance's statistics (fedi/forum/statistics.py): the counts match what was created,
per group and in total, follow later writes, and come from indexes rather than passes
over all posts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from fedi.core.context import Context
from fedi.forum import statistics
from storage import statistics as statistics_store
from tests.support.statistics_scene import Scene, build_scene


@pytest.fixture
async def scene(app_client: Any) -> Scene:
    ctx: Context = app_client.app.state.ctx
    return await build_scene(ctx)


async def _collect(scene: Scene) -> statistics.Statistics:
    async with scene.ctx.pool.acquire() as conn:
        return await statistics.collect(conn, datetime.now(UTC))


def _counts(row: Any) -> dict[str, int]:
    return {name: getattr(row, name) for name in statistics.COUNT_COLUMNS}


async def test_counts_match_what_was_created(scene: Scene) -> None:
    stats = await _collect(scene)
    assert {g.username: _counts(g) for g in stats.groups} == scene.expected_groups
    assert [g.name for g in stats.groups] == ["Breitbandausbau", "Schulen"]
    assert asdict(stats.totals) == scene.expected_totals
    assert (stats.accounts, stats.active_month, stats.active_halfyear) == (
        scene.accounts, scene.active_month, scene.active_halfyear)
    assert stats.local_posts == scene.local_posts


async def test_counts_follow_later_writes(scene: Scene) -> None:
    ctx = scene.ctx
    async with ctx.pool.acquire() as conn:
        # carla logs in again (a session used now), a question loses its accepted answer,
        # a group is deleted, and a past event is deleted.
        await conn.execute("UPDATE api_tokens SET last_used_at = now() WHERE account_id = $1",
                           scene.users["carla"].account.id)
        await conn.execute("UPDATE posts SET accepted_answer_id = NULL"
                           " WHERE accepted_answer_id IS NOT NULL")
        await conn.execute("UPDATE events SET deleted_at = now()"
                           " WHERE coalesce(ends_at, starts_at) < now()")
        await conn.execute("UPDATE actors SET deleted_at = now() WHERE username = 'schule'"
                           " AND local")
    stats = await _collect(scene)
    assert [g.username for g in stats.groups] == ["breitband"]
    assert stats.groups[0].questions_solved == 0 and stats.groups[0].questions == 2
    assert stats.totals.events_past == 0 and stats.totals.threads == 3
    assert stats.active_month == scene.active_month + 1
    assert stats.totals.remote_followers == 2  # eve still follows breitband


async def test_empty_instance(app_client: Any) -> None:
    ctx: Context = app_client.app.state.ctx
    async with ctx.pool.acquire() as conn:
        stats = await statistics.collect(conn, datetime.now(UTC))
    assert stats.groups == [] and stats.accounts == 0 and stats.active_month == 0
    assert set(asdict(stats.totals).values()) == {0}


async def _plans(conn: asyncpg.Connection, now: datetime) -> str:
    """The plans of every statement statistics.collect sends, with sequential scans made as
    expensive as the planner allows: one that still appears has no index to use."""
    texts = []
    for sql, args in ((statistics_store._GROUPS, [now]), (statistics_store._TOTALS, []),
                      (statistics_store._ACTIVE, [now])):
        rows = await conn.fetch("EXPLAIN " + sql, *args)
        texts.append("\n".join(r[0] for r in rows))
    return "\n".join(texts)


async def test_no_statement_scans_all_posts_or_likes(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await conn.execute("SET enable_seqscan = off")
        try:
            plans = await _plans(conn, datetime.now(UTC))
            # The check sees a scan where there is one: no index serves this count.
            naive = "\n".join(r[0] for r in await conn.fetch(
                "EXPLAIN SELECT count(*) FROM posts WHERE kind = 'question'"))
        finally:
            await conn.execute("RESET enable_seqscan")
    for table in ("posts", "likes", "events"):
        assert f"Seq Scan on {table}" not in plans, plans
    assert "posts_group_questions" in plans and "likes_actor_recent" in plans, plans
    assert "Seq Scan on posts" in naive
