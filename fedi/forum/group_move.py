"""Groups that move to another instance (FEP-7628), municipalities merging or changing
their provider.

The move takes two admins, one on each side, as Mastodon's account moves do:

1. The target's admin creates the group and names the old one as an alias
   (:func:`add_alias`): the new group's document then carries ``alsoKnownAs`` with the
   old group's id, and the new group follows the old one: its Accept queues the backfill
   of the old group's threads (as for any first local member), its Announces bring what
   is posted there until the move, and when the Move arrives the posts are handed over
   to the new group (fedi/inbound/move_groups.py, storage/group_moves.py
   ``adopt_posts``); they keep their ids on the old host.
2. The old instance's admin moves the group (:func:`move_group`), refused unless the
   target's document, fetched afresh, names the group in ``alsoKnownAs``. The group then
   carries ``movedTo``, sends ``Move {actor: group, object: group, target: new group}``
   to its followers (Mastodon, and dEMiSA's fedi/inbound/move.py, re-follow the target),
   its local members follow the new group, and the policy refuses new follows, threads
   and replies (rule ``group_moved``). Its pages redirect to the new group
   (fedi/routes/activitypub.py) while ActivityPub requests get the moved document.
"""

from __future__ import annotations

import logging

from activitypub import vocab
from activitypub.errors import ProtocolError
from fedi.core.context import Context
from fedi.core.errors import AppError, Conflict, NotFound, ValidationFailed
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation import moderation_out as out
from fedi.federation import remote
from fedi.federation.documents import activity, actor_document
from fedi.federation.fanout import follower_inboxes
from fedi.forum.groups import find_group, remote_lookup_error
from fedi.forum.remote_groups import follow_group
from fedi.forum.staff import Staff, log, require_admin
from storage import actors as actor_store
from storage import backfills as backfill_store
from storage import follows as follow_store
from storage import group_moves as move_store
from storage import groups as group_store
from storage.actors import Actor

MAX_ALIASES = 10
log_ = logging.getLogger("fedi.forum.group_move")


async def local_group(ctx: Context, name: str) -> Actor:
    async with ctx.pool.acquire() as conn:
        group = await actor_store.local_by_name(conn, name, "Group")
    if group is None:
        raise NotFound(f"no group {name!r} here")
    return group


async def _remote_group(ctx: Context, ref: str, field: str) -> Actor:
    """The remote group ``ref`` (name@host or its URL), looked up by WebFinger when
    unknown; never one of ours."""
    if not isinstance(ref, str) or not ref.strip():
        raise ValidationFailed(f"{field} is required: the group as name@host", field=field)
    try:
        group = await find_group(ctx, ref)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field=field, code=exc.code) from None
    if group.local:
        raise ValidationFailed(f"{ref} is a group of this instance, not another one's",
                               field=field)
    return group


async def aliases(ctx: Context, staff: Staff, name: str) -> list[str]:
    require_admin(staff)
    return list((await local_group(ctx, name)).also_known_as)


async def add_alias(ctx: Context, staff: Staff, name: str, actor_ref: str) -> Actor:
    """Name the group ``actor_ref`` (on another instance) as an earlier address of the
    local group ``name``; its history is backfilled into ``name``. Idempotent."""
    require_admin(staff)
    group = await local_group(ctx, name)
    old = await _remote_group(ctx, actor_ref, "actor")
    if old.ap_id not in group.also_known_as:
        if len(group.also_known_as) >= MAX_ALIASES:
            raise ValidationFailed(f"a group has at most {MAX_ALIASES} aliases",
                                   field="actor")
        group = await _set_aliases(ctx, staff, group, [*group.also_known_as, old.ap_id],
                                   history_of=old)
    await take_history(ctx, old, group)
    return group


async def take_history(ctx: Context, old: Actor, heir: Actor) -> None:
    """The local group ``heir`` follows the old group ``old`` until it moves: its Accept
    queues the backfill of the old group's threads (fedi/inbound/accept.py), and what is
    posted there until the move arrives by its Announces. The posts are handed over to
    ``heir`` when the Move arrives (fedi/inbound/move_groups.py), or here, when ``old``
    has moved to ``heir`` already."""
    if old.moved_to is not None:
        if old.moved_to == heir.ap_id:
            async with ctx.pool.acquire() as conn:
                await move_store.adopt_posts(conn, old.id, heir.id)
        return  # moved elsewhere: nothing more comes from it
    await follow_group(ctx, user=heir, group=old)


