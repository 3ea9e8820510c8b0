"""Events from other servers (Mobilizon, Gancio, another dEMiSA), and the answers to our
users' Joins. create.py, update.py, delete.py and announce.py call in here when the
object is an ``Event``; accept.py, reject.py when the answer is to a ``Join``.

An ``Event`` is stored (a remote event row, shown with its place and time) when it
belongs to a group: a remote group our users follow (its ``attributedTo`` or the group
that announced it), or one of our groups it is addressed to (``to``, ``cc``,
``audience``). Only its own host may create, change or delete it. An ``Event`` addressed
to one of our groups is relayed to the group's followers like a post.
"""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.events import event_fields
from fedi.federation.fanout import relay
from fedi.federation.remote import fetch, host_of, resolve_actor
from fedi.forum import events as event_service
from fedi.inbound.common import sender_of
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import events as event_store
from storage import follows as follow_store
from storage import groups as group_store
from storage.actors import Actor
from storage.events import Event

__all__ = ["answer_to_join", "delete_event", "event_object", "is_event", "leave",
           "local_event", "receive_event", "undo_join"]


def is_event(activity: vocab.Activity) -> bool:
    return activity.object_type == "Event"


async def event_object(ctx: Context, activity: vocab.Activity) -> vocab.APObject:
    """The Event a Create or Update carries (a bare id is fetched); it must live on the
    host of the activity's actor."""
    obj: Any = activity.object
    if isinstance(obj, str):
        if host_of(obj) != host_of(activity.actor):
            raise Refused(f"{obj} is not on the host of {activity.actor}")
        obj = vocab.parse(await fetch(ctx, obj))
    if not isinstance(obj, vocab.APObject) or obj.type != "Event" or obj.id is None:
        raise Ignored(f"a {activity.type} of a {getattr(obj, 'type', 'nothing')}, no Event")
    if host_of(obj.id) != host_of(activity.actor):
        raise Refused(f"{obj.id} is not on the host of {activity.actor}: not trusted")
    return obj


async def _home_group(ctx: Context, conn: Any, obj: vocab.APObject,
                      announcer: Actor | None) -> tuple[Actor | None, bool]:
    """(the group the event belongs to, whether it is one of ours)."""
    refs = [*obj.audience, *obj.to, *obj.cc]
    local = await group_store.local_by_refs(conn, list(dict.fromkeys(refs)))
    if local:
        return local[0], True
    if announcer is not None:
        return announcer, False
    for ref in obj.attributed_to:
        actor = await actor_store.by_ap_id(conn, ref)
        if (actor is not None and actor.type == "Group" and not actor.local
                and await follow_store.local_member_count(conn, actor.id) > 0):
            return actor, False
    return None, False


async def receive_event(ctx: Context, obj: vocab.APObject, *, activity: vocab.Activity | None,
                        announcer: Actor | None = None) -> Event:
    """Store or update a remote Event. ``announcer``: the remote group that relayed it."""
    assert obj.id is not None
    if host_of(obj.id) == ctx.settings.host.lower():
        raise Ignored(f"{obj.id} is ours")
    try:
        values = event_fields(obj)
    except ValueError as exc:
        raise Ignored(str(exc)) from None
    if announcer is None:
        # Make sure the attributed group (if any) is known, to file the event there.
        for ref in obj.attributed_to:
            if host_of(ref) == host_of(obj.id):
                await resolve_actor(ctx, ref)
    organiser_ref = obj.to_json().get("actor")
    organiser = None
    if isinstance(organiser_ref, str) and host_of(organiser_ref) == host_of(obj.id):
        organiser = await resolve_actor(ctx, organiser_ref)
    elif activity is not None and host_of(activity.actor) == host_of(obj.id):
        organiser = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        group, ours = await _home_group(ctx, conn, obj, announcer)
        if group is None:
            raise Ignored("the Event is addressed to no group of this instance and to no "
                          "group followed here")
        if await group_store.get(conn, group.id) is None:
            await group_store.insert(conn, group.id)
        if organiser is not None and organiser.type == "Group":
            organiser = None if organiser.id == group.id else organiser
        known = await event_store.by_ap_id(conn, obj.id)
        if known is not None:
            if known.local:
                raise Ignored(f"{obj.id} is ours")
            event = await event_store.update(conn, known.id, {
                **values, "organiser_id": organiser.id if organiser else known.organiser_id})
        else:
            event = await event_store.insert(conn, {
                **values, "ap_id": obj.id, "local": False, "group_id": group.id,
                "organiser_id": organiser.id if organiser else None})
        if ours and activity is not None and group.deleted_at is None:
            await relay(conn, ctx, group=group, inner=activity.to_json(), author=None,
                        object_id=obj.id)
    return event


async def delete_event(ctx: Context, activity: vocab.Activity) -> bool:
    """A Delete of a remote event by its own host; False when the object is no event."""
    object_id = activity.object_id
    if object_id is None:
        return False
    async with ctx.pool.acquire() as conn, conn.transaction():
        event = await event_store.by_ap_id(conn, object_id)
        if event is None:
            return False
        if event.local or host_of(activity.actor) != host_of(event.ap_id):
            raise Refused(f"{activity.actor} may not delete {object_id}")
        await event_store.mark_deleted(conn, event.id)
    return True


async def answer_to_join(ctx: Context, activity: vocab.Activity, *, accepted: bool) -> bool:
    """An Accept or Reject of one of our users' Joins: True when it was one (and was
    recorded), False when the object is no Join of ours."""
    obj = activity.object
    join_id = vocab.object_id(obj)
    if join_id is None:
        return False
    async with ctx.pool.acquire() as conn:
        found = await event_store.participant_by_join(conn, join_id)
    if found is None:
        if isinstance(obj, vocab.Activity) and obj.type == "Join":
            raise Ignored(f"no Join of ours matches the {activity.type} by {activity.actor}")
        return False
    answerer = await resolve_actor(ctx, activity.actor)
    if not await event_service.answered(ctx, join_ap_id=join_id, by=answerer,
                                        accepted=accepted):
        raise Refused(f"{activity.actor} answered a Join of an event that is not its own")
    return True


async def local_event(ctx: Context, activity: vocab.Activity) -> Event:
    """The event of ours a Join or Leave names (NotYet/Ignored otherwise)."""
    object_id = activity.object_id
    async with ctx.pool.acquire() as conn:
        event = await event_store.by_ap_id(conn, object_id) if object_id else None
    if event is None:
        raise Ignored(f"{object_id} is no event of this instance")
    if not event.local:
        raise Ignored(f"{object_id} is an event of another server")
    return event


async def leave(ctx: Context, activity: vocab.Activity, event: Event) -> None:
    actor = await sender_of(ctx, activity)
    if not await event_service.receive_leave(ctx, actor=actor, event=event):
        raise Ignored(f"{actor.ap_id} was not registered for {event.ap_id}")


async def undo_join(ctx: Context, activity: vocab.Activity, join_id: str | None,
                    event_id: str | None) -> bool:
    """Undo(Join): the registration the Join made is withdrawn. False: no such Join."""
    async with ctx.pool.acquire() as conn:
        found = await event_store.participant_by_join(conn, join_id) if join_id else None
        event = (await event_store.get(conn, found.event_id) if found is not None
                 else await event_store.by_ap_id(conn, event_id) if event_id else None)
    if event is None or not event.local:
        return False
    await leave(ctx, activity, event)
    return True

