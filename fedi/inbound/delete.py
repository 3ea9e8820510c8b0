"""Delete of a post by its author (a tombstone stays; the Delete is relayed to the
group's followers), or of the sending actor itself (actors.py).

A Delete of a post we do not have yet is remembered for :data:`EARLY_DELETE_MEMORY`
(Mastodon's "delete upon arrival"), so its Create, should it come late, is not stored
(posts.store_remote_post checks). Only a Delete from the object's own host is
remembered: nobody can pre-empt someone else's posts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import host_of
from fedi.inbound.actors import delete_actor
from fedi.inbound.common import relay_to_group, sender_of
from fedi.inbound.outcomes import Ignored, NotYet, Refused
from storage import inbox as inbox_store
from storage import posts as post_store
from storage.inbox import InboxActivity

EARLY_DELETE_MEMORY = timedelta(hours=6)  # as long as Mastodon remembers one


async def handle_delete(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    object_id = activity.object_id
    if object_id is None:
        raise Ignored("the Delete names no object")
    if object_id == activity.actor:
        await delete_actor(ctx, activity)
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
