"""Create of a Note, Page, Article or Question into one of our groups.

The group is the one the post addresses (``audience``, ``to``, ``cc``, a Mention tag:
Mastodon mentions it and puts it and its followers in ``cc``; Lemmy uses ``audience``),
or, for a reply that addresses no group, the group of the post it replies to. Without
``inReplyTo`` the post becomes a thread, otherwise a reply (posts.py). Then the group
announces the Create to its followers. Who may start a thread or reply there is
fedi.forum.policy's to say; a refused post gets a Reject from the group whose
``summary`` and ``content`` are the refusal's sentence.
"""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.documents import strip_context
from fedi.forum import policy, poll_votes
from fedi.forum.policy import Action, Refusal
from fedi.inbound import events
from fedi.inbound.common import queue_reject, relay_to_group, sender_of
from fedi.inbound.outcomes import Ignored, Refused
from fedi.inbound.posts import check_authorship, post_object, store_remote_post
from storage import actors as actor_store
from storage import groups as group_store
from storage import posts as post_store
from storage.actors import Actor
from storage.inbox import InboxActivity
from storage.posts import Post


class _Rollback(Exception):  # control flow inside a transaction
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


async def target_group(conn: Any, obj: vocab.APObject, activity: vocab.Activity
                       ) -> tuple[Actor | None, Post | None]:
    """(our group the post goes to, the known parent post)."""
    parent = await post_store.by_ap_id(conn, obj.in_reply_to) if obj.in_reply_to else None
    if parent is not None:
        group = await actor_store.get(conn, parent.group_id) if parent.group_id else None
        if group is None or not group.local:
            raise Ignored(f"{obj.in_reply_to} is not in a group of this instance")
        return group, parent
    ids = [*obj.audience, *activity.audience, *(m.href for m in obj.mentions), *obj.to,
           *obj.cc, *activity.to, *activity.cc]
    groups = await group_store.local_by_refs(conn, list(dict.fromkeys(ids)))
    return (groups[0] if groups else None), None


async def _refusal_before_storing(conn: Any, group: Actor, author: Actor,
                                  obj: vocab.APObject, parent: Post | None
                                  ) -> Refusal | None:
    if obj.in_reply_to is None:
        return await policy.refusal(conn, Action.START_THREAD, author, group=group)
    if parent is not None:
        return await policy.refusal(conn, Action.REPLY, author, group=group,
                                    thread=await policy.thread_of(conn, parent), post=parent)
    # The parent is still to be fetched: the rules for taking part in the group at all
    # (those of a Follow) now, the whole reply's once it is stored with its ancestors.
    return await policy.refusal(conn, Action.FOLLOW, author, group=group)


async def _reply_refusal(conn: Any, group: Actor, author: Actor, reply: Post
                         ) -> Refusal | None:
    """The reply rules for a reply just stored: its ancestors may have been fetched just
    now, so its thread (and parent) are known only here."""
    parent = await post_store.get(conn, reply.parent_id) if reply.parent_id else None
    thread = await policy.thread_of(conn, reply)
    return await policy.refusal(conn, Action.REPLY, author, group=group, thread=thread,
                                post=parent)


async def handle_create(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    if events.is_event(activity):  # an Event (Mobilizon, Gancio ...): inbound/events.py
        await events.receive_event(ctx, await events.event_object(ctx, activity),
                                   activity=activity)
        return
    obj = await post_object(ctx, activity)
    author = await sender_of(ctx, activity)
    check_authorship(obj, author)
    assert obj.id is not None
    # A vote on one of our polls (Mastodon's Note{name, inReplyTo}): counted, not stored.
    voted = await poll_votes.receive_remote_vote(ctx, obj, author)
    if isinstance(voted, Refusal):
        raise Refused(f"vote refused: {voted.message}")
    if voted is not None:
        if voted != "counted":
            raise Ignored(f"vote not counted: {voted}")
        return
    async with ctx.pool.acquire() as conn:
        if await post_store.by_ap_id(conn, obj.id) is not None:
            return  # a replay under another activity id: stored already
        group, parent = await target_group(conn, obj, activity)
        if group is None:
            raise Ignored("addressed to no group of this instance")
        refusal = await _refusal_before_storing(conn, group, author, obj, parent)
        if refusal is None:
            try:
                async with conn.transaction():
                    post = await store_remote_post(ctx, conn, obj, group=group, author=author)
                    if post is None:
                        raise Ignored("it replies to a post that is not in this group")
                    if not post.is_thread:
                        found = await _reply_refusal(conn, group, author, post)
                        if found is not None:
                            raise _Rollback(found)
                    await relay_to_group(conn, ctx, activity=activity, post=post,
                                         group=group)
                return
            except _Rollback as exc:
                refusal = exc.refusal
        async with conn.transaction():
            await queue_reject(conn, ctx, sender=group, to=author,
                               rejected=strip_context(activity.to_json()),
                               refusal=refusal)
    raise Refused(f"post refused: {refusal.message}")
