"""Blocked domains and bans of actors (in one group, or on the whole instance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.actors import Actor
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


# --- moderation tools (issue 6) -------------------------------------------------------------

ALLOWLIST_SETTING = "federation_allowlist"  # instance setting: only allowed hosts federate
DOMAIN_BLOCKED_ERROR = "domain blocked"  # last_error of deliveries a block cancelled


@dataclass(frozen=True)
class DomainAllow:
    domain: str
    reason: str
    created_by: int | None
    created_at: datetime


async def get_ban(conn: Any, ban_id: int) -> Ban | None:
    return maybe_row(Ban, await conn.fetchrow("SELECT * FROM bans WHERE id = $1", ban_id))


async def ban_by_ap_id(conn: Any, ap_id: str) -> Ban | None:
    return maybe_row(Ban, await conn.fetchrow("SELECT * FROM bans WHERE ap_id = $1", ap_id))


async def bans_page(conn: Any, *, limit: int, group_ids: list[int] | None = None,
                    active_only: bool = True, before_id: int | None = None) -> list[Ban]:
    """Newest first; ``group_ids`` None lists every ban (instance bans included)."""
    rows = await conn.fetch(
        "SELECT * FROM bans WHERE ($1::bigint[] IS NULL OR group_id = ANY ($1::bigint[]))"
        " AND (NOT $2 OR (lifted_at IS NULL AND (expires_at IS NULL OR expires_at > now())))"
        " AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        group_ids, active_only, before_id, limit)
    return [to_row(Ban, r) for r in rows]


async def claim_expired_bans(conn: Any, *, limit: int = 100) -> list[Ban]:
    """Bans whose expiry has passed and that are not marked lifted yet, marked lifted
    now (at their expiry) and returned; locked, so two workers never lift one twice."""
    rows = await conn.fetch(
        "WITH due AS (SELECT id FROM bans WHERE lifted_at IS NULL AND expires_at <= now()"
        " ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " UPDATE bans b SET lifted_at = b.expires_at FROM due WHERE b.id = due.id"
        " RETURNING b.*", limit)
    return [to_row(Ban, r) for r in rows]


async def remove_posts_of(conn: Any, actor_id: int, group_id: int | None, *,
                          reason: str) -> list[int]:
    """Hide what an actor posted in a group (every group: ``group_id`` None), as a
    moderator's removal: the content stays for the modlog. Returns the post ids."""
    rows = await conn.fetch(
        "UPDATE posts SET removed_at = now(), removed_reason = $3 WHERE author_id = $1"
        " AND ($2::bigint IS NULL OR group_id = $2) AND removed_at IS NULL"
        " AND deleted_at IS NULL RETURNING id", actor_id, group_id, reason)
    return [r["id"] for r in rows]


async def remove_posts_in_groups_on(conn: Any, actor_id: int, domain: str, *,
                                    reason: str) -> list[int]:
    """Hide what an actor posted in the groups of another instance (``domain``, as in
    actor ids) that we hold copies of: that instance's site ban with ``removeData``.
    Returns the post ids."""
    rows = await conn.fetch(
        "UPDATE posts p SET removed_at = now(), removed_reason = $3 FROM actors g"
        " WHERE g.id = p.group_id AND NOT g.local AND g.domain = $2 AND p.author_id = $1"
        " AND p.removed_at IS NULL AND p.deleted_at IS NULL RETURNING p.id",
        actor_id, domain.strip().lower(), reason)
    return [r["id"] for r in rows]


# Domain blocks: what they stop and hide, and what an unblock gives back.

async def cancel_deliveries(conn: Any, domain: str) -> int:
    """Queued deliveries to the blocked domain (and its subdomains) are cancelled."""
    status: str = await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', last_error = $2, updated_at = now()"
        " WHERE state = 'queued' AND domain_covered(domain, $1)",
        domain.strip().lower(), DOMAIN_BLOCKED_ERROR)
    return int(status.rsplit(" ", 1)[-1])


