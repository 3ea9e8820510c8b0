"""Likes and dislikes of posts we have (Mastodon's favourites, Lemmy's votes), shared by
like.py and dislike.py, and their withdrawal (undo.py). A like replaces the same actor's
dislike and the other way round, as a vote does. On posts of our groups they are
announced to the group's followers. A vote for a post that has not arrived yet waits for
it (outcomes.NotYet). Whether the actor may vote there is fedi.forum.policy's to say: a
refused vote is not counted, and the inbox row keeps the refusal's sentence."""

from __future__ import annotations

from typing import Literal

from activitypub import vocab
from fedi.core.context import Context
from fedi.forum import policy
from fedi.forum.policy import Action
from fedi.inbound.common import relay_to_group, sender_of, unknown_post
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import notification_events
from storage import posts as post_store

Kind = Literal["like", "dislike"]


async def count_vote(ctx: Context, activity: vocab.Activity, kind: Kind) -> None:
    object_id = activity.object_id
    async with ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, object_id) if object_id else None
    if post is None:
        raise unknown_post(ctx, object_id)
    voter = await sender_of(ctx, activity)
    async with ctx.pool.acquire() as conn, conn.transaction():
        group = await actor_store.get(conn, post.group_id) if post.group_id else None
        refusal = await policy.refusal(conn, Action.LIKE, voter, group=group, post=post)
        if refusal is None:
            other = "dislike" if kind == "like" else "like"
            await post_store.remove_like(conn, post.id, voter.id, kind=other)
            if await post_store.add_like(conn, post.id, voter.id, kind=kind,
                                         ap_id=activity.id):
                await relay_to_group(conn, ctx, activity=activity, post=post)
                if kind == "like":  # the author hears of likes (fedi/forum/notify_queue.py)
                    await notification_events.enqueue_event(
                        conn, "like", {"post_id": post.id, "actor_id": voter.id})
    if refusal is not None:
        raise Refused(f"{kind} not counted: {refusal.message}")


async def withdraw_vote(ctx: Context, activity: vocab.Activity, *, like_id: str | None,
                        object_id: str | None, kind: str | None) -> None:
    """Withdraw a like or dislike: by the Like's id, else by (actor, post, kind).
    Lemmy undoes a dislike with an Undo of a Like, so the other kind is tried too."""
    actor = await sender_of(ctx, activity)
    async with ctx.pool.acquire() as conn, conn.transaction():
        known = await post_store.like_by_ap_id(conn, like_id) if like_id else None
        if known is not None and known[1] == actor.id:
            post_id, kinds = known[0], [known[2]]
        else:
            post = await post_store.by_ap_id(conn, object_id) if object_id else None
            if post is None:
                raise Ignored(f"{object_id or like_id} is no like known here")
            post_id = post.id
            kinds = [kind or "like", "dislike" if (kind or "like") == "like" else "like"]
        for candidate in kinds:
            if await post_store.remove_like(conn, post_id, actor.id, kind=candidate) is not None:
                post = await post_store.get(conn, post_id)
                if post is not None:
                    await relay_to_group(conn, ctx, activity=activity, post=post)
                return
    raise Ignored("no such like")
