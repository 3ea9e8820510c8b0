"""Announces from remote groups we follow (FEP-1b12): the group relays what its members
did, and we store it so our users can read and join the discussion.

Both forms are accepted: ``Announce(<activity>)`` with a Create, Update, Delete, Like,
Dislike or Undo embedded (Lemmy, Mbin, PieFed, NodeBB, dEMiSA), and ``Announce(<object
id>)`` (the Mastodon-compatible boost). An embedded activity is used as it is only when
its id is on the announcing group's host; anything else is fetched from its origin by id
and must be attributed to an actor on that same host. Moderators' actions relayed this way
(Lemmy: a Delete by the group or a moderator, Lock, Add/Remove, Block and their Undo) go
to the handlers of those types (:func:`_moderation`), which check the actor's authority
as when they arrive on their own.

:func:`receive_relayed` is shared with the backfill, which reads a group's outbox the
way it would read its Announces.

A relayed Delete, Like, Dislike or Undo about a post we do not have yet waits for it
(outcomes.NotYet): the group's Announce of its Create may be processed at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from activitypub import vocab
from activitypub.errors import FetchStatusError
from activitypub.proofs import ProofError
from fedi.core.context import Context
from fedi.federation.integrity import check_proof, has_proof
from fedi.federation.remote import fetch, host_of, resolve_actor
from fedi.inbound import add, block, choose_answer, delete, events, lock, remove, undo
from fedi.inbound.common import unknown_post
from fedi.inbound.outcomes import Ignored, NotYet
from fedi.inbound.posts import (
    POST_TYPES,
    addressed_to,
    store_remote_post,
    update_remote_post,
)
from storage import actors as actor_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import notification_events
from storage import posts as post_store
from storage.actors import Actor
from storage.inbox import InboxActivity
from storage.posts import Post

log = logging.getLogger("fedi.inbound.announce")

_LIKES = {"Like": "like", "Dislike": "dislike"}


async def handle_announce(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    """Store what a group we follow relays (see the module docstring)."""
    group = await resolve_actor(ctx, activity.actor)
    if group.local:
        raise Ignored("an Announce in the name of one of our own actors")
    if group.type != "Group":
        raise Ignored(f"a boost by a {group.type}: only groups' Announces are read")
    async with ctx.pool.acquire() as conn:
        if await follow_store.local_member_count(conn, group.id) == 0:
            raise Ignored(f"nobody here follows {group.handle}")
        if await group_store.get(conn, group.id) is None:
            await group_store.insert(conn, group.id)
    if activity.object is None:
        raise Ignored("the Announce has no object")
    # Fetch errors go to the queue: it retries what may recover, ignores the rest.
    await receive_relayed(ctx, group, activity.object)


async def receive_relayed(ctx: Context, group: Actor, ref: vocab.Ref, *,
                          creates_only: bool = False) -> Post | None:
    """Take in one activity (or object) relayed by ``group``: stores, edits, deletes or
    counts it. Returns the post it created or changed, if any. Raises Ignored when there
    is nothing to do, ProtocolError when a fetch fails. ``creates_only`` (the backfill)
    takes posts only, no edits, deletions or likes."""
    if isinstance(ref, vocab.Delete) and not _from_host(ref, group):
        if creates_only:
            raise Ignored("a Delete while backfilling")
        if not await _by_author(ctx, group, ref):
            # A moderator's removal relayed by the group: authority is checked there.
            await _moderation(ctx, ref)
            return None
        # Deletions are rarely fetchable (Mastodon's have no document): believe the
        # origin instead, which must no longer have the object.
        return await _delete_if_gone(ctx, group, ref)
    doc = await _trusted(ctx, group, ref)
    if isinstance(doc, vocab.APObject):
        # Announce(<object>): the object stands for its own Create (or Update).
        return await _store_or_update(ctx, group, doc, update=not creates_only)
    if not isinstance(doc, vocab.Activity):
        raise Ignored(f"nothing to do with a relayed {doc.type}")
    if creates_only and doc.type != "Create":
        raise Ignored(f"a {doc.type} while backfilling")
    if _is_moderation(doc):
        await _moderation(ctx, doc)
        return None
    if doc.type in ("Create", "Update") and doc.object_type == "Event":
        # An event of the group (Mobilizon: created by a member, attributed to the group).
        await events.receive_event(ctx, await events.event_object(ctx, doc), activity=doc,
                                   announcer=group)
        return None
    if doc.type in ("Create", "Update"):
        obj = await _object_of(ctx, doc)
        if doc.actor not in obj.attributed_to:
            raise Ignored(f"{doc.actor} relayed a {doc.type} of someone else's {obj.id}")
        return await _store_or_update(ctx, group, obj, update=doc.type == "Update")
    if doc.type == "Delete":
        return await _delete(ctx, group, doc)
    if doc.type in _LIKES:
        return await _like(ctx, group, doc)
    if doc.type == "ChooseAnswer":  # PieFed's accepted answer, relayed by its community
        await choose_answer.handle_choose_answer(ctx, doc, None)
        return None
    if doc.type == "Undo" and isinstance(doc.object, vocab.Activity) \
            and doc.object.type == "ChooseAnswer":
        await choose_answer.undo_choose_answer(ctx, doc, doc.object, relayed=True)
        return None
    if doc.type == "Undo":
        return await _undo(ctx, group, doc)
    raise Ignored(f"a relayed {doc.type} is not handled (yet)")


# --- trust -----------------------------------------------------------------------------


def _from_host(ref: vocab.Ref, group: Actor) -> bool:
    ref_id = vocab.object_id(ref)
    return ref_id is not None and host_of(ref_id) == host_of(group.ap_id)


async def _trusted(ctx: Context, group: Actor, ref: vocab.Ref
                   ) -> vocab.ActivityStreamsDocument:
    """The relayed document as its origin vouches for it: embedded and from the group's
    host, or else fetched by id. Either way its actor (or author) must be on the host of
    its id: a group's server vouches for its own users only."""
    ref_id = vocab.object_id(ref)
    if ref_id is None:
        raise Ignored("the relayed object has no id")
    if host_of(ref_id) == ctx.settings.host.lower():
        raise Ignored(f"{ref_id} is ours: we have it already")
    if isinstance(ref, vocab.ActivityStreamsDocument) and _from_host(ref, group):
        doc = ref
    elif isinstance(ref, vocab.Activity) and await _proven(ctx, ref):
        doc = ref  # FEP-1b12 with FEP-8b32: its actor's proof vouches for it, no fetch
    else:
        doc = vocab.parse(await fetch(ctx, ref_id))
    owner = (doc.actor if isinstance(doc, vocab.Activity)
             else doc.attributed_to[0] if isinstance(doc, vocab.APObject) and doc.attributed_to
             else None)
    if doc.id is None or owner is None or host_of(owner) != host_of(doc.id):
        raise Ignored(f"{ref_id} is not by an actor of its own host")
    return doc


