"""What the inbound handlers share: the sender as an actor row, local targets, Rejects,
relaying an accepted activity to a local group's followers, the outcome for an
activity about a post we do not have (yet), and the Follow of ours that an Accept or
Reject answers."""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation.documents import activity as build_activity
from fedi.federation.fanout import relay
from fedi.federation.remote import host_of, resolve_actor
from fedi.forum.policy import Refusal
from fedi.forum.rejects import reject_fields
from fedi.inbound.outcomes import Ignored, NotYet, Refused
from storage import actors as actor_store
from storage import follows as follow_store
from storage import inbox as inbox_store
from storage.actors import Actor
from storage.follows import Follow
from storage.posts import Post


async def sender_of(ctx: Context, activity: vocab.Activity) -> Actor:
    """The activity's actor (cached: its key was just verified). Our own actors never
    arrive through the inbox: a remote document claiming one is refused."""
    actor = await resolve_actor(ctx, activity.actor)
    if actor.local:
        raise Refused(f"{activity.actor} is one of our own actors")
    return actor


async def local_actor(conn: Any, ap_id: str | None) -> Actor | None:
    """A live local actor by id, or None."""
    if ap_id is None:
        return None
    actor = await actor_store.by_ap_id(conn, ap_id)
    if actor is None or not actor.local or actor.deleted_at is not None:
        return None
    return actor


async def queue_reject(conn: Any, ctx: Context, *, sender: Actor, to: Actor,
                       rejected: dict[str, Any], reason: str | None = None,
                       refusal: Refusal | None = None) -> None:
    """A Reject of ``rejected`` (embedded as received) from our ``sender``, telling ``to``
    why in ``summary`` and ``content``: the policy's ``refusal`` in the group's language
    (fedi/forum/rejects.py) with the English sentence beside it in ``contentMap`` and
    ``summaryMap`` (software that reads one language picks it), or a plain ``reason``.
    A deleted ``sender`` sends none: its key is gone, so no receiver could check the
    signature, and its Delete told them already."""
    if sender.deleted_at is not None:
        return
    fields: dict[str, Any] = {"summary": reason, "content": reason}
    if refusal is not None:
        fields = await reject_fields(conn, sender, refusal.text)
    reject = build_activity(new_activity_id(ctx), "Reject", sender, rejected, to=[to.ap_id],
                            cc=[], **fields)
    inbox = to.inbox or to.shared_inbox
    await enqueue_activity(conn, ctx, actor=sender, activity=reject,
                           inboxes=[inbox] if inbox else [], public=False)


async def relay_to_group(conn: Any, ctx: Context, *, activity: vocab.Activity, post: Post,
                         group: Actor | None = None) -> None:
    """Announce a remote member's activity about ``post`` to the followers of the post's
    group, when that group is one of ours (FEP-1b12). ``group``: the post's group row when
    the caller has it (one round trip less)."""
    if post.group_id is None:
        return
    if group is None or group.id != post.group_id:
        group = await actor_store.get(conn, post.group_id)
    if group is None or not group.local or group.deleted_at is not None:
        return
    await relay(conn, ctx, group=group, inner=activity.to_json(), author=None,
                object_id=post.ap_id, post_id=post.id)


def unknown_post(ctx: Context, object_id: str | None) -> Ignored | NotYet:
    """The outcome for an activity about a post we do not have: one of ours will never
    turn up, anyone else's may still be on its way (its Create not processed yet)."""
    if object_id is None:
        return Ignored("the activity names no object")
    if host_of(object_id) == ctx.settings.host.lower():
        return Ignored(f"{object_id} is not a post of this instance")
    return NotYet(f"{object_id} is not a post known here")


async def still_to_come(ctx: Context, activity_id: str | None) -> bool:
    """Whether the activity with this id may still arrive or be processed: it is not
    ours and we have no outcome for it yet."""
    if activity_id is None or host_of(activity_id) == ctx.settings.host.lower():
        return False
    async with ctx.pool.acquire() as conn:
        return not await inbox_store.processed(conn, activity_id)


async def our_follow(conn: Any, target: Actor, activity: vocab.Activity) -> Follow:
    """The Follow of one of our actors that ``target``'s Accept or Reject answers: by the
    Follow's id (the object, embedded or bare), else by the pair named in an embedded
    Follow (``actor`` = our user, ``object`` = the answering actor), as Mastodon matches
    them. Only the followed actor itself may answer."""
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
