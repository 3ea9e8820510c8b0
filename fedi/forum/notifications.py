"""Notifications as people use them: the list and its unread count, marking read,
watching or muting a thread, muting a group, and unread tracking per thread.

The notices themselves are made by the worker (fedi/forum/notify_queue.py); the pages
(fedi/web/notification_pages.py) and the API (fedi/routes/api_notifications.py) call
these functions.

Unread tracking (storage/thread_reads.py): a thread read up to a post counts the later
posts by others as new; a thread never opened counts those published since the account
was created (so a thread started after one signed up is new as a whole).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.core.times import iso
from fedi.forum.views import actor_view
from storage import actors as actor_store
from storage import notifications as store
from storage import posts as post_store
from storage import thread_reads as read_store
from storage.accounts import Account
from storage.actors import Actor
from storage.notifications import Notification
from storage.posts import Post

__all__ = [
    "NoticeView",
    "ThreadRead",
    "api_item",
    "list_notices",
    "mark_read",
    "mute_group",
    "read_thread",
    "unread_count",
    "unread_for_groups",
    "unread_for_threads",
    "watch_level",
    "watch_thread",
]

# Internal bookkeeping in ``data`` that the API does not show.
_PRIVATE_DATA = ("likers",)


@dataclass(frozen=True)
class NoticeView:
    """A notice with what a sentence about it needs."""

    notice: Notification
    actor: Actor | None
    group: Actor | None
    thread: Post | None
    post: Post | None


@dataclass(frozen=True)
class ThreadRead:
    thread_id: int
    last_read_post_id: int
    unread: int


async def list_notices(ctx: Context, account: Account, *, limit: int,
                       before: tuple[datetime, int] | None = None
                       ) -> tuple[list[NoticeView], int]:
    """Up to ``limit`` notices, newest first, and the unread count."""
    async with ctx.pool.acquire() as conn:
        rows = await store.page(conn, account.id, limit=limit, before=before)
        actor_ids = {r.actor_id for r in rows if r.actor_id} | {r.group_id for r in rows
                                                                 if r.group_id}
        actors = await actor_store.by_ids(conn, actor_ids)
        post_ids = {r.post_id for r in rows if r.post_id} | {r.thread_id for r in rows
                                                              if r.thread_id}
        posts = {pid: post for pid in post_ids
                 if (post := await post_store.get(conn, pid)) is not None}
        unread = await store.unread_count(conn, account.id)
    views = [NoticeView(r, actors.get(r.actor_id) if r.actor_id else None,
                        actors.get(r.group_id) if r.group_id else None,
                        posts.get(r.thread_id) if r.thread_id else None,
                        posts.get(r.post_id) if r.post_id else None) for r in rows]
    return views, unread


def api_item(view: NoticeView) -> dict[str, Any]:
    """One notice as ``GET /api/v1/notifications`` shows it."""
    notice = view.notice
    return {
        "id": notice.id,
        "type": notice.type,
        "actor": actor_view(view.actor) if view.actor is not None else None,
        "post_id": notice.post_id,
        "thread_id": notice.thread_id,
        "group": view.group.handle if view.group is not None else None,
        "created_at": iso(notice.created_at),
        "read": notice.read_at is not None,
        "count": notice.count,
        "data": {k: v for k, v in notice.data.items() if k not in _PRIVATE_DATA},
    }


async def unread_count(ctx: Context, account: Account) -> int:
    async with ctx.pool.acquire() as conn:
        return await store.unread_count(conn, account.id)


async def mark_read(ctx: Context, account: Account, ids: Sequence[int] | None) -> int:
    """Mark the account's notices read (others' ids are ignored); the unread count."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        await store.mark_read(conn, account.id, ids)
        return await store.unread_count(conn, account.id)


# --- watching and muting -------------------------------------------------------------------

LEVELS = ("watching", "muted", "none")


