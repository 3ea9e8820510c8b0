"""Delete of a post by its author (a tombstone stays; the Delete is relayed to the
group's followers), or of the sending actor itself (actors.py)."""

from __future__ import annotations

from activitypub import vocab
from fedi.context import Context
from fedi.federation.inbound.actors import delete_actor
from fedi.federation.inbound.common import relay_to_group, sender_of
from fedi.federation.inbound.outcomes import Ignored, Refused
from storage import posts as post_store
from storage.inbox import InboxActivity


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
        raise Ignored(f"{object_id} is not a post known here")
    author = await sender_of(ctx, activity)
    if post.author_id != author.id:
        raise Refused(f"only the author may delete {object_id}")
    if post.deleted_at is not None:
        raise Ignored(f"{object_id} is deleted already")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await post_store.mark_deleted(conn, post.id)
        await relay_to_group(conn, ctx, activity=activity, post=post)
