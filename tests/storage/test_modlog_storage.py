"""The modlog's page query: filters by group and action, and plans that use the indexes
even as a prepared statement's generic plan (asyncpg prepares every statement)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from storage import modlog


async def _generic_plan(conn: Any, sql: str, args: list[Any]) -> str:
    """EXPLAIN of the generic plan PostgreSQL keeps for ``sql`` after a few executions,
    with sequential scans, bitmaps and sorts off: on a nearly empty table the plan then
    shows whether an index can give the rows newest first (the planner takes the cheapest
    plan left; a Sort or a sequential scan in it means the query allows nothing else)."""
    for setting in ("plan_cache_mode = force_generic_plan", "enable_seqscan = off",
                    "enable_bitmapscan = off", "enable_sort = off"):
        await conn.execute(f"SET {setting}")
    await conn.execute(f"PREPARE modlog_page AS {sql}")
    try:
        values = ", ".join("NULL" if a is None else repr(a) for a in args)
        rows = await conn.fetch(f"EXPLAIN EXECUTE modlog_page({values})")
    finally:
        await conn.execute("DEALLOCATE modlog_page")
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize(("filters", "index_use"), [
    ({}, "Index Scan using modlog_public"),
    ({"action": "ban"}, "Index Scan using modlog_public"),
    ({"group_id": 7}, "Index Cond: (group_id = "),
    ({"group_id": 7, "action": "ban", "before_id": 100}, "Index Cond: ((group_id = "),
])
async def test_page_query_uses_an_index(pool: asyncpg.Pool, filters: dict[str, Any],
                                        index_use: str) -> None:
    sql, args = modlog.page_query(limit=31, **filters)
    async with pool.acquire() as conn:
        plan = await _generic_plan(conn, sql, args)
    assert index_use in plan, plan
    assert "Sort" not in plan and "Seq Scan on modlog" not in plan, plan


async def test_page_filters(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        group = await conn.fetchval(
            "INSERT INTO actors (ap_id, local, type, username, domain)"
            " VALUES ('https://x.example/c/g', false, 'Group', 'g', 'x.example') RETURNING id")
        ids = {}
        for action, group_id, public in [("ban", group, True), ("ban", None, True),
                                         ("thread_lock", group, True),
                                         ("report_resolve", group, False)]:
            entry = await modlog.insert(conn, action=action, group_id=group_id, public=public)
            ids.setdefault(action, []).append(entry.id)

        async def found(**filters: Any) -> list[int]:
            return [e.id for e in await modlog.page(conn, **{"limit": 10, **filters})]

        every = sorted((i for v in ids.values() for i in v), reverse=True)
        assert await found(include_private=True) == every
        assert await found() == [i for i in every if i not in ids["report_resolve"]]
        assert await found(action="ban") == ids["ban"][::-1]
        assert await found(group_id=group, action="ban") == ids["ban"][:1]
        assert await found(group_id=group) == [ids["thread_lock"][0], ids["ban"][0]]
        assert await found(before_id=ids["thread_lock"][0], limit=1) == [ids["ban"][1]]
        assert await found(after_id=ids["ban"][0]) == [ids["ban"][1], ids["thread_lock"][0]]
        assert await modlog.count(conn, group_id=group) == 2
        assert await modlog.count(conn, include_private=True) == 4