async def _proven(ctx: Context, act: vocab.Activity) -> bool:
    """Whether the embedded activity carries a proof that holds for its actor (whose
    id must be on the activity's host). A proof that does not hold is not trusted:
    the activity is fetched from its origin as without one."""
    if not has_proof(act.raw) or act.actor is None or act.id is None:
        return False
    if host_of(act.actor) != host_of(act.id):
        return False
    try:
        await check_proof(ctx, act.raw, act.actor)
    except ProofError as exc:
        log.info("the proof of %s does not hold (%s): fetching it", act.id, exc.reason)
        return False
    return True


async def _object_of(ctx: Context, act: vocab.Activity) -> vocab.APObject:
    """The post a Create or Update carries: embedded when on the actor's host, else
    fetched from its origin."""
    obj = act.object
    obj_id = vocab.object_id(obj)
    if obj_id is None:
        raise Ignored(f"the {act.type} has no object")
    if not (isinstance(obj, vocab.APObject) and host_of(obj_id) == host_of(act.actor)):
        fetched = vocab.parse(await fetch(ctx, obj_id))
        if not isinstance(fetched, vocab.APObject):
            raise Ignored(f"{obj_id} is a {fetched.type}, not a post")
        obj = fetched
    return obj


# --- effects ---------------------------------------------------------------------------


async def _store_or_update(ctx: Context, group: Actor, obj: vocab.APObject, *,
                           update: bool) -> Post | None:
    if obj.type == "Event":  # Announce(<event id>): inbound/events.py
        await events.receive_event(ctx, obj, activity=None, announcer=group)
        return None
    if obj.type not in POST_TYPES:
        raise Ignored(f"a {obj.type} is not a post")
    if not obj.attributed_to or obj.id is None:
        raise Ignored("the post has no author or no id")
    if obj.in_reply_to is None and not addressed_to(obj, group):
        # Lemmy's rule: the announcing group must be the post's own group.
        raise Ignored(f"{obj.id} is not addressed to {group.handle}")
    author = await resolve_actor(ctx, obj.attributed_to[0])
    async with ctx.pool.acquire() as conn, conn.transaction():
        known = await post_store.by_ap_id(conn, obj.id)
        if known is not None:
            if not update or known.local:
                return known
            if known.group_id != group.id:
                raise Ignored(f"{obj.id} belongs to another group")
            changed = await update_remote_post(ctx, conn, known, obj, author=author)
            if changed is None:
                raise Ignored(f"the edit of {obj.id} is not newer than ours")
            return changed
        post = await store_remote_post(ctx, conn, obj, group=group, author=author)
    if post is None:
        raise Ignored(f"{obj.id} replies to something outside {group.handle}")
    return post


