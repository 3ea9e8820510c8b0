"""Moderators' actions on threads and posts: remove and restore (posts too), lock, pin.

Each one checks the role (fedi/forum/staff.py: the group's moderators or an admin),
changes the post, writes the modlog entry and, in one of our groups, queues the group's
activity (fedi/federation/moderation_out.py) in the same transaction. Removal hides a
post (``removed_at``; the content stays for the modlog), unlike the author's delete.
"""

from __future__ import annotations

from typing import Any

from fedi.core.context import Context
from fedi.core.errors import Conflict, ValidationFailed
from fedi.federation import moderation_out as out
from fedi.forum.staff import Staff, log, post_in_group, require_moderator
from storage import actors as actor_store
from storage import notification_events
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post


async def _tell_author(conn: Any, action: str, staff: Staff, post: Post,
                       group: Actor | None, reason: str) -> None:
    """The author learns of the decision and why (a notification, if they are ours)."""
    await notification_events.enqueue_event(conn, "moderation", {
        "action": action, "actor_id": staff.actor.id, "target_actor_id": post.author_id,
        "post_id": post.id, "group_id": group.id if group is not None else None,
        "reason": reason})


async def remove_post(ctx: Context, staff: Staff, post_id: int, *, reason: str) -> Post:
    """Hide a post (a thread root: the whole thread) from the public; federated as the
    group's Delete with the reason (and Undo(Announce) for Mastodon)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if post.deleted_at is not None:
            raise Conflict("the author deleted this post already", code="deleted")
        removed = await post_store.set_removed(conn, post.id, reason=reason)
        if removed is None:
            raise Conflict("this post is removed already", code="already_removed")
        author = await actor_store.get(conn, post.author_id)
        sent = None
        if group is not None and group.local:
            sent = await out.send_removal(conn, ctx, group=group, acting=staff.actor,
                                          post=post, author=author, reason=reason)
        await log(conn, "post_remove", staff=staff, group=group, target=author, post=post,
                  reason=reason, activity=sent, details={"thread": post.is_thread})
        await _tell_author(conn, "remove", staff, post, group, reason)
    return removed


async def restore_post(ctx: Context, staff: Staff, post_id: int, *, reason: str) -> Post:
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        restored = await post_store.set_restored(conn, post.id)
        if restored is None:
            raise Conflict("this post is not removed", code="not_removed")
        author = await actor_store.get(conn, post.author_id)
        sent = None
        if group is not None and group.local:
            sent = await out.send_restore(conn, ctx, group=group, acting=staff.actor,
                                          post=post, author=author, reason=reason)
        await log(conn, "post_restore", staff=staff, group=group, target=author, post=post,
                  reason=reason, activity=sent)
        await _tell_author(conn, "restore", staff, post, group, reason)
    return restored


async def lock_thread(ctx: Context, staff: Staff, post_id: int, *, locked: bool,
                      reason: str) -> Post:
    """No new replies (Lock), or replies again (Undo(Lock))."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if not post.is_thread:
            raise ValidationFailed("only a thread can be locked: give the thread's id",
                                   field="id")
        changed = await post_store.set_locked(conn, post.id, locked)
        if changed is None:
            raise Conflict(f"this thread is {'locked' if locked else 'not locked'} already",
                           code="unchanged")
        sent = None
        if group is not None and group.local:
            sent = await out.send_lock(conn, ctx, group=group, acting=staff.actor, post=post,
                                       locked=locked, reason=reason)
        await log(conn, "thread_lock" if locked else "thread_unlock", staff=staff,
                  group=group, post=post, reason=reason, activity=sent)
        await _tell_author(conn, "lock" if locked else "unlock", staff, post, group, reason)
    return changed


async def pin_thread(ctx: Context, staff: Staff, post_id: int, *, pinned: bool,
                     reason: str) -> Post:
    """Pinned threads list first and fill the group's ``featured`` collection."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if not post.is_thread:
            raise ValidationFailed("only a thread can be pinned: give the thread's id",
                                   field="id")
        if pinned and not post.visible:
            raise Conflict("a deleted or removed thread cannot be pinned", code="not_visible")
        changed = await post_store.set_pinned(conn, post.id, pinned)
        if changed is None:
            raise Conflict(f"this thread is {'pinned' if pinned else 'not pinned'} already",
                           code="unchanged")
        sent = None
        if group is not None and group.local:
            sent = await out.send_featured(conn, ctx, group=group, acting=staff.actor,
                                           post=post, pinned=pinned)
        await log(conn, "thread_pin" if pinned else "thread_unpin", staff=staff, group=group,
                  post=post, reason=reason, activity=sent)
    return changed
