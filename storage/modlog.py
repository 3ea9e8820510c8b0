"""The moderation log: one row per moderation or administration action (who, what,
why, when), read newest first with the names of the actors involved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Entry:
    id: int
    action: str
    public: bool
    remote: bool
    group_id: int | None
    moderator_id: int | None
    target_actor_id: int | None
    target_post_id: int | None
    target_domain: str | None
    reason: str
    details: dict[str, Any]
    ap_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class EntryView:
    """An entry with what a reader needs to know about the actors and post it names."""

    id: int
    action: str
    public: bool
    remote: bool
    reason: str
    details: dict[str, Any]
    ap_id: str | None
    created_at: datetime
    target_domain: str | None
    group_ap_id: str | None
    group_handle: str | None
    moderator_ap_id: str | None
    moderator_handle: str | None
    target_actor_ap_id: str | None
    target_actor_handle: str | None
    target_post_id: int | None
    target_post_ap_id: str | None
    target_post_title: str | None


async def insert(conn: Any, *, action: str, public: bool = True, remote: bool = False,
                 group_id: int | None = None, moderator_id: int | None = None,
                 target_actor_id: int | None = None, target_post_id: int | None = None,
                 target_domain: str | None = None, reason: str = "",
                 details: dict[str, Any] | None = None, ap_id: str | None = None) -> Entry:
    row = await conn.fetchrow(
        "INSERT INTO modlog (action, public, remote, group_id, moderator_id, target_actor_id,"
        " target_post_id, target_domain, reason, details, ap_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
        action, public, remote, group_id, moderator_id, target_actor_id, target_post_id,
        target_domain, reason, details or {}, ap_id,
    )
    return to_row(Entry, row)


async def by_ap_id(conn: Any, ap_id: str, action: str) -> Entry | None:
    """The entry an activity recorded (a received one is recorded once)."""
    row = await conn.fetchrow(
        "SELECT * FROM modlog WHERE ap_id = $1 AND action = $2 ORDER BY id LIMIT 1",
        ap_id, action)
    return maybe_row(Entry, row)


_VIEW = """
SELECT m.id, m.action, m.public, m.remote, m.reason, m.details, m.ap_id, m.created_at,
       m.target_domain,
       g.ap_id AS group_ap_id, g.username || '@' || g.domain AS group_handle,
       mo.ap_id AS moderator_ap_id, mo.username || '@' || mo.domain AS moderator_handle,
       t.ap_id AS target_actor_ap_id, t.username || '@' || t.domain AS target_actor_handle,
       m.target_post_id, p.ap_id AS target_post_ap_id,
       coalesce(p.title, root.title) AS target_post_title
FROM modlog m
LEFT JOIN actors g ON g.id = m.group_id
LEFT JOIN actors mo ON mo.id = m.moderator_id
LEFT JOIN actors t ON t.id = m.target_actor_id
LEFT JOIN posts p ON p.id = m.target_post_id
LEFT JOIN posts root ON root.id = p.thread_id
WHERE ($1 OR m.public)
  AND ($2::bigint IS NULL OR m.group_id = $2)
  AND ($3::bigint IS NULL OR m.id < $3)
  AND ($4::bigint IS NULL OR m.id > $4)
"""


async def page(conn: Any, *, limit: int, include_private: bool = False,
               group_id: int | None = None, before_id: int | None = None,
               after_id: int | None = None) -> list[EntryView]:
    """Newest first below ``before_id``; with ``after_id`` oldest first above it."""
    order = "ASC" if after_id is not None else "DESC"
    rows = await conn.fetch(_VIEW + f" ORDER BY m.id {order} LIMIT $5",
                            include_private, group_id, before_id, after_id, limit)
    return [to_row(EntryView, r) for r in rows]


async def count(conn: Any, *, include_private: bool = False,
                group_id: int | None = None) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM modlog m WHERE ($1 OR m.public)"
        " AND ($2::bigint IS NULL OR m.group_id = $2)", include_private, group_id))
