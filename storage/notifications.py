"""SQL of notifications (migration 0011): the notices themselves, who watches or mutes a
thread, who mutes a group, and the recipients the notification worker looks up
(fedi/forum/notify_queue.py).

One notice per (account, ``dedupe_key``): a replayed event inserts nothing, and the likes
of one post update one notice (its ``count`` and latest ``actor_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import to_row

TYPES = ("reply", "mention", "like", "accepted_answer", "moderation", "report", "signup",
         "new_thread", "watched_post")
WATCH_LEVELS = ("watching", "muted")
# Reading a thread marks these notices of it read; reports and moderation decisions
# stay until they are looked at on the notifications page.
READ_WITH_THREAD = ("reply", "mention", "like", "accepted_answer", "new_thread",
                    "watched_post")


@dataclass(frozen=True)
class Notification:
    id: int
    account_id: int
    type: str
    actor_id: int | None
    post_id: int | None
    thread_id: int | None
    group_id: int | None
    count: int
    data: dict[str, Any]
    dedupe_key: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class Recipient:
    """A local account that may be notified, with its Person actor."""

    account_id: int
    actor_id: int


# --- notices ---------------------------------------------------------------------------


async def insert(conn: Any, *, account_id: int, type_: str, dedupe_key: str, at: datetime,
                 actor_id: int | None = None, post_id: int | None = None,
                 thread_id: int | None = None, group_id: int | None = None,
                 data: dict[str, Any] | None = None) -> int | None:
    """A new notice dated ``at`` (when it happened, not when the worker came to it);
    None when the account has one with this key already."""
    value: int | None = await conn.fetchval(
        "INSERT INTO notifications (account_id, type, dedupe_key, actor_id, post_id,"
        " thread_id, group_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING id",
        account_id, type_, dedupe_key, actor_id, post_id, thread_id, group_id, data or {}, at)
    return value


async def add_like(conn: Any, *, account_id: int, post_id: int, thread_id: int | None,
                   group_id: int | None, actor_id: int, at: datetime) -> int | None:
    """The one ``like`` notice of a post: a new liker raises ``count``, becomes its
    ``actor_id`` (when it is the newest) and makes it unread again; a liker counted
    already changes nothing (replays, unlike and like again). The id when it changed,
    else None."""
    value: int | None = await conn.fetchval(
        """
        INSERT INTO notifications AS n (account_id, type, dedupe_key, actor_id, post_id,
                                        thread_id, group_id, data, created_at)
        VALUES ($1, 'like', 'like:' || $2::bigint, $5, $2, $3, $4,
                jsonb_build_object('likers', jsonb_build_array($5::bigint)), $6)
        ON CONFLICT (account_id, dedupe_key) DO UPDATE
           -- The newest liker names the notice, whatever order the worker took the
           -- like events in (it runs them concurrently).
           SET actor_id = CASE WHEN $6 >= n.created_at THEN excluded.actor_id
                               ELSE n.actor_id END,
               read_at = NULL,
               created_at = greatest(n.created_at, $6),
               count = n.count + 1,
               data = jsonb_set(n.data, '{likers}',
                                coalesce(n.data->'likers', '[]'::jsonb)
                                || jsonb_build_array($5::bigint))
         WHERE NOT coalesce(n.data->'likers', '[]'::jsonb) @> jsonb_build_array($5::bigint)
        RETURNING n.id
        """,
        account_id, post_id, thread_id, group_id, actor_id, at)
    return value


async def page(conn: Any, account_id: int, *, limit: int,
               before: tuple[datetime, int] | None = None) -> list[Notification]:
    """Newest first (a like notice moves up with each new like); ``before`` is the
    (created_at, id) of the last one seen."""
    rows = await conn.fetch(
        "SELECT * FROM notifications WHERE account_id = $1"
        " AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))"
        " ORDER BY created_at DESC, id DESC LIMIT $4",
        account_id, before[0] if before else None, before[1] if before else 0, limit)
    return [to_row(Notification, r) for r in rows]


async def by_ids(conn: Any, ids: Sequence[int]) -> list[Notification]:
    rows = await conn.fetch("SELECT * FROM notifications WHERE id = ANY ($1::bigint[])"
                            " ORDER BY id", list(ids))
    return [to_row(Notification, r) for r in rows]


async def unread_count(conn: Any, account_id: int) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL",
        account_id)
    return int(value)


async def mark_read(conn: Any, account_id: int, ids: Sequence[int] | None) -> int:
    """Mark the account's notices ``ids`` (None: all) read; how many changed."""
    status: str = await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE account_id = $1"
        " AND read_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY ($2::bigint[]))",
        account_id, list(ids) if ids is not None else None)
    return int(status.rsplit(" ", 1)[-1])


async def mark_thread_read(conn: Any, account_id: int, thread_id: int, up_to: int) -> int:
    """Reading a thread up to post ``up_to`` reads its notices about those posts."""
    status: str = await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE account_id = $1 AND thread_id = $2"
        " AND read_at IS NULL AND type = ANY ($4::text[])"
        " AND (post_id IS NULL OR post_id <= $3)",
        account_id, thread_id, up_to, list(READ_WITH_THREAD))
    return int(status.rsplit(" ", 1)[-1])


