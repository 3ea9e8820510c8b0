"""Delete, in its three meanings, and the restoring of a removed post (Undo(Delete),
from undo.py).

- Of the sending actor itself: its posts become tombstones, its likes and follows go.
- Of a post in a remote group we hold a copy of, by someone other than its author: a
  moderator's removal (Lemmy; ``summary`` = reason), checked against the group's
  moderators (authority.py).
- Of a post by its author: a tombstone stays, and the Delete is relayed to the group's
  followers. A Delete of a post we do not have yet is remembered for
  :data:`EARLY_DELETE_MEMORY` (Mastodon's "delete upon arrival"), so its Create, should it
  come late, is not stored (posts.store_remote_post checks). Only a Delete from the
  object's own host is remembered: nobody can pre-empt someone else's posts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import host_of, resolve_actor
from fedi.inbound import events
from fedi.inbound.authority import check_authority, log_remote, post_and_group
from fedi.inbound.common import relay_to_group, sender_of
from fedi.inbound.outcomes import Ignored, NotYet, Refused
from storage import actors as actor_store
from storage import inbox as inbox_store
from storage import moderation as moderation_store
from storage import posts as post_store
from storage.actors import Actor
from storage.inbox import InboxActivity
from storage.posts import Post

EARLY_DELETE_MEMORY = timedelta(hours=6)  # as long as Mastodon remembers one


async def handle_delete(ctx: Context, activity: vocab.Activity, row: InboxActivity | None
                        ) -> None:
    """A Delete by someone other than the post's author, of a post in a remote group, is
    a moderator's removal; everything else is the author's (or actor's) delete. A
    Delete a group relayed (``row`` None, from announce.py, which takes authors' deletes
    itself) must be a removal."""
    object_id = activity.object_id
    if row is not None and await events.delete_event(ctx, activity):
        return  # a remote event deleted by its host (inbound/events.py)
    if object_id is not None and object_id != activity.actor:
        async with ctx.pool.acquire() as conn:
            post = await post_store.by_ap_id(conn, object_id)
            author = await actor_store.get(conn, post.author_id) if post else None
            group = await actor_store.get(conn, post.group_id) if post and post.group_id \
                else None
        if (post is not None and author is not None and author.ap_id != activity.actor
                and group is not None and not group.local):
            await _set_removed(ctx, activity, post, group, removed=True)
            return
    if row is None:
        raise Ignored("not a moderator's removal")
    await _author_delete(ctx, activity)


async def restore(ctx: Context, activity: vocab.Activity, inner: vocab.Activity) -> None:
    """Undo(Delete) of a moderator's removal: the post is visible again. An author's
    undelete is not supported."""
    async with ctx.pool.acquire() as conn:
        post, group = await post_and_group(conn, inner.object_id)
        author = await actor_store.get(conn, post.author_id)
    if author is not None and author.ap_id == inner.actor:
        raise Ignored("an author's undelete is not supported")
    await _set_removed(ctx, activity, post, group, removed=False)


async def _set_removed(ctx: Context, activity: vocab.Activity, post: Post, group: Actor, *,
                       removed: bool) -> None:
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        changed = (await post_store.set_removed(conn, post.id, reason=activity.summary or "")
                   if removed else await post_store.set_restored(conn, post.id))
        if changed is None:
            raise Ignored(f"{post.ap_id} is {'removed' if removed else 'visible'} already")
        author = await actor_store.get(conn, post.author_id)
        await log_remote(conn, activity, "post_remove" if removed else "post_restore",
                         group=group, moderator=moderator, post=post, target=author)


async def _author_delete(ctx: Context, activity: vocab.Activity) -> None:
    object_id = activity.object_id
    if object_id is None:
        raise Ignored("the Delete names no object")
    if object_id == activity.actor:
        await _delete_actor(ctx, activity)
        return
    async with ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, object_id)
    if post is None:
        await _remember(ctx, activity, object_id)
        return
    author = await sender_of(ctx, activity)
    if post.author_id != author.id:
        raise Refused(f"only the author may delete {object_id}")
    if post.deleted_at is not None:
        raise Ignored(f"{object_id} is deleted already")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await post_store.mark_deleted(conn, post.id)
        await relay_to_group(conn, ctx, activity=activity, post=post)


async def _delete_actor(ctx: Context, activity: vocab.Activity) -> None:
    """Delete(actor) of itself: its posts become tombstones, its likes and follows go."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        actor = await actor_store.by_ap_id(conn, activity.actor)
        if actor is None:
            raise Ignored(f"{activity.actor} was never known here")
        if actor.local:
            raise Refused(f"{activity.actor} is one of our own actors")
        await moderation_store.delete_actor_content(conn, actor.id)
        await actor_store.mark_deleted(conn, actor.id)


async def _remember(ctx: Context, activity: vocab.Activity, object_id: str) -> None:
    """The Delete came before the Create of its object: remember it."""
    if host_of(object_id) == ctx.settings.host.lower():
        raise Ignored(f"{object_id} is not a post of this instance")
    if host_of(object_id) != host_of(activity.actor):
        raise Ignored(f"{object_id} is not a post known here")
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        # Taken by the Create too: one of the two sees the other's row.
        await inbox_store.lock_object(conn, object_id)
        if await post_store.by_ap_id(conn, object_id) is not None:
            raise NotYet(f"{object_id} was stored meanwhile")  # deleted on the retry
        await inbox_store.remember_delete(conn, object_id, actor_ap_id=activity.actor,
                                          until=now + EARLY_DELETE_MEMORY, now=now)
