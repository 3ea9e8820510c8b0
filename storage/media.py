"""Uploaded files (migration 0028): the rows, which posts, events (0034) and actors use
them, the quota's sum, and the unused ones (the files are in fedi/core/media_store.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row

__all__ = [
    "Media",
    "attach_to_event",
    "attach_to_post",
    "delete_if_unused",
    "events_using",
    "get",
    "get_many_for_update",
    "insert",
    "lock_name",
    "lock_owner",
    "name_in_use",
    "other_events_using",
    "other_posts_using",
    "owned_by",
    "post_media_ids",
    "posts_using",
    "release_event",
    "release_post",
    "serving",
    "set_actor_media",
    "set_alt",
    "set_event_attachment_name",
    "set_post_attachment_name",
    "unused_candidates",
    "used_bytes",
]


@dataclass(frozen=True)
class Media:
    id: int
    owner_id: int
    content_hash: str
    kind: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    blurhash: str | None
    alt: str | None
    filename: str | None
    stored_name: str
    preview_name: str | None
    created_at: datetime
    attached_at: datetime | None


INSERTABLE = ("owner_id", "content_hash", "kind", "media_type", "size", "width", "height",
              "blurhash", "alt", "filename", "stored_name", "preview_name")

# No live post (not deleted) and no live actor (not deleted) uses the row.
_UNUSED = (
    "NOT EXISTS (SELECT 1 FROM post_media pm JOIN posts p ON p.id = pm.post_id"
    "            WHERE pm.media_id = m.id AND p.deleted_at IS NULL)"
    " AND NOT EXISTS (SELECT 1 FROM actor_media am JOIN actors a ON a.id = am.actor_id"
    "                 WHERE am.media_id = m.id AND a.deleted_at IS NULL)"
    # and no live event (migration 0034).
    " AND NOT EXISTS (SELECT 1 FROM event_media em JOIN events e ON e.id = em.event_id"
    "                 WHERE em.media_id = m.id AND e.deleted_at IS NULL)"
)


async def lock_name(conn: Any, name: str) -> None:
    """Serialise writing and deleting one stored file (until the transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('media:' || $1, 19))",
                       name)


