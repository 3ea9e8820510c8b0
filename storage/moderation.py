"""Blocked domains and bans of actors (in one group, or on the whole instance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class DomainBlock:
    domain: str
    reason: str
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True)
class Ban:
    id: int
    actor_id: int
    group_id: int | None
    reason: str
    expires_at: datetime | None
    remove_content: bool
    ap_id: str | None
    created_by: int | None
    created_at: datetime
    lifted_at: datetime | None


def domain_candidates(domain: str) -> list[str]:
    """The names a block may be recorded under: the domain as given (with its port),
    the host without port, and every parent domain (a block covers subdomains)."""
    value = domain.strip().lower().rstrip(".")
    host = value
    if value.startswith("["):  # [v6]:port
        host = value.partition("]")[0] + "]"
    elif value.count(":") == 1:
        host = value.partition(":")[0]
    found = [value]
    if host != value:
        found.append(host)
    if not host.startswith("[") and not host.replace(".", "").isdigit():
        parts = host.split(".")
        found += [".".join(parts[i:]) for i in range(1, len(parts) - 1)]
    return found


async def block_domain(conn: Any, domain: str, *, reason: str = "",
                       created_by: int | None = None) -> DomainBlock:
    row = await conn.fetchrow(
        "INSERT INTO domain_blocks (domain, reason, created_by) VALUES ($1, $2, $3)"
        " ON CONFLICT (domain) DO UPDATE SET reason = EXCLUDED.reason RETURNING *",
        domain.strip().lower(), reason, created_by,
    )
    return to_row(DomainBlock, row)


async def unblock_domain(conn: Any, domain: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM domain_blocks WHERE domain = $1", domain.strip().lower())
    return status.endswith(" 1")


async def is_domain_blocked(conn: Any, domain: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM domain_blocks WHERE domain = ANY ($1::text[]))",
        domain_candidates(domain),
    ))


async def domain_blocks(conn: Any) -> list[DomainBlock]:
    rows = await conn.fetch("SELECT * FROM domain_blocks ORDER BY domain")
    return [to_row(DomainBlock, r) for r in rows]


async def ban(conn: Any, *, actor_id: int, group_id: int | None, reason: str = "",
              expires_at: datetime | None = None, remove_content: bool = False,
              ap_id: str | None = None, created_by: int | None = None) -> Ban:
    row = await conn.fetchrow(
        "INSERT INTO bans (actor_id, group_id, reason, expires_at, remove_content, ap_id,"
        " created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        actor_id, group_id, reason, expires_at, remove_content, ap_id, created_by,
    )
    return to_row(Ban, row)


async def lift_ban(conn: Any, ban_id: int) -> bool:
    status: str = await conn.execute(
        "UPDATE bans SET lifted_at = now() WHERE id = $1 AND lifted_at IS NULL", ban_id)
    return status.endswith(" 1")


async def active_ban(conn: Any, actor_id: int, group_id: int | None) -> Ban | None:
    """The ban that keeps ``actor_id`` out of ``group_id`` (a group ban, or an instance
    ban; with ``group_id`` None only an instance ban): not lifted, not expired."""
    row = await conn.fetchrow(
        "SELECT * FROM bans WHERE actor_id = $1"
        " AND (group_id IS NULL OR group_id = $2)"
        " AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
        " ORDER BY (group_id IS NULL) DESC, created_at DESC LIMIT 1",
        actor_id, group_id,
    )
    return maybe_row(Ban, row)


async def delete_actor_content(conn: Any, actor_id: int) -> int:
    """What an actor leaves behind when it is deleted (or banned with its content):
    its posts become tombstones, its likes are withdrawn (counters corrected), its
    follows in both directions end. Returns how many posts were deleted."""
    await conn.execute(
        "UPDATE posts p SET like_count = greatest(p.like_count - l.n, 0)"
        " FROM (SELECT post_id, count(*) AS n FROM likes WHERE actor_id = $1 AND kind = 'like'"
        "       GROUP BY post_id) l WHERE p.id = l.post_id", actor_id)
    await conn.execute(
        "UPDATE posts p SET dislike_count = greatest(p.dislike_count - l.n, 0)"
        " FROM (SELECT post_id, count(*) AS n FROM likes WHERE actor_id = $1"
        "       AND kind = 'dislike' GROUP BY post_id) l WHERE p.id = l.post_id", actor_id)
    await conn.execute("DELETE FROM likes WHERE actor_id = $1", actor_id)
    await conn.execute(
        "DELETE FROM follows WHERE follower_id = $1 OR target_id = $1", actor_id)
    status: str = await conn.execute(
        "UPDATE posts SET deleted_at = now(), content_html = '', source = NULL,"
        " title = CASE WHEN parent_id IS NULL THEN title END, attachments = '[]', raw = NULL"
        " WHERE author_id = $1 AND deleted_at IS NULL", actor_id)
    return int(status.rsplit(" ", 1)[-1])
