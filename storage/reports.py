"""Reports of posts and actors (by local users, or received as Flags) and their
handling: assignment and resolution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Report:
    id: int
    ap_id: str | None
    remote: bool
    reporter_id: int | None
    target_actor_id: int | None
    post_ids: list[int]
    group_id: int | None
    reason: str
    state: str
    assigned_to: int | None
    resolved_by: int | None
    resolved_at: datetime | None
    resolution: str | None
    forwarded_to: str | None
    created_at: datetime


async def insert(conn: Any, *, remote: bool, reporter_id: int | None,
                 target_actor_id: int | None, post_ids: Sequence[int], group_id: int | None,
                 reason: str, ap_id: str | None = None,
                 forwarded_to: str | None = None) -> Report | None:
    """A new report; None when a report with this ``ap_id`` exists (a replayed Flag)."""
    row = await conn.fetchrow(
        "INSERT INTO reports (ap_id, remote, reporter_id, target_actor_id, post_ids, group_id,"
        " reason, forwarded_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (ap_id) DO NOTHING RETURNING *",
        ap_id, remote, reporter_id, target_actor_id, list(post_ids), group_id, reason,
        forwarded_to,
    )
    return maybe_row(Report, row)


async def get(conn: Any, report_id: int) -> Report | None:
    return maybe_row(Report, await conn.fetchrow("SELECT * FROM reports WHERE id = $1",
                                                 report_id))


async def by_ap_id(conn: Any, ap_id: str) -> Report | None:
    return maybe_row(Report, await conn.fetchrow("SELECT * FROM reports WHERE ap_id = $1",
                                                 ap_id))


async def page(conn: Any, *, limit: int, state: str | None = None,
               group_ids: Sequence[int] | None = None,
               before_id: int | None = None) -> list[Report]:
    """Newest first. ``group_ids`` limits to reports handled by those groups' moderators
    (None: all reports)."""
    rows = await conn.fetch(
        "SELECT * FROM reports WHERE ($1::text IS NULL OR state = $1)"
        " AND ($2::bigint[] IS NULL OR group_id = ANY ($2::bigint[]))"
        " AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        state, None if group_ids is None else list(group_ids), before_id, limit,
    )
    return [to_row(Report, r) for r in rows]


async def assign(conn: Any, report_id: int, actor_id: int | None) -> Report | None:
    row = await conn.fetchrow(
        "UPDATE reports SET assigned_to = $2 WHERE id = $1 RETURNING *", report_id, actor_id)
    return maybe_row(Report, row)


async def resolve(conn: Any, report_id: int, *, resolved_by: int | None,
                  resolution: str) -> Report | None:
    """Mark resolved; None when there is no such open report."""
    row = await conn.fetchrow(
        "UPDATE reports SET state = 'resolved', resolved_by = $2, resolved_at = now(),"
        " resolution = $3 WHERE id = $1 AND state = 'open' RETURNING *",
        report_id, resolved_by, resolution,
    )
    return maybe_row(Report, row)


async def set_forwarded(conn: Any, report_id: int, host: str) -> Report | None:
    """Record that the report was forwarded to ``host``; None when it was already."""
    row = await conn.fetchrow(
        "UPDATE reports SET forwarded_to = $2 WHERE id = $1 AND forwarded_to IS NULL"
        " RETURNING *", report_id, host)
    return maybe_row(Report, row)