async def _our_post_in(ctx: Context, conn: Any, group: Actor, object_ref: str | None
                       ) -> Post:
    """The group's post an activity is about. Not known at all: its Create may still be
    on its way (the group's Announces are processed concurrently), so wait for it."""
    post = await post_store.by_ap_id(conn, object_ref) if object_ref else None
    if post is None:
        raise unknown_post(ctx, object_ref)
    if post.group_id != group.id:
        raise Ignored(f"{object_ref} is no post of {group.handle}")
    return post


_MODERATION = frozenset({"Lock", "Add", "Remove", "Block"})


def _is_moderation(doc: vocab.Activity) -> bool:
    """Lock, Add/Remove (featured, moderators), Block, and their Undo."""
    if doc.type in _MODERATION:
        return True
    inner = doc.object if doc.type == "Undo" else None
    return isinstance(inner, vocab.ActivityStreamsDocument) and inner.type in (
        _MODERATION | {"Delete"})


_RelayedHandler = Callable[[Context, vocab.Activity, InboxActivity | None], Awaitable[None]]
# The moderators' activities a group relays, to the handlers of their types. An Undo goes
# to the moderation half of the Undo handler: what a group relays is its moderators'.
_RELAYED_MODERATION: dict[str, _RelayedHandler] = {
    "Delete": delete.handle_delete, "Lock": lock.handle_lock, "Add": add.handle_add,
    "Remove": remove.handle_remove, "Block": block.handle_block,
}


async def _moderation(ctx: Context, activity: vocab.Activity) -> None:
    """A moderation activity a remote group relayed, once it comes from a trusted origin:
    the same handlers and the same authority check as when it arrives on its own (with no
    inbox row). Raises Ignored for anything else."""
    if activity.type == "Undo":
        await undo.undo_moderation(ctx, activity)
        return
    handler = _RELAYED_MODERATION.get(activity.type)
    if handler is None:
        raise Ignored(f"a relayed {activity.type} is no moderation activity")
    await handler(ctx, activity, None)


async def _by_author(ctx: Context, group: Actor, act: vocab.Activity) -> bool:
    """Whether a Delete comes from the author of the post it deletes."""
    async with ctx.pool.acquire() as conn:
        post = await _our_post_in(ctx, conn, group, act.object_id)
        author = await actor_store.get(conn, post.author_id)
    return author is not None and author.ap_id == act.actor


async def _delete(ctx: Context, group: Actor, act: vocab.Activity) -> Post | None:
    if not await _by_author(ctx, group, act):
        # A moderator's removal (Lemmy: Delete by the group or a mod, with a summary).
        await _moderation(ctx, act)
        return None
    async with ctx.pool.acquire() as conn, conn.transaction():
        post = await _our_post_in(ctx, conn, group, act.object_id)
        await post_store.mark_deleted(conn, post.id)
    return post


async def _delete_if_gone(ctx: Context, group: Actor, act: vocab.Delete) -> Post | None:
    object_ref = act.object_id
    async with ctx.pool.acquire() as conn:
        await _our_post_in(ctx, conn, group, object_ref)
    assert object_ref is not None
    try:
        doc = await fetch(ctx, object_ref)
    except FetchStatusError as exc:
        if exc.status not in (404, 410):
            raise
    else:
        if doc.get("type") != "Tombstone":
            raise Ignored(f"{object_ref} still exists at its origin")
    return await _delete(ctx, group, act)


async def _like(ctx: Context, group: Actor, act: vocab.Activity) -> Post:
    liker = await resolve_actor(ctx, act.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        post = await _our_post_in(ctx, conn, group, act.object_id)
        if not await post_store.add_like(conn, post.id, liker.id, kind=_LIKES[act.type],
                                         ap_id=act.id):
            raise Ignored(f"{liker.handle} liked {post.ap_id} already")
        if _LIKES[act.type] == "like":
            await notification_events.enqueue_event(conn, "like", {"post_id": post.id,
                                                                   "actor_id": liker.id})
    return post


async def _undo(ctx: Context, group: Actor, act: vocab.Activity) -> Post:
    inner = act.object
    if isinstance(inner, vocab.ActivityStreamsDocument) and inner.type not in _LIKES:
        raise Ignored(f"a relayed Undo of a {inner.type} is not handled")
    like_id = vocab.object_id(inner)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await post_store.like_by_ap_id(conn, like_id) if like_id else None
        if found is None:
            # Its Announce(Like) may be processed right now.
            raise NotYet(f"no like {like_id} is known here")
        post_id, actor_id, kind = found
        owner = await actor_store.get(conn, actor_id)
        if owner is None or owner.ap_id != act.actor:
            raise Ignored(f"{act.actor} cannot undo someone else's like")
        await post_store.remove_like(conn, post_id, actor_id, kind=kind)
        post = await post_store.get(conn, post_id)
    assert post is not None
    return post