async def lock_owner(conn: Any, owner_id: int) -> None:
    """Serialise one owner's uploads, so two at once cannot both pass the quota."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('media-owner:' || $1::bigint, 19))",
        owner_id)


async def used_bytes(conn: Any, owner_id: int) -> int:
    return int(await conn.fetchval(
        "SELECT coalesce(sum(size), 0) FROM media WHERE owner_id = $1", owner_id))


async def insert(conn: Any, values: dict[str, Any]) -> Media:
    unknown = set(values) - set(INSERTABLE)
    if unknown:
        raise ValueError(f"not media columns: {sorted(unknown)}")
    columns = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO media ({', '.join(columns)}) VALUES ({placeholders}) RETURNING *",
        *values.values())
    return to_row(Media, row)


async def get(conn: Any, media_id: int) -> Media | None:
    return maybe_row(Media, await conn.fetchrow("SELECT * FROM media WHERE id = $1", media_id))


async def get_many_for_update(conn: Any, media_ids: list[int]) -> list[Media]:
    """The rows (locked until the transaction ends: the cleanup cannot delete them
    meanwhile), in the order of ``media_ids``; missing ones are left out."""
    rows = await conn.fetch("SELECT * FROM media WHERE id = ANY($1::bigint[]) ORDER BY id"
                            " FOR UPDATE", media_ids)
    found = {r["id"]: to_row(Media, r) for r in rows}
    return [found[i] for i in media_ids if i in found]


async def serving(conn: Any, name: str) -> Media | None:
    """A row naming the stored file ``name`` (as main file or preview)."""
    row = await conn.fetchrow(
        "(SELECT * FROM media WHERE stored_name = $1 LIMIT 1)"
        " UNION ALL (SELECT * FROM media WHERE preview_name = $1 LIMIT 1) LIMIT 1", name)
    return maybe_row(Media, row)


async def names_in_use(conn: Any, names: list[str]) -> set[str]:
    """Which of ``names`` an upload names (as its file or its preview)."""
    rows = await conn.fetch(
        "SELECT stored_name AS name FROM media WHERE stored_name = ANY($1::text[])"
        " UNION SELECT preview_name FROM media WHERE preview_name = ANY($1::text[])", names)
    return {r["name"] for r in rows}


async def name_in_use(conn: Any, name: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM media WHERE stored_name = $1 OR preview_name = $1)",
        name))


async def set_alt(conn: Any, media_id: int, alt: str | None) -> Media:
    row = await conn.fetchrow("UPDATE media SET alt = $2 WHERE id = $1 RETURNING *",
                              media_id, alt)
    return to_row(Media, row)


async def post_media_ids(conn: Any, post_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT media_id FROM post_media WHERE post_id = $1 ORDER BY position", post_id)
    return [int(r["media_id"]) for r in rows]


async def other_posts_using(conn: Any, media_ids: list[int], post_id: int | None) -> set[int]:
    """Which of ``media_ids`` a live post other than ``post_id`` uses."""
    rows = await conn.fetch(
        "SELECT DISTINCT pm.media_id FROM post_media pm JOIN posts p ON p.id = pm.post_id"
        " WHERE pm.media_id = ANY($1::bigint[]) AND p.deleted_at IS NULL"
        " AND pm.post_id IS DISTINCT FROM $2", media_ids, post_id)
    return {int(r["media_id"]) for r in rows}


async def attach_to_post(conn: Any, post_id: int, media_ids: list[int]) -> list[int]:
    """The post uses exactly ``media_ids`` (in this order); returns those it used before
    and no longer does."""
    before = await post_media_ids(conn, post_id)
    await conn.execute("DELETE FROM post_media WHERE post_id = $1", post_id)
    if media_ids:
        await conn.execute(
            "INSERT INTO post_media (post_id, media_id, position)"
            " SELECT $1, m, o FROM unnest($2::bigint[]) WITH ORDINALITY AS t(m, o)",
            post_id, media_ids)
        await conn.execute(
            "UPDATE media SET attached_at = coalesce(attached_at, now())"
            " WHERE id = ANY($1::bigint[])", media_ids)
    return [m for m in before if m not in media_ids]


async def release_post(conn: Any, post_id: int) -> list[int]:
    """The post no longer uses its files (deleted); returns their ids."""
    rows = await conn.fetch("DELETE FROM post_media WHERE post_id = $1 RETURNING media_id",
                            post_id)
    return [int(r["media_id"]) for r in rows]


async def posts_using(conn: Any, media_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT pm.post_id FROM post_media pm JOIN posts p ON p.id = pm.post_id"
        " WHERE pm.media_id = $1 AND p.deleted_at IS NULL ORDER BY pm.post_id", media_id)
    return [int(r["post_id"]) for r in rows]


async def set_post_attachment_name(conn: Any, post_id: int, media_id: int,
                                   name: str | None) -> None:
    """The alt text (``name``) of the upload's entry in ``posts.attachments``."""
    await conn.execute(
        "UPDATE posts SET attachments = (SELECT coalesce(jsonb_agg(CASE"
        "   WHEN e -> 'media_id' = to_jsonb($2::bigint)"
        "   THEN jsonb_set(e, '{name}', to_jsonb($3::text))"
        "   ELSE e END ORDER BY o), '[]'::jsonb)"
        "  FROM jsonb_array_elements(attachments) WITH ORDINALITY AS t(e, o)),"
        " updated = now()"
        " WHERE id = $1", post_id, media_id, name)


# --- events (migration 0034) -------------------------------------------------------------

async def other_events_using(conn: Any, media_ids: list[int], event_id: int | None
                             ) -> set[int]:
    """Which of ``media_ids`` a live event other than ``event_id`` uses."""
    rows = await conn.fetch(
        "SELECT DISTINCT em.media_id FROM event_media em JOIN events e ON e.id = em.event_id"
        " WHERE em.media_id = ANY($1::bigint[]) AND e.deleted_at IS NULL"
        " AND em.event_id IS DISTINCT FROM $2", media_ids, event_id)
    return {int(r["media_id"]) for r in rows}


