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
