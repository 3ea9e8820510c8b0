"""Follow and Undo(Follow) of our groups and users by remote actors.

A Follow is answered with an Accept that embeds the Follow as received (its original id:
Mastodon and Lemmy match on it), signed by the followed actor; a repeated Follow (Mastodon
re-sends them) is accepted again without a second row. Those fedi.forum.policy refuses
(banned actors, blocked domains ...) get a Reject instead, whose ``summary`` and
``content`` are the refusal's sentence. An Undo (undo.py) finds the follow by the
Follow's id, or else by the (follower, followed) pair.
"""

from __future__ import annotations

import logging

from activitypub import vocab
from fedi.core.context import Context
from fedi.core.instances import instance_software
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation.documents import activity as build_activity
from fedi.federation.documents import strip_context
from fedi.forum import policy
from fedi.forum.policy import Action
from fedi.inbound.common import local_actor, queue_reject, sender_of
from fedi.inbound.outcomes import Ignored, Refused
from storage import follows as follow_store
from storage.inbox import InboxActivity

log = logging.getLogger("fedi.inbound.follow")


async def handle_follow(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    async with ctx.pool.acquire() as conn:
        target = await local_actor(conn, activity.object_id)
    if target is None:
        raise Ignored(f"{activity.object_id} is not an actor of this instance")
    if target.type == "Application":
        raise Ignored("the instance actor has no followers")
    follower = await sender_of(ctx, activity)
    if target.type == "Group":
        # The group's fan-out picks the Announce form by the follower's software; learn it
        # now, outside the transaction, so the first post already goes out right.
        await instance_software(ctx, follower.domain)
    follow_json = strip_context(activity.to_json())
    inbox = follower.inbox or follower.shared_inbox
    async with ctx.pool.acquire() as conn, conn.transaction():
        # Following a user is governed by the instance-wide rules only.
        group = target if target.type == "Group" else None
        refusal = await policy.refusal(conn, Action.FOLLOW, follower, group=group)
        if refusal is not None:
            await follow_store.delete(conn, follower.id, target.id)
            await queue_reject(conn, ctx, sender=target, to=follower, rejected=follow_json,
                               refusal=refusal)
        else:
            await follow_store.upsert(conn, follower_id=follower.id, target_id=target.id,
                                      ap_id=activity.id, state="accepted")
            accept = build_activity(new_activity_id(ctx), "Accept", target, follow_json,
                                    to=[follower.ap_id], cc=[])
            await enqueue_activity(conn, ctx, actor=target, activity=accept,
                                   inboxes=[inbox] if inbox else [], public=False)
    if refusal is not None:
        raise Refused(f"Follow rejected: {refusal.message}")


async def undo_follow(ctx: Context, activity: vocab.Activity, follow_id: str | None,
                      target_id: str | None) -> None:
    """Undo(Follow): by the Follow's id, else by the (actor, object) pair."""
    follower = await sender_of(ctx, activity)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await follow_store.by_ap_id(conn, follow_id) if follow_id else None
        if found is not None and found.follower_id == follower.id:
            await follow_store.delete(conn, follower.id, found.target_id)
            return
        target = await local_actor(conn, target_id)
        if target is not None and await follow_store.delete(conn, follower.id, target.id):
            return
    raise Ignored("no such follow")