async def requeue_cancelled(conn: Any, domain: str) -> int:
    """Deliveries a block of ``domain`` cancelled are due again (not those of hosts that
    another block still covers)."""
    status: str = await conn.execute(
        "UPDATE deliveries d SET state = 'queued', next_attempt_at = now(), last_error = NULL,"
        " updated_at = now() WHERE d.state = 'cancelled' AND d.last_error = $2"
        " AND domain_covered(d.domain, $1)"
        " AND NOT EXISTS (SELECT 1 FROM domain_blocks b WHERE domain_covered(d.domain, b.domain))",
        domain.strip().lower(), DOMAIN_BLOCKED_ERROR)
    return int(status.rsplit(" ", 1)[-1])


async def hide_domain_posts(conn: Any, domain: str) -> int:
    """Posts by actors of the blocked domain leave the public listings."""
    status: str = await conn.execute(
        "UPDATE posts p SET removed_at = now(), removed_reason = 'domain blocked',"
        " hidden_by_domain = $1 FROM actors a WHERE a.id = p.author_id AND NOT a.local"
        " AND domain_covered(a.domain, $1) AND p.removed_at IS NULL",
        domain.strip().lower())
    return int(status.rsplit(" ", 1)[-1])


async def show_domain_posts(conn: Any, domain: str) -> int:
    """Posts the block of ``domain`` hid are shown again."""
    status: str = await conn.execute(
        "UPDATE posts SET removed_at = NULL, removed_reason = NULL, hidden_by_domain = NULL"
        " WHERE hidden_by_domain = $1", domain.strip().lower())
    return int(status.rsplit(" ", 1)[-1])


async def allow_domain(conn: Any, domain: str, *, reason: str = "",
                       created_by: int | None = None) -> DomainAllow:
    row = await conn.fetchrow(
        "INSERT INTO domain_allows (domain, reason, created_by) VALUES ($1, $2, $3)"
        " ON CONFLICT (domain) DO UPDATE SET reason = EXCLUDED.reason RETURNING *",
        domain.strip().lower(), reason, created_by)
    return to_row(DomainAllow, row)


