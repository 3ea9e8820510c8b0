"""Bans: from one of our groups (its moderators) or from the whole instance (admins),
lifted by hand or when they expire.

A ban lives in ``bans`` (read through storage.moderation.active_ban by fedi/forum/policy.py,
the one place that decides who may post or follow); imposing or lifting one writes the
modlog entry and queues the group's (or the instance actor's) Block or Undo(Block) in the
same transaction. :func:`start_ban_expiry` is the startup hook that lifts expired bans.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fedi.core.actors import instance_actor
from fedi.core.context import Context
from fedi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from fedi.core.runtime import run_periodically
from fedi.federation import moderation_out as out
from fedi.forum.groups import find_group
from fedi.forum.staff import (
    Staff,
    find_actor,
    log,
    may_moderate_something,
    require_admin,
    require_moderator,
)
from storage import accounts as account_store
from storage import actors as actor_store
from storage import moderation as moderation_store
from storage import notification_events
from storage.actors import Actor
from storage.moderation import Ban

log_ = logging.getLogger("fedi.moderation")


async def ban(ctx: Context, staff: Staff, *, actor_ref: str, group_ref: str | None,
              reason: str, expires_at: datetime | None, remove_content: bool) -> Ban:
    """Ban from one of our groups (its moderators) or from the instance (admins)."""
    group = await find_group(ctx, group_ref) if group_ref else None
    target = await find_actor(ctx, actor_ref)
    if group is not None and not group.local:
        raise ValidationFailed(f"{group.handle} is a group of another instance: its own "
                               "moderators ban there", field="group")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ValidationFailed("expires_at must be in the future", field="expires_at")
    if target.id == staff.actor.id:
        raise ValidationFailed("you cannot ban yourself", field="actor")
    if target.type not in ("Person", "Service", "Application", "Organization"):
        raise ValidationFailed(f"{target.handle} is a {target.type}: only people and bots "
                               "can be banned", field="actor")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await require_moderator(conn, staff, group)
        account = await account_store.by_actor(conn, target.id) if target.local else None
        if account is not None and account.is_admin:
            raise Forbidden("administrators cannot be banned", code="target_is_admin")
        current = await moderation_store.active_ban(conn, target.id,
                                                    group.id if group else None)
        if current is not None and current.group_id == (group.id if group else None):
            raise Conflict(f"{target.handle} is banned there already (ban {current.id})",
                           code="already_banned")
        sent: dict[str, Any] | None
        if group is not None:
            sent = await out.send_ban(conn, ctx, group=group, acting=staff.actor, banned=target,
                                      reason=reason, expires_at=expires_at,
                                      remove_content=remove_content)
        else:
            sent = await out.send_instance_ban(conn, ctx, site=await instance_actor(ctx),
                                               banned=target, reason=reason,
                                               expires_at=expires_at)
        row = await moderation_store.ban(
            conn, actor_id=target.id, group_id=group.id if group else None, reason=reason,
            expires_at=expires_at, remove_content=remove_content,
            ap_id=sent["id"] if sent else None, created_by=staff.actor.id)
        removed: list[int] = []
        if remove_content:
            removed = await moderation_store.remove_posts_of(
                conn, target.id, group.id if group else None, reason=reason or "banned")
        await log(conn, "ban", staff=staff, group=group, target=target, reason=reason,
                  activity=sent, details={"ban_id": row.id, "expires_at": _iso(expires_at),
                                          "remove_content": remove_content,
                                          "removed_posts": len(removed)})
        # A local person learns of the ban and why (fedi/forum/notify_queue.py).
        await notification_events.enqueue_event(conn, "moderation", {
            "action": "ban", "actor_id": staff.actor.id, "target_actor_id": target.id,
            "group_id": group.id if group else None, "reason": reason})
    return row


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


async def unban(ctx: Context, staff: Staff, ban_id: int) -> Ban:
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await moderation_store.get_ban(conn, ban_id)
        if row is None:
            raise NotFound(f"no ban {ban_id}")
        group = await actor_store.get(conn, row.group_id) if row.group_id else None
        if group is not None and not group.local:
            require_admin(staff)  # recorded from a remote group: only lifted here
        await require_moderator(conn, staff, group)
        if row.lifted_at is not None or (row.expires_at is not None
                                         and row.expires_at <= datetime.now(UTC)):
            raise Conflict("this ban is over already", code="already_lifted")
        await moderation_store.lift_ban(conn, row.id)
        target = await actor_store.get(conn, row.actor_id)
        assert target is not None
        sent = await _send_unban(conn, ctx, row, group=group, target=target,
                                 acting=staff.actor)
        await log(conn, "unban", staff=staff, group=group, target=target, activity=sent,
                  details={"ban_id": row.id})
        lifted = await moderation_store.get_ban(conn, row.id)
    assert lifted is not None
    return lifted


async def _send_unban(conn: Any, ctx: Context, row: Ban, *, group: Actor | None,
                      target: Actor, acting: Actor | None) -> dict[str, Any] | None:
    if group is not None and group.local:
        return await out.send_unban(conn, ctx, group=group, acting=acting, banned=target,
                                    block_id=row.ap_id)
    if group is None and row.ap_id is not None:
        return await out.send_instance_ban(conn, ctx, site=await instance_actor(ctx),
                                           banned=target, reason=row.reason,
                                           expires_at=row.expires_at, lifted=True,
                                           block_id=row.ap_id)
    return None


async def lift_expired_bans(ctx: Context) -> int:
    """Mark expired bans lifted and tell the federation (Undo(Block) by the group)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        expired = await moderation_store.claim_expired_bans(conn)
        for row in expired:
            group = await actor_store.get(conn, row.group_id) if row.group_id else None
            target = await actor_store.get(conn, row.actor_id)
            if target is None:
                continue
            sent = await _send_unban(conn, ctx, row, group=group, target=target, acting=None)
            await log(conn, "ban_expired", staff=None, group=group, target=target,
                      activity=sent, details={"ban_id": row.id}, public=group is None
                      or group.local)
    return len(expired)


async def list_bans(ctx: Context, staff: Staff, *, limit: int, before_id: int | None,
                    active_only: bool) -> list[Ban]:
    async with ctx.pool.acquire() as conn:
        groups = await may_moderate_something(conn, staff)
        return await moderation_store.bans_page(conn, limit=limit, group_ids=groups,
                                                active_only=active_only, before_id=before_id)


# --- the expiry job -------------------------------------------------------------------------

EXPIRY_INTERVAL = 60.0  # seconds between looks for expired bans


async def start_ban_expiry(ctx: Context, run_workers: bool) -> Callable[[], Awaitable[None]] | None:
    """Startup hook: while workers run, lift expired bans every minute (the ban stops
    counting at its expiry anyway: active_ban reads ``expires_at``; this sends the
    Undo(Block) and writes the modlog)."""
    if not run_workers:
        return None

    return run_periodically(lambda: lift_expired_bans(ctx), EXPIRY_INTERVAL,
                            "lifting expired bans", log_)
