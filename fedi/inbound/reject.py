"""Reject of a Follow one of our users sent to a remote group (or actor): refused, or
the group removed our member. The follow ends (the Follow is found by
common.our_follow)."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.inbound import events
from fedi.inbound.common import our_follow
from storage import follows as follow_store
from storage.inbox import InboxActivity


async def handle_reject(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    """Our Follow was refused, or the group removed our member: the follow ends. (Or
    one of our users' Joins of an event was refused, inbound/events.py.)"""
    if await events.answer_to_join(ctx, activity, accepted=False):
        return
    target = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        follow = await our_follow(conn, target, activity)
        await follow_store.delete(conn, follow.follower_id, follow.target_id)
