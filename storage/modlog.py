"""The moderation log: one row per moderation or administration action (who, what,
why, when), read newest first with the names of the actors involved."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
class ActorLink:
    """Enough of an actor to link it: its page here, or its page on its own server."""

    local: bool
    username: str
    domain: str
    name: str | None
    url: str | None
    ap_id: str

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"


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
    # What a page needs to link them (None when there is no such actor or post).
    group_local: bool | None
    group_username: str | None
    group_name: str | None
    moderator: ActorLink | None
    target_actor: ActorLink | None
    target_post_deleted: bool | None


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
       g.local AS group_local, g.username AS group_username, g.name AS group_name,
       mo.ap_id AS moderator_ap_id, mo.username || '@' || mo.domain AS moderator_handle,
       mo.local AS moderator_local, mo.username AS moderator_username,
       mo.domain AS moderator_domain, mo.name AS moderator_name, mo.url AS moderator_url,
       t.ap_id AS target_actor_ap_id, t.username || '@' || t.domain AS target_actor_handle,
       t.local AS target_actor_local, t.username AS target_actor_username,
       t.domain AS target_actor_domain, t.name AS target_actor_name, t.url AS target_actor_url,
       m.target_post_id, p.ap_id AS target_post_ap_id,
       coalesce(p.title, root.title) AS target_post_title,
       p.deleted_at IS NOT NULL AS target_post_deleted
FROM modlog m
LEFT JOIN actors g ON g.id = m.group_id
LEFT JOIN actors mo ON mo.id = m.moderator_id
LEFT JOIN actors t ON t.id = m.target_actor_id
LEFT JOIN posts p ON p.id = m.target_post_id
LEFT JOIN posts root ON root.id = p.thread_id
"""


def page_query(*, limit: int, include_private: bool = False, group_id: int | None = None,
               action: str | None = None, before_id: int | None = None,
               after_id: int | None = None) -> tuple[str, list[Any]]:
    """The SQL and arguments of :func:`page`.

    Only the conditions asked for are written out, never ``($n IS NULL OR ...)``: a
    prepared statement's generic plan could not use an index for those. So the public
    log walks ``modlog_public`` and one group's log ``modlog_group`` newest first and stops
    after ``limit`` rows; an action filter is checked on the rows walked.
    """
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if not include_private:
        where.append("m.public")
    if group_id is not None:
        where.append(f"m.group_id = {arg(group_id)}")
    if action is not None:
        where.append(f"m.action = {arg(action)}")
    if before_id is not None:
        where.append(f"m.id < {arg(before_id)}")
    if after_id is not None:
        where.append(f"m.id > {arg(after_id)}")
    order = "ASC" if after_id is not None else "DESC"
    condition = f"WHERE {' AND '.join(where)}\n" if where else ""
    sql = f"{_VIEW}{condition}ORDER BY m.id {order} LIMIT {arg(limit)}"
    return sql, args


async def page(conn: Any, *, limit: int, include_private: bool = False,
               group_id: int | None = None, action: str | None = None,
               before_id: int | None = None, after_id: int | None = None) -> list[EntryView]:
    """Newest first below ``before_id``; with ``after_id`` oldest first above it."""
    sql, args = page_query(limit=limit, include_private=include_private, group_id=group_id,
                           action=action, before_id=before_id, after_id=after_id)
    return [_entry_view(r) for r in await conn.fetch(sql, *args)]


def _actor_link(record: Any, prefix: str) -> ActorLink | None:
    if record[f"{prefix}_ap_id"] is None:
        return None
    return ActorLink(local=record[f"{prefix}_local"], username=record[f"{prefix}_username"],
                     domain=record[f"{prefix}_domain"], name=record[f"{prefix}_name"],
                     url=record[f"{prefix}_url"], ap_id=record[f"{prefix}_ap_id"])


def _entry_view(record: Any) -> EntryView:
    view = to_row(EntryView, {**dict(record.items()), "moderator": None,
                              "target_actor": None})
    return replace(view, moderator=_actor_link(record, "moderator"),
                   target_actor=_actor_link(record, "target_actor"))


async def count(conn: Any, *, include_private: bool = False,
                group_id: int | None = None) -> int:
    where = ["true" if include_private else "m.public"]
    args: list[Any] = []
    if group_id is not None:
        args.append(group_id)
        where.append("m.group_id = $1")
    return int(await conn.fetchval(
        f"SELECT count(*) FROM modlog m WHERE {' AND '.join(where)}", *args))