async def attach_to_event(conn: Any, event_id: int, media_ids: list[int]) -> list[int]:
    """The event uses exactly ``media_ids`` (in this order); returns those it used before
    and no longer does."""
    rows = await conn.fetch(
        "DELETE FROM event_media WHERE event_id = $1 RETURNING media_id", event_id)
    before = [int(r["media_id"]) for r in rows]
    if media_ids:
        await conn.execute(
            "INSERT INTO event_media (event_id, media_id, position)"
            " SELECT $1, m, o FROM unnest($2::bigint[]) WITH ORDINALITY AS t(m, o)",
            event_id, media_ids)
        await conn.execute(
            "UPDATE media SET attached_at = coalesce(attached_at, now())"
            " WHERE id = ANY($1::bigint[])", media_ids)
    return [m for m in before if m not in media_ids]


async def release_event(conn: Any, event_id: int) -> list[int]:
    """The event no longer uses its files (deleted); returns their ids."""
    rows = await conn.fetch(
        "DELETE FROM event_media WHERE event_id = $1 RETURNING media_id", event_id)
    return [int(r["media_id"]) for r in rows]


async def events_using(conn: Any, media_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT em.event_id FROM event_media em JOIN events e ON e.id = em.event_id"
        " WHERE em.media_id = $1 AND e.deleted_at IS NULL ORDER BY em.event_id", media_id)
    return [int(r["event_id"]) for r in rows]


async def set_event_attachment_name(conn: Any, event_id: int, media_id: int,
                                    name: str | None) -> None:
    """The alt text (``name``) of the upload's entry in ``events.attachments``."""
    await conn.execute(
        "UPDATE events SET attachments = (SELECT coalesce(jsonb_agg(CASE"
        "   WHEN e -> 'media_id' = to_jsonb($2::bigint)"
        "   THEN jsonb_set(e, '{name}', to_jsonb($3::text))"
        "   ELSE e END ORDER BY o), '[]'::jsonb)"
        "  FROM jsonb_array_elements(attachments) WITH ORDINALITY AS t(e, o)),"
        " updated_at = now()"
        " WHERE id = $1", event_id, media_id, name)


async def set_actor_media(conn: Any, actor_id: int, role: str, media_id: int | None,
                          url: str | None) -> int | None:
    """The actor's avatar/icon (``role`` 'icon') or banner ('image') is now ``media_id``
    at ``url`` (None: none); returns the upload it used before."""
    column = {"icon": "icon_url", "image": "image_url"}[role]
    previous = await conn.fetchval(
        "DELETE FROM actor_media WHERE actor_id = $1 AND role = $2 RETURNING media_id",
        actor_id, role)
    if media_id is not None:
        await conn.execute(
            "INSERT INTO actor_media (actor_id, role, media_id) VALUES ($1, $2, $3)",
            actor_id, role, media_id)
        await conn.execute("UPDATE media SET attached_at = coalesce(attached_at, now())"
                           " WHERE id = $1", media_id)
    await conn.execute(f"UPDATE actors SET {column} = $2 WHERE id = $1", actor_id, url)
    return int(previous) if previous is not None and previous != media_id else None


async def unused_candidates(conn: Any, *, cutoff: datetime, limit: int) -> list[int]:
    """Uploads no live post or actor uses: attached once (and released since) or never
    attached and older than ``cutoff``. Locked (SKIP LOCKED: several processes share the
    work); call inside a transaction."""
    rows = await conn.fetch(
        "SELECT m.id FROM media m WHERE (m.attached_at IS NOT NULL OR m.created_at < $1)"
        f" AND {_UNUSED} ORDER BY m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED", cutoff, limit)
    return [int(r["id"]) for r in rows]


async def delete_if_unused(conn: Any, media_id: int, *, force_owner: int | None = None
                           ) -> Media | None:
    """Delete the row when nothing live uses it (returns it), else None. ``force_owner``:
    only when it is that owner's."""
    # Lock first: an attach in progress holds the row; this statement then starts after it
    # committed and sees its post_media row (a new snapshot per statement).
    await conn.execute("SELECT 1 FROM media WHERE id = $1 FOR UPDATE", media_id)
    row = await conn.fetchrow(
        f"DELETE FROM media m WHERE m.id = $1 AND ($2::bigint IS NULL OR m.owner_id = $2)"
        f" AND {_UNUSED} RETURNING *", media_id, force_owner)
    return maybe_row(Media, row)


async def owned_by(conn: Any, owner_id: int) -> list[Media]:
    rows = await conn.fetch("SELECT * FROM media WHERE owner_id = $1 ORDER BY id", owner_id)
    return [to_row(Media, r) for r in rows]