async def remove_alias(ctx: Context, staff: Staff, name: str, actor_ref: str) -> Actor:
    require_admin(staff)
    group = await local_group(ctx, name)
    value = actor_ref.strip()
    keep = [a for a in group.also_known_as if a != value]
    if len(keep) == len(group.also_known_as):
        # Named as name@host: the cached actor's id.
        old = await _remote_group(ctx, value, "actor")
        keep = [a for a in group.also_known_as if a != old.ap_id]
    if len(keep) == len(group.also_known_as):
        raise NotFound(f"{actor_ref} is not an alias of this group")
    return await _set_aliases(ctx, staff, group, keep, history_of=None)


async def _set_aliases(ctx: Context, staff: Staff, group: Actor, values: list[str], *,
                       history_of: Actor | None) -> Actor:
    async with ctx.pool.acquire() as conn, conn.transaction():
        fresh = await move_store.set_aliases(conn, group.id, values)
        # Followers' caches learn the new addresses (Update(Group), as any edit).
        sent = await out.send_group_update(conn, ctx, group=fresh,
                                           document=await _document(conn, fresh))
        await log(conn, "group_update", staff=staff, group=fresh, activity=sent,
                  details={"fields": ["also_known_as"]})
        if history_of is not None:
            await backfill_store.enqueue(conn, history_of.id)
    return fresh


async def _document(conn: object, group: Actor) -> dict[str, object]:
    keys = await actor_store.keys_for(conn, group.id)
    row = await group_store.get(conn, group.id)
    return actor_document(group, ed25519_multibase=keys.ed25519_public_multibase if keys
                          else None, summary_source=row.summary_source if row else None)


async def move_group(ctx: Context, staff: Staff, name: str, target_ref: str) -> Actor:
    """Move the local group ``name`` to ``target_ref`` (name@host of a group on another
    instance that names this one in ``alsoKnownAs``). Moving again to the same target
    changes nothing; to another one is refused."""
    require_admin(staff)
    group = await local_group(ctx, name)
    target = await _remote_group(ctx, target_ref, "target")
    if group.moved_to is not None:
        if group.moved_to == target.ap_id:
            return group
        raise Conflict(f"This group has moved already, to {group.moved_to}.",
                       code="already_moved")
    try:
        # Afresh from its host: the alias may have been set a minute ago.
        target = await remote.resolve_actor(ctx, target.ap_id, refresh=True)
    except ProtocolError as exc:
        raise remote_lookup_error(exc, target_ref) from None
    parsed = vocab.parse(target.raw or {})
    if not isinstance(parsed, vocab.Actor) or group.ap_id not in parsed.also_known_as:
        raise ValidationFailed(
            "The target group does not name this group as an alias yet: its administrators"
            " must first add this group as an alias on their instance (POST"
            f" /api/v1/admin/groups/{target.username}/aliases there).",
            field="target", code="alias_missing")
    async with ctx.pool.acquire() as conn, conn.transaction():
        moved = await move_store.mark_moved(conn, group.id, target.ap_id)
        move = activity(new_activity_id(ctx), "Move", moved, moved.ap_id,
                        to=[moved.followers_url or moved.ap_id], cc=[], target=target.ap_id)
        await enqueue_activity(conn, ctx, actor=moved, activity=move,
                               inboxes=list(await follower_inboxes(conn, moved.id)))
        await log(conn, "group_move", staff=staff, group=moved, target=target,
                  activity=move)
        members = [a for a in await follow_store.followers(conn, moved.id) if a.local]
    # Our own members follow the group at its new address (each a Follow of theirs).
    for member in members:
        try:
            await follow_group(ctx, user=member, group=target)
        except AppError as exc:  # a member the new group's rules refuse stays behind
            log_.info("%s does not follow %s: %s", member.handle, target.handle, exc)
    return moved
