"""Activities we sent: kept so each is fetchable at its id and listed in outboxes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Activity:
    id: int
    ap_id: str
    actor_id: int
    type: str
    object_ap_id: str | None
    post_id: int | None
    payload: dict[str, Any]
    public: bool
    created_at: datetime


async def insert(
    conn: Any,
    *,
    ap_id: str,
    actor_id: int,
    type_: str,
    object_ap_id: str | None,
    payload: dict[str, Any],
    post_id: int | None = None,
    public: bool = True,
) -> Activity:
    """Store an outgoing activity. Raises asyncpg.UniqueViolationError on a reused id."""
    row = await conn.fetchrow(
        "INSERT INTO activities (ap_id, actor_id, type, object_ap_id, post_id, payload, public)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        ap_id, actor_id, type_, object_ap_id, post_id, payload, public,
    )
    return to_row(Activity, row)


async def get(conn: Any, activity_id: int) -> Activity | None:
    row = await conn.fetchrow("SELECT * FROM activities WHERE id = $1", activity_id)
    return maybe_row(Activity, row)


async def by_ap_id(conn: Any, ap_id: str) -> Activity | None:
    row = await conn.fetchrow("SELECT * FROM activities WHERE ap_id = $1", ap_id)
    return maybe_row(Activity, row)


# Outbox items: stored activities about posts whose post is still visible (or that name no
# post). ``actor_id`` picks the sender, ``group_id`` the posts' group; ``embedded_only``
# keeps activities whose object is an embedded document, not a bare id.
_POST_ACTIVITIES_WHERE = (
    " FROM activities a LEFT JOIN posts p ON p.id = a.post_id"
    " WHERE a.public AND a.type = $1"
    " AND ($2::bigint IS NULL OR a.actor_id = $2)"
    " AND ($3::bigint IS NULL OR p.group_id = $3)"
    " AND (NOT $4::boolean OR jsonb_typeof(a.payload -> 'object') = 'object')"
    " AND p.deleted_at IS NULL AND p.removed_at IS NULL"
)


async def post_activities_page(
    conn: Any, *, type_: str, limit: int, actor_id: int | None = None,
    group_id: int | None = None, embedded_only: bool = False,
    before_id: int | None = None, after_id: int | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """(activity row id, payload); ascending from ``after_id``, else descending."""
    order = "ASC" if after_id is not None else "DESC"
    rows = await conn.fetch(
        "SELECT a.id, a.payload" + _POST_ACTIVITIES_WHERE +
        " AND ($5::bigint IS NULL OR a.id < $5) AND ($6::bigint IS NULL OR a.id > $6)"
        f" ORDER BY a.id {order} LIMIT $7",
        type_, actor_id, group_id, embedded_only, before_id, after_id, limit,
    )
    return [(r["id"], r["payload"]) for r in rows]


async def count_post_activities(conn: Any, *, type_: str, actor_id: int | None = None,
                                group_id: int | None = None,
                                embedded_only: bool = False) -> int:
    return int(await conn.fetchval(
        "SELECT count(*)" + _POST_ACTIVITIES_WHERE, type_, actor_id, group_id, embedded_only))
