"""Our users as members of groups: following and unfollowing (remote groups get a Follow
or an Undo(Follow) from the user; local ones just a row).

When a remote group accepts its first local member, the backfill of its recent threads
is queued as a row (storage/backfills.py, by fedi/inbound/accept.py) and run by the
workers (fedi/inbound/backfill.py): this module never reads what other servers send.
"""

from __future__ import annotations

from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation.documents import activity
from fedi.forum import policy
from fedi.forum.policy import Action
from storage import follows as follow_store
from storage.actors import Actor
from storage.follows import Follow


async def follow_group(ctx: Context, *, user: Actor, group: Actor) -> Follow:
    """``user`` joins ``group``. A local group needs no approval: the follow is accepted
    at once. A remote group gets a Follow signed by the user; the row stays pending until
    the group's Accept arrives. Following again while pending sends a fresh Follow (the
    first may have been lost); an accepted follow is left as it is."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        await policy.require(conn, Action.FOLLOW, user, group=group)
        existing = await follow_store.get(conn, user.id, group.id)
        if group.local:
            return await follow_store.upsert(conn, follower_id=user.id, target_id=group.id,
                                             ap_id=None, state="accepted")
        if existing is not None and existing.state == "accepted":
            return existing
        follow_id = new_activity_id(ctx)
        follow = activity(follow_id, "Follow", user, group.ap_id, to=[group.ap_id], cc=[])
        row = await follow_store.upsert(conn, follower_id=user.id, target_id=group.id,
                                        ap_id=follow_id, state="pending")
        # The group's own inbox, as Mastodon does: some servers take Follows only there.
        inbox = group.inbox or group.shared_inbox
        await enqueue_activity(conn, ctx, actor=user, activity=follow,
                               inboxes=[inbox] if inbox else [])
    return row


async def unfollow_group(ctx: Context, *, user: Actor, group: Actor) -> bool:
    """``user`` leaves ``group``; False when they were no member. A remote group gets an
    Undo with the original Follow embedded (its id is how the group finds it)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        existing = await follow_store.get(conn, user.id, group.id)
        if existing is None:
            return False
        await follow_store.delete(conn, user.id, group.id)
        if not group.local:
            follow = {"id": existing.ap_id or f"{user.ap_id}#follows/{existing.id}",
                      "type": "Follow", "actor": user.ap_id, "object": group.ap_id}
            undo = activity(new_activity_id(ctx), "Undo", user, follow, to=[group.ap_id], cc=[])
            inbox = group.inbox or group.shared_inbox
            await enqueue_activity(conn, ctx, actor=user, activity=undo,
                                   inboxes=[inbox] if inbox else [])
    return True

