"""Topic groups (local and remote) and their moderators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.actors import Actor
from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Group:
    actor_id: int
    summary_source: str
    rules_source: str
    language: str | None
    created_at: datetime
    # New threads are questions or discussions (migration 0014).
    default_kind: str = "question"
    # What followers on microblog software get: 'threads' or 'everything' (migration 0030).
    microblog_fanout: str = "threads"


@dataclass(frozen=True)
class GroupStats:
    actor_id: int
    thread_count: int
    post_count: int
    follower_count: int
    last_activity_at: datetime | None


async def insert(conn: Any, actor_id: int, *, summary_source: str = "", rules_source: str = "",
                 language: str | None = None) -> Group:
    row = await conn.fetchrow(
        "INSERT INTO groups (actor_id, summary_source, rules_source, language)"
        " VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (actor_id) DO UPDATE SET actor_id = EXCLUDED.actor_id RETURNING *",
        actor_id, summary_source, rules_source, language,
    )
    return to_row(Group, row)


async def get(conn: Any, actor_id: int) -> Group | None:
    return maybe_row(Group, await conn.fetchrow(
        "SELECT * FROM groups WHERE actor_id = $1", actor_id))


async def update(conn: Any, actor_id: int, **values: Any) -> None:
    allowed = {"summary_source", "rules_source", "language", "default_kind",
               "microblog_fanout"}
    if not values:
        return
    if set(values) - allowed:
        raise ValueError(f"not group columns: {sorted(set(values) - allowed)}")
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    await conn.execute(f"UPDATE groups SET {sets} WHERE actor_id = $1", actor_id,
                       *values.values())


async def microblog_fanout(conn: Any, actor_id: int) -> str:
    """The group's setting for its microblog followers ('threads' or 'everything')."""
    value = await conn.fetchval("SELECT microblog_fanout FROM groups WHERE actor_id = $1",
                                actor_id)
    return str(value) if value is not None else "threads"


async def list_groups(conn: Any, *, local: bool | None = None) -> list[Actor]:
    rows = await conn.fetch(
        "SELECT a.* FROM actors a JOIN groups g ON g.actor_id = a.id"
        " WHERE a.deleted_at IS NULL AND ($1::boolean IS NULL OR a.local = $1)"
        " ORDER BY a.local DESC, lower(a.username), a.domain",
        local,
    )
    return [to_row(Actor, r) for r in rows]


async def local_by_refs(conn: Any, refs: list[str]) -> list[Actor]:
    """Our live groups named by ``refs`` (ActivityPub ids or profile URLs, as a post's
    addressing may use either), in the order of ``refs``, each once."""
    rows = await conn.fetch(
        "SELECT a.* FROM actors a JOIN groups g ON g.actor_id = a.id"
        " WHERE a.local AND a.deleted_at IS NULL AND (a.ap_id = ANY ($1::text[])"
        " OR a.url = ANY ($1::text[]))", refs)
    by_ap_id = {r["ap_id"]: r for r in rows}
    by_url = {r["url"]: r for r in rows}
    ordered: list[Actor] = []
    for ref in refs:
        row = by_ap_id.get(ref) or by_url.get(ref)
        if row is not None and all(g.id != row["id"] for g in ordered):
            ordered.append(to_row(Actor, row))
    return ordered


async def stats(conn: Any, actor_ids: list[int]) -> dict[int, GroupStats]:
    """The counts a group shows, from its counter row (migration 0017: kept by triggers
    in the writes' transactions), and its latest activity from the thread index."""
    rows = await conn.fetch(
        """
        SELECT g.actor_id,
               coalesce(c.threads, 0) AS thread_count,
               coalesce(c.posts, 0) AS post_count,
               coalesce(c.followers, 0) AS follower_count,
               (SELECT p.last_activity_at FROM posts p WHERE p.group_id = g.actor_id
                  AND p.parent_id IS NULL AND p.deleted_at IS NULL AND p.removed_at IS NULL
                  ORDER BY p.last_activity_at DESC LIMIT 1) AS last_activity_at
        FROM groups g LEFT JOIN actor_counts c ON c.actor_id = g.actor_id
        WHERE g.actor_id = ANY($1::bigint[])
        """,
        actor_ids,
    )
    return {r["actor_id"]: to_row(GroupStats, r) for r in rows}


async def moderators(conn: Any, group_id: int) -> list[Actor]:
    rows = await conn.fetch(
        "SELECT a.* FROM group_moderators m JOIN actors a ON a.id = m.actor_id"
        " WHERE m.group_id = $1 ORDER BY m.created_at, a.id",
        group_id,
    )
    return [to_row(Actor, r) for r in rows]


async def is_moderator(conn: Any, group_id: int, actor_id: int) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM group_moderators WHERE group_id = $1 AND actor_id = $2)",
        group_id, actor_id,
    ))


async def add_moderator(conn: Any, group_id: int, actor_id: int) -> bool:
    """True when newly added."""
    status = await conn.execute(
        "INSERT INTO group_moderators (group_id, actor_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        group_id, actor_id,
    )
    return bool(status.endswith(" 1"))


async def remove_moderator(conn: Any, group_id: int, actor_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM group_moderators WHERE group_id = $1 AND actor_id = $2", group_id, actor_id
    )
    return bool(status.endswith(" 1"))
