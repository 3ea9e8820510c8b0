"""Update of a post, by its author only, applied when newer than what we have; relayed
to the group's followers when the post is in one of our groups. An Update of a post
that has not arrived yet waits for it (outcomes.NotYet). An Update of an actor refreshes
our copy of it, and only the actor itself may send it (Mastodon's rule)."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor, store_actor
from fedi.forum.polls import store_remote_question
from fedi.inbound import events
from fedi.inbound.common import relay_to_group, sender_of, unknown_post
from fedi.inbound.outcomes import Ignored, Refused
from fedi.inbound.posts import post_object, update_remote_post
from fedi.inbound.types import ACTOR_TYPES
from storage import posts as post_store
from storage.inbox import InboxActivity


async def handle_update(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    if activity.object_id == activity.actor or activity.object_type in ACTOR_TYPES:
        await _update_actor(ctx, activity)
        return
    if events.is_event(activity):  # inbound/events.py
        await events.receive_event(ctx, await events.event_object(ctx, activity),
                                   activity=activity)
        return
    obj = await post_object(ctx, activity)
    author = await sender_of(ctx, activity)
    assert obj.id is not None
    async with ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, obj.id)
        if post is None:
            raise unknown_post(ctx, obj.id)
        if post.author_id != author.id:
            raise Refused(f"only the author may edit {obj.id}")
        async with conn.transaction():
            # A poll's new counts come as an Update that changes nothing else (Mastodon
            # keeps ``updated``): taken whether or not the post is newer.
            counted = await store_remote_question(conn, post, obj)
            updated = await update_remote_post(ctx, conn, post, obj, author=author)
            if updated is None and counted:
                await relay_to_group(conn, ctx, activity=activity, post=post)
                return
            if updated is None:
                raise Ignored("the edit is not newer than the stored post")
            await relay_to_group(conn, ctx, activity=activity, post=updated)


async def _update_actor(ctx: Context, activity: vocab.Activity) -> None:
    """Update(actor): only of itself (``object.id == actor``, Mastodon's rule)."""
    if activity.object_id != activity.actor:
        raise Refused(f"{activity.actor} cannot update the actor {activity.object_id}")
    embedded = activity.object
    if isinstance(embedded, vocab.Actor):
        await store_actor(ctx, embedded.to_json(), expected_id=activity.actor)
    else:
        await resolve_actor(ctx, activity.actor, refresh=True)