# --- watching and muting ----------------------------------------------------------------


async def set_watch(conn: Any, account_id: int, thread_id: int, level: str | None) -> None:
    """Watch or mute a thread; None: back to the default (neither)."""
    if level is None:
        await conn.execute("DELETE FROM thread_watches WHERE account_id = $1"
                           " AND thread_id = $2", account_id, thread_id)
        return
    await conn.execute(
        "INSERT INTO thread_watches (account_id, thread_id, level) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id, thread_id) DO UPDATE SET level = excluded.level,"
        " created_at = now()", account_id, thread_id, level)


async def watch_level(conn: Any, account_id: int, thread_id: int) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT level FROM thread_watches WHERE account_id = $1 AND thread_id = $2",
        account_id, thread_id)
    return value


async def auto_watch(conn: Any, actor_id: int, thread_id: int) -> None:
    """The asker watches their own thread (a local actor's account; nothing otherwise)."""
    await conn.execute(
        "INSERT INTO thread_watches (account_id, thread_id, level)"
        " SELECT id, $2, 'watching' FROM accounts WHERE actor_id = $1"
        " ON CONFLICT (account_id, thread_id) DO NOTHING", actor_id, thread_id)


async def set_group_mute(conn: Any, account_id: int, group_id: int, muted: bool) -> None:
    if muted:
        await conn.execute("INSERT INTO group_mutes (account_id, group_id) VALUES ($1, $2)"
                           " ON CONFLICT DO NOTHING", account_id, group_id)
    else:
        await conn.execute("DELETE FROM group_mutes WHERE account_id = $1 AND group_id = $2",
                           account_id, group_id)


async def group_muted(conn: Any, account_id: int, group_id: int) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM group_mutes WHERE account_id = $1 AND group_id = $2)",
        account_id, group_id))


# --- recipients (the worker) --------------------------------------------------------------


def _recipients(rows: Sequence[Any]) -> list[Recipient]:
    return [Recipient(r["account_id"], r["actor_id"]) for r in rows]


async def account_of_actor(conn: Any, actor_id: int | None) -> Recipient | None:
    """The local account behind an actor (None for remote actors and groups)."""
    if actor_id is None:
        return None
    row = await conn.fetchrow("SELECT id AS account_id, actor_id FROM accounts"
                              " WHERE actor_id = $1", actor_id)
    return Recipient(row["account_id"], row["actor_id"]) if row is not None else None


async def thread_mutes(conn: Any, thread_id: int) -> set[int]:
    """The accounts that muted the thread."""
    rows = await conn.fetch("SELECT account_id FROM thread_watches WHERE thread_id = $1"
                            " AND level = 'muted'", thread_id)
    return {r["account_id"] for r in rows}


async def thread_watchers(conn: Any, thread_id: int) -> list[Recipient]:
    rows = await conn.fetch(
        "SELECT w.account_id, a.actor_id FROM thread_watches w"
        " JOIN accounts a ON a.id = w.account_id"
        " WHERE w.thread_id = $1 AND w.level = 'watching' ORDER BY w.account_id", thread_id)
    return _recipients(rows)


async def mentioned(conn: Any, post_id: int) -> list[Recipient]:
    """The local accounts a post mentions (``post_mentions``)."""
    rows = await conn.fetch(
        "SELECT a.id AS account_id, a.actor_id FROM post_mentions m"
        " JOIN accounts a ON a.actor_id = m.actor_id WHERE m.post_id = $1"
        " ORDER BY a.id", post_id)
    return _recipients(rows)


async def group_followers(conn: Any, group_id: int, *, since: datetime) -> list[Recipient]:
    """Local accounts following the group since before ``since`` (a thread older than
    one's follow, e.g. fetched by the backfill, is no news) that did not mute it."""
    rows = await conn.fetch(
        "SELECT a.id AS account_id, a.actor_id FROM follows f"
        " JOIN accounts a ON a.actor_id = f.follower_id"
        " WHERE f.target_id = $1 AND f.state = 'accepted' AND f.created_at <= $2"
        " AND NOT EXISTS (SELECT 1 FROM group_mutes g WHERE g.account_id = a.id"
        "                 AND g.group_id = $1) ORDER BY a.id",
        group_id, since)
    return _recipients(rows)


async def group_moderators(conn: Any, group_id: int) -> list[Recipient]:
    rows = await conn.fetch(
        "SELECT a.id AS account_id, a.actor_id FROM group_moderators m"
        " JOIN accounts a ON a.actor_id = m.actor_id WHERE m.group_id = $1 ORDER BY a.id",
        group_id)
    return _recipients(rows)


async def admins(conn: Any) -> list[Recipient]:
    rows = await conn.fetch("SELECT id AS account_id, actor_id FROM accounts"
                            " WHERE role = 'admin' AND status = 'active' ORDER BY id")
    return _recipients(rows)
