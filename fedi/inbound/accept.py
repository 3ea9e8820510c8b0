"""Accept and Reject of the Follows our users sent to remote groups (and actors).

The Follow is found by its id (the object, embedded or bare), else by the pair named in
an embedded Follow (``actor`` = our user, ``object`` = the accepting actor), as Mastodon
matches them. Only the followed actor itself may answer. The first accepted member of a
remote group queues the backfill of its recent threads (a durable job, committed with
the acceptance; fedi/forum/remote_groups.py runs it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import backfills as backfill_store
from storage import follows as follow_store
from storage.actors import Actor
from storage.follows import Follow

if TYPE_CHECKING:
    from storage.inbox import InboxActivity


async def _our_follow(conn: Any, target: Actor, activity: vocab.Activity) -> Follow:
    obj = activity.object
    follow_id = vocab.object_id(obj)
    found = await follow_store.by_ap_id(conn, follow_id) if follow_id else None
    if found is None and isinstance(obj, vocab.Follow) and obj.object_id == target.ap_id:
        follower = await actor_store.by_ap_id(conn, obj.actor)
        if follower is not None and follower.local:
            found = await follow_store.get(conn, follower.id, target.id)
    if found is None:
        raise Ignored(f"no Follow of ours matches the {activity.type} by {target.ap_id}")
    if found.target_id != target.id:
        raise Refused(f"{target.ap_id} answered a Follow of another actor")
    follower = await actor_store.get(conn, found.follower_id)
    if follower is None or not follower.local:
        raise Ignored("the Follow is not one of ours")
    return found


async def handle_accept(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    """Our Follow was accepted: the membership is active."""
    target = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        follow = await _our_follow(conn, target, activity)
        if follow.state == "accepted":
            raise Ignored("the Follow was accepted already")
        await follow_store.accept(conn, follow.id)
        if (target.type == "Group"
                and await follow_store.local_member_count(conn, target.id) == 1):
            await backfill_store.enqueue(conn, target.id)


async def handle_reject(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    """Our Follow was refused, or the group removed our member: the follow ends."""
    target = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        follow = await _our_follow(conn, target, activity)
        await follow_store.delete(conn, follow.follower_id, follow.target_id)
