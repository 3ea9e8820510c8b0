"""Create of a Note, Page, Article or Question into one of our groups.

The group is the one the post addresses (``audience``, ``to``, ``cc``, a Mention tag:
Mastodon mentions it and puts it and its followers in ``cc``; Lemmy uses ``audience``),
or, for a reply that addresses no group, the group of the post it replies to. Without
``inReplyTo`` the post becomes a thread, otherwise a reply (posts.py). Then the group
announces the Create to its followers. Refused, with a Reject from the group telling the
author why: banned authors, blocked domains, threads in a group where only moderators
may start them, replies in locked or removed threads.
"""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.documents import strip_context
from fedi.federation.remote import fetch, host_of
from fedi.inbound.common import queue_reject, relay_to_group, sender_of
from fedi.inbound.follow import refusal_for
from fedi.inbound.outcomes import Ignored, Refused
from fedi.inbound.posts import POST_TYPES, check_authorship, store_remote_post
from storage import actors as actor_store
from storage import groups as group_store
from storage import posts as post_store
from storage.actors import Actor
from storage.inbox import InboxActivity
from storage.posts import Post


class _Rollback(Exception):  # control flow inside a transaction
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def post_object(ctx: Context, activity: vocab.Activity) -> vocab.APObject:
    """The post a Create or Update carries; a bare id is fetched from the actor's host.
    The object must live on its actor's host: anything else is a spoof."""
    obj: Any = activity.object
    if isinstance(obj, str):
        if host_of(obj) != host_of(activity.actor):
            raise Refused(f"{obj} is not on the host of {activity.actor}")
        obj = vocab.parse(await fetch(ctx, obj))
    if not isinstance(obj, vocab.APObject) or obj.type not in POST_TYPES:
        kind = getattr(obj, "type", "nothing")
        raise Ignored(f"a {activity.type} of a {kind} is not a post")
    assert obj.id is not None
    if host_of(obj.id) != host_of(activity.actor):
        raise Refused(f"{obj.id} is not on the host of {activity.actor}: not trusted")
    return obj


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


async def _refusal(conn: Any, group: Actor, author: Actor, obj: vocab.APObject,
                   parent: Post | None) -> str | None:
    reason = await refusal_for(conn, author, group)
    if reason is not None:
        return reason
    if (obj.in_reply_to is None and group.posting_restricted_to_mods
            and not await group_store.is_moderator(conn, group.id, author.id)):
        return "only the moderators of this group may start threads in it"
    if parent is not None:
        return await _thread_refusal(conn, parent.thread_id or parent.id)
    return None


async def _thread_refusal(conn: Any, thread_id: int) -> str | None:
    thread = await post_store.get(conn, thread_id)
    if thread is None:
        return "the thread no longer exists"
    if thread.locked:
        return "this thread is locked: no new replies"
    if thread.deleted_at is not None or thread.removed_at is not None:
        return "this thread was deleted or removed"
    return None


async def handle_create(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    obj = await post_object(ctx, activity)
    author = await sender_of(ctx, activity)
    check_authorship(obj, author)
    assert obj.id is not None
    async with ctx.pool.acquire() as conn:
        if await post_store.by_ap_id(conn, obj.id) is not None:
            return  # a replay under another activity id: stored already
        group, parent = await target_group(conn, obj, activity)
        if group is None:
            raise Ignored("addressed to no group of this instance")
        refusal = await _refusal(conn, group, author, obj, parent)
        if refusal is None:
            try:
                async with conn.transaction():
                    post = await store_remote_post(ctx, conn, obj, group=group, author=author)
                    if post is None:
                        raise Ignored("it replies to a post that is not in this group")
                    if not post.is_thread:
                        # Its ancestors may have been fetched just now: check the thread.
                        reason = await _thread_refusal(conn, post.thread_id or post.id)
                        if reason is not None:
                            raise _Rollback(reason)
                    await relay_to_group(conn, ctx, activity=activity, post=post)
                return
            except _Rollback as exc:
                refusal = exc.reason
        async with conn.transaction():
            await queue_reject(conn, ctx, sender=group, to=author,
                               rejected=strip_context(activity.to_json()), reason=refusal)
    raise Refused(f"post refused: {refusal}")
