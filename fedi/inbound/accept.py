"""Accept of a Follow one of our users sent to a remote group (or actor): the
membership is active (the Follow is found by common.our_follow). The first accepted
member of a remote group queues the backfill of its recent threads (a durable job,
committed with the acceptance; backfill.py runs it).
"""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.inbound import events
from fedi.inbound.common import our_follow
from fedi.inbound.outcomes import Ignored
from storage import backfills as backfill_store
from storage import follows as follow_store
from storage.inbox import InboxActivity


async def handle_accept(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    """Our Follow was accepted: the membership is active. (Or one of our users' Joins
    of an event: the registration is accepted, inbound/events.py.)"""
    if await events.answer_to_join(ctx, activity, accepted=True):
        return
    target = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        follow = await our_follow(conn, target, activity)
        if follow.state == "accepted":
            raise Ignored("the Follow was accepted already")
        await follow_store.accept(conn, follow.id)
        if (target.type == "Group"
                and await follow_store.local_member_count(conn, target.id) == 1):
            await backfill_store.enqueue(conn, target.id)