async def disallow_domain(conn: Any, domain: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM domain_allows WHERE domain = $1", domain.strip().lower())
    return status.endswith(" 1")


async def domain_allows(conn: Any) -> list[DomainAllow]:
    rows = await conn.fetch("SELECT * FROM domain_allows ORDER BY domain")
    return [to_row(DomainAllow, r) for r in rows]


async def refused_domains(conn: Any, domains: set[str] | list[str]) -> set[str]:
    """Which of ``domains`` we do not federate with: blocked ones, and in allowlist mode
    every one no allow entry covers."""
    if not domains:
        return set()
    rows = await conn.fetch(
        "SELECT d FROM unnest($1::text[]) AS d"
        " WHERE EXISTS (SELECT 1 FROM domain_blocks b WHERE domain_covered(d, b.domain))"
        " OR (coalesce((SELECT value = 'true'::jsonb FROM instance_settings WHERE key = $2),"
        "              false)"
        "     AND NOT EXISTS (SELECT 1 FROM domain_allows a WHERE domain_covered(d, a.domain)))",
        list(domains), ALLOWLIST_SETTING)
    return {r["d"] for r in rows}


# Instances: what admins see of each known host.

@dataclass(frozen=True)
class InstanceHealth:
    domain: str
    software: str | None
    software_version: str | None
    failing_since: datetime | None
    last_success_at: datetime | None
    unavailable: bool
    queued: int
    failed: int
    delivered: int
    cancelled: int
    actors: int
    blocked: bool


async def instances_overview(conn: Any, *, limit: int,
                             after_domain: str | None = None) -> list[InstanceHealth]:
    """Every host we know (from actors, deliveries or NodeInfo), by name."""
    rows = await conn.fetch(
        """
        WITH hosts AS (
            SELECT domain FROM instances
            UNION SELECT DISTINCT domain FROM actors WHERE NOT local
            UNION SELECT DISTINCT domain FROM deliveries
        )
        SELECT h.domain, i.software, i.software_version, i.failing_since, i.last_success_at,
               coalesce(i.unavailable, false) AS unavailable,
               (SELECT count(*) FROM deliveries d WHERE d.domain = h.domain
                  AND d.state = 'queued') AS queued,
               (SELECT count(*) FROM deliveries d WHERE d.domain = h.domain
                  AND d.state = 'failed') AS failed,
               (SELECT count(*) FROM deliveries d WHERE d.domain = h.domain
                  AND d.state = 'delivered') AS delivered,
               (SELECT count(*) FROM deliveries d WHERE d.domain = h.domain
                  AND d.state = 'cancelled') AS cancelled,
               (SELECT count(*) FROM actors a WHERE a.domain = h.domain AND NOT a.local)
                  AS actors,
               EXISTS (SELECT 1 FROM domain_blocks b WHERE domain_covered(h.domain, b.domain))
                  AS blocked
        FROM hosts h LEFT JOIN instances i ON i.domain = h.domain
        WHERE ($1::text IS NULL OR h.domain > $1)
        ORDER BY h.domain LIMIT $2
        """, after_domain, limit)
    return [to_row(InstanceHealth, r) for r in rows]


async def retry_failed_deliveries(conn: Any, domain: str) -> int:
    """An admin's retry: the host's failed deliveries are queued again, due now, with a
    fresh count of attempts."""
    status: str = await conn.execute(
        "UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = now(),"
        " updated_at = now() WHERE domain = $1 AND state = 'failed'", domain)
    return int(status.rsplit(" ", 1)[-1])


async def group_boosts(conn: Any, group_id: int, object_ap_id: str, *,
                       undone_too: bool = False) -> list[dict[str, Any]]:
    """The Announce(<object id>) activities a group sent for one post (Mastodon's boosts)
    that it has not undone since (``undone_too``: all of them)."""
    rows = await conn.fetch(
        "SELECT a.payload FROM activities a WHERE a.actor_id = $1 AND a.type = 'Announce'"
        " AND a.object_ap_id = $2 AND jsonb_typeof(a.payload -> 'object') = 'string'"
        " AND ($3 OR NOT EXISTS (SELECT 1 FROM activities u WHERE u.actor_id = $1"
        "      AND u.type = 'Undo' AND u.object_ap_id = a.ap_id))"
        " ORDER BY a.id", group_id, object_ap_id, undone_too)
    return [r["payload"] for r in rows]


async def last_sent(conn: Any, type_: str, object_ap_id: str) -> dict[str, Any] | None:
    """The payload of the latest activity of ``type_`` we sent about ``object_ap_id``."""
    payload: dict[str, Any] | None = await conn.fetchval(
        "SELECT payload FROM activities WHERE type = $1 AND object_ap_id = $2"
        " ORDER BY id DESC LIMIT 1", type_, object_ap_id)
    return payload


async def moderated_group_ids(conn: Any, actor_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT group_id FROM group_moderators WHERE actor_id = $1 ORDER BY group_id",
        actor_id)
    return [r["group_id"] for r in rows]


async def update_group_profile(conn: Any, actor_id: int, *, name: str | None = None,
                               summary: str | None = None,
                               posting_restricted_to_mods: bool | None = None) -> None:
    """A moderator's edit of a local group's actor row (None leaves a field as it is)."""
    await conn.execute(
        "UPDATE actors SET name = coalesce($2, name),"
        " summary = CASE WHEN $3::text IS NULL THEN summary ELSE nullif($3, '') END,"
        " posting_restricted_to_mods = coalesce($4, posting_restricted_to_mods),"
        " updated_at = now() WHERE id = $1 AND local",
        actor_id, name, summary, posting_restricted_to_mods)


async def group_by_collection(conn: Any, url: str) -> tuple[Actor, str] | None:
    """(the group actor row, "featured" or "moderators") whose collection ``url`` is."""
    row = await conn.fetchrow(
        "SELECT a.*, CASE WHEN a.featured_url = $1 THEN 'featured' ELSE 'moderators' END"
        " AS which FROM actors a WHERE a.type = 'Group' AND a.deleted_at IS NULL"
        " AND (a.featured_url = $1 OR a.moderators_url = $1) LIMIT 1", url)
    return None if row is None else (to_row(Actor, row), str(row["which"]))
