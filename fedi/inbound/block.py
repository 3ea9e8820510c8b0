"""Block, in its three meanings, and the lifting of a ban (Undo(Block), from undo.py).

- ``target`` = a remote group we hold copies of: the group or one of its moderators bans
  the actor there (expiry from ``endTime`` or ``expires``, Lemmy's ``removeData`` hides the
  actor's posts in the group).
- ``target`` = an instance's site actor (Lemmy's site ban): recorded, and its
  ``removeData`` hides the actor's posts in that instance's groups.
- no ``target``: a Mastodon user's block of one of our actors ends the follows between
  them.
"""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import fetch, host_of, resolve_actor
from fedi.inbound.authority import REASON_MAX, check_authority, log_remote
from fedi.inbound.common import local_actor, sender_of
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage import modlog as modlog_store
from storage.actors import Actor
from storage.inbox import InboxActivity

SITE_TYPES = frozenset({"Application", "Service", "Organization"})


async def handle_block(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    target_id = vocab.object_id(activity.target) if activity.target else None
    object_id = activity.object_id
    if object_id is None:
        raise Ignored("the Block names no actor")
    if target_id is None:
        await _personal_block(ctx, activity, object_id)
        return
    async with ctx.pool.acquire() as conn:
        group = await actor_store.by_ap_id(conn, target_id)
    if group is None or group.type != "Group":
        await _site_ban(ctx, activity, target_id, object_id, known=group)
        return
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    banned = await _actor(ctx, object_id)
    expires = activity.end_time or activity.expires
    remove_content = activity.raw.get("removeData") is True
    async with ctx.pool.acquire() as conn, conn.transaction():
        if activity.id and await moderation_store.ban_by_ap_id(conn, activity.id):
            raise Ignored(f"the ban {activity.id} is recorded already")
        if await group_store.get(conn, group.id) is None:
            await group_store.insert(conn, group.id)
        ban = await moderation_store.ban(
            conn, actor_id=banned.id, group_id=group.id, reason=activity.summary or "",
            expires_at=expires, remove_content=remove_content, ap_id=activity.id,
            created_by=moderator.id)
        removed = []
        if remove_content:
            removed = await moderation_store.remove_posts_of(
                conn, banned.id, group.id, reason=activity.summary or "banned")
        await log_remote(conn, activity, "ban", group=group, moderator=moderator,
                         target=banned, details={
                             "ban_id": ban.id, "remove_content": remove_content,
                             "expires_at": expires.isoformat() if expires else None,
                             "removed_posts": len(removed)})


async def _site_ban(ctx: Context, activity: vocab.Activity, site_id: str, object_id: str,
                    *, known: Actor | None) -> None:
    """Lemmy's site ban: a Block whose ``target`` is an instance's site actor, by an
    admin of that instance (Lemmy's check: the actor is on the site's host). It bans
    there, not here: that instance's admins do not govern our groups, even when the
    banned actor is one of theirs. We record it in the modlog, and with ``removeData``
    hide the actor's posts in that instance's groups we hold copies of, as there."""
    host = host_of(site_id)
    if host_of(activity.actor) != host:
        raise Refused(f"{activity.actor} cannot ban anyone on {host}: another host")
    site_type = known.type if known is not None else (await fetch(ctx, site_id)).get("type")
    if site_type == "Group":
        raise Ignored(f"{site_id} is no group known here")
    if site_type not in SITE_TYPES:
        raise Ignored(f"the Block's target {site_id} is a {site_type}, neither a group nor "
                      "an instance")
    admin = await resolve_actor(ctx, activity.actor)
    banned = await _actor(ctx, object_id)
    expires = activity.end_time or activity.expires
    remove_content = activity.raw.get("removeData") is True
    reason = (activity.summary or "")[:REASON_MAX]
    async with ctx.pool.acquire() as conn, conn.transaction():
        if activity.id and await modlog_store.by_ap_id(conn, activity.id, "ban"):
            raise Ignored(f"the ban {activity.id} is recorded already")
        removed: list[int] = []
        if remove_content:
            removed = await moderation_store.remove_posts_in_groups_on(
                conn, banned.id, host, reason=reason or "banned")
        await modlog_store.insert(
            conn, action="ban", remote=True, moderator_id=admin.id,
            target_actor_id=banned.id, target_domain=host, reason=reason, ap_id=activity.id,
            details={"scope": "instance", "remove_content": remove_content,
                     "expires_at": expires.isoformat() if expires else None,
                     "removed_posts": len(removed)})


async def _actor(ctx: Context, ap_id: str) -> Actor:
    async with ctx.pool.acquire() as conn:
        known = await actor_store.by_ap_id(conn, ap_id)
    if known is not None and known.local:
        return known
    return await resolve_actor(ctx, ap_id)


async def _personal_block(ctx: Context, activity: vocab.Activity, object_id: str) -> None:
    """Someone blocked one of our actors: stop addressing them (Mastodon's advice)."""
    blocker = await sender_of(ctx, activity)
    async with ctx.pool.acquire() as conn, conn.transaction():
        blocked = await local_actor(conn, object_id)
        if blocked is None:
            raise Ignored(f"{object_id} is not an actor of this instance")
        await follow_store.delete(conn, blocker.id, blocked.id)
        await follow_store.delete(conn, blocked.id, blocker.id)


async def unblock(ctx: Context, activity: vocab.Activity, inner: vocab.Activity) -> None:
    """Undo(Block): the group ban ``inner`` recorded is lifted, or a site ban's end is
    recorded."""
    async with ctx.pool.acquire() as conn:
        ban = await moderation_store.ban_by_ap_id(conn, inner.id) if inner.id else None
    if ban is None and inner.id:
        await _site_unban(ctx, activity, inner.id)
        return
    if ban is None or ban.group_id is None:
        raise Ignored(f"the ban {inner.id} is not known here")
    async with ctx.pool.acquire() as conn:
        group = await actor_store.get(conn, ban.group_id)
    assert group is not None
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await moderation_store.lift_ban(conn, ban.id):
            raise Ignored(f"the ban {inner.id} is lifted already")
        banned = await actor_store.get(conn, ban.actor_id)
        await log_remote(conn, activity, "unban", group=group, moderator=moderator,
                         target=banned, details={"ban_id": ban.id})


async def _site_unban(ctx: Context, activity: vocab.Activity, inner_id: str) -> None:
    """Undo of a site ban we recorded: recorded too (posts it hid stay hidden, as in
    Lemmy, whose Undo restores nothing)."""
    async with ctx.pool.acquire() as conn:
        entry = await modlog_store.by_ap_id(conn, inner_id, "ban")
    if entry is None or entry.group_id is not None or not entry.remote:
        raise Ignored(f"the ban {inner_id} is not known here")
    if host_of(activity.actor) != entry.target_domain:
        raise Refused(f"{activity.actor} cannot lift a ban on {entry.target_domain}")
    admin = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if activity.id and await modlog_store.by_ap_id(conn, activity.id, "unban"):
            raise Ignored(f"the Undo {activity.id} is recorded already")
        await modlog_store.insert(
            conn, action="unban", remote=True, moderator_id=admin.id,
            target_actor_id=entry.target_actor_id, target_domain=entry.target_domain,
            ap_id=activity.id, details={"scope": "instance", "ban_ap_id": inner_id})