def check_level(value: object) -> str | None:
    """``watching``, ``muted`` or ``none`` (back to the default) -> the stored level."""
    if value not in LEVELS:
        raise ValidationFailed("Choose watching, muted or none.", field="level")
    return None if value == "none" else str(value)


async def _thread(conn: Any, post: Post) -> Post:
    thread = post if post.is_thread else await post_store.get(conn, post.thread_id or post.id)
    if thread is None or thread.deleted_at is not None or thread.removed_at is not None:
        raise NotFound("This thread does not exist.")
    return thread


async def watch_thread(ctx: Context, account: Account, post: Post, level: str | None
                       ) -> tuple[int, str]:
    """Watch or mute the post's thread (None: neither); (thread id, level)."""
    async with ctx.pool.acquire() as conn:
        thread = await _thread(conn, post)
        await store.set_watch(conn, account.id, thread.id, level)
    return thread.id, level or "none"


async def watch_level(ctx: Context, account: Account, post: Post) -> tuple[int, str]:
    """(thread id, the account's level for the post's thread)."""
    async with ctx.pool.acquire() as conn:
        thread = await _thread(conn, post)
        return thread.id, await store.watch_level(conn, account.id, thread.id) or "none"


async def mute_group(ctx: Context, account: Account, group: Actor, muted: bool) -> bool:
    if group.type != "Group":
        raise NotFound("This group does not exist here.")
    async with ctx.pool.acquire() as conn:
        await store.set_group_mute(conn, account.id, group.id, muted)
    return muted


async def group_muted(ctx: Context, account: Account, group: Actor) -> bool:
    async with ctx.pool.acquire() as conn:
        return await store.group_muted(conn, account.id, group.id)


# --- unread tracking -----------------------------------------------------------------------


async def read_thread(ctx: Context, account: Account, post: Post,
                      up_to: int | None = None) -> ThreadRead:
    """Mark the post's thread read up to post ``up_to`` (default: its newest post) and
    the thread's notices about those posts read too."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        thread = await _thread(conn, post)
        if up_to is None:
            up_to = await read_store.newest_post(conn, thread.id) or thread.id
        else:
            target = await post_store.get(conn, up_to)
            if target is None or (target.thread_id or target.id) != thread.id:
                raise ValidationFailed("This post is not in this thread.", field="post_id")
        last = await read_store.mark_read(conn, account.id, thread.id, up_to)
        await store.mark_thread_read(conn, account.id, thread.id, last)
        counts = await read_store.unread_counts(
            conn, account_id=account.id, actor_id=account.actor_id, since=account.created_at,
            thread_ids=[thread.id])
    return ThreadRead(thread.id, last, counts.get(thread.id, 0))


async def first_unread(conn: Any, account: Account, thread_id: int) -> int | None:
    return await read_store.first_unread(conn, account_id=account.id,
                                         actor_id=account.actor_id,
                                         since=account.created_at, thread_id=thread_id)


async def unread_for_threads(conn: Any, account: Account, thread_ids: Sequence[int]
                             ) -> dict[int, int]:
    """New posts per thread (absent: none)."""
    return await read_store.unread_counts(conn, account_id=account.id,
                                          actor_id=account.actor_id,
                                          since=account.created_at, thread_ids=thread_ids)


async def unread_for_groups(conn: Any, account: Account, group_ids: Sequence[int]
                            ) -> dict[int, int]:
    """Threads with new posts per group (absent: none)."""
    return await read_store.groups_with_new(conn, account_id=account.id,
                                            actor_id=account.actor_id,
                                            since=account.created_at, group_ids=group_ids)


async def mark_thread_seen(conn: Any, account: Account, thread_id: int, up_to: int) -> None:
    """The thread page showed posts up to ``up_to``: read, with their notices."""
    last = await read_store.mark_read(conn, account.id, thread_id, up_to)
    await store.mark_thread_read(conn, account.id, thread_id, last)
