"""Moderation and administration services: what moderators and admins do.

Roles: instance admins may do everything; a group's moderators act within their (local)
groups; everyone else gets 403. Each service checks the role, writes its rows, the
modlog entry and queues the federated activities (fedi/federation/moderation_out.py) in
one transaction. Removal hides a post (``removed_at``; the content stays for the modlog),
unlike the author's delete; bans live in ``bans`` (read through storage.moderation
.active_ban by every path that lets someone post or follow).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from activitypub.errors import FetchStatusError, ProtocolError, UnsafeAddress, WebFingerError
from fedi.core.actors import instance_actor
from fedi.core.context import Context
from fedi.core.errors import BadGateway, Conflict, Forbidden, NotFound, ValidationFailed
from fedi.core.markup import render_markdown
from fedi.federation import moderation_out as out
from fedi.federation import remote
from fedi.federation.documents import actor_document
from fedi.forum import groups as group_service
from fedi.forum.groups import check_language, check_text, check_title, find_group
from storage import accounts as account_store
from storage import actors as actor_store
from storage import deliveries as delivery_store
from storage import groups as group_store
from storage import inbox as inbox_store
from storage import instances as instance_store
from storage import moderation as moderation_store
from storage import modlog as modlog_store
from storage import posts as post_store
from storage import reports as report_store
from storage.accounts import Account
from storage.actors import Actor
from storage.moderation import Ban
from storage.posts import Post
from storage.reports import Report

log_ = logging.getLogger("fedi.moderation")
REASON_MAX = 2000
SHOW_MODERATORS_SETTING = "modlog_show_moderators"


@dataclass(frozen=True)
class Staff:
    """The account acting, with its actor (who appears in the modlog)."""

    account: Account
    actor: Actor

    @property
    def is_admin(self) -> bool:
        return self.account.is_admin


async def staff_of(ctx: Context, account: Account) -> Staff:
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None
    return Staff(account, actor)


# --- roles --------------------------------------------------------------------------------

def require_admin(staff: Staff) -> None:
    if not staff.is_admin:
        raise Forbidden("Only administrators may do this.")


async def require_moderator(conn: Any, staff: Staff, group: Actor | None) -> None:
    """Admins, and the moderators of ``group`` when it is one of ours."""
    if staff.is_admin:
        return
    if group is not None and group.local and await group_store.is_moderator(
            conn, group.id, staff.actor.id):
        return
    if group is None:
        raise Forbidden("Only administrators may do this.")
    raise Forbidden(f"Only moderators of {group.handle} (or administrators) may do this.",
                    code="not_moderator")


async def may_moderate_something(conn: Any, staff: Staff) -> list[int] | None:
    """The groups whose reports and bans ``staff`` sees (None: all, an admin);
    403 for someone who moderates nothing."""
    if staff.is_admin:
        return None
    groups = await moderation_store.moderated_group_ids(conn, staff.actor.id)
    if not groups:
        raise Forbidden("Only moderators and administrators may do this.")
    return groups


async def check_may_post(conn: Any, group: Actor | None, author: Actor) -> None:
    """Refuse a banned author (called by fedi.forum.posts for every new post)."""
    ban = await moderation_store.active_ban(conn, author.id, group.id if group else None)
    if ban is not None:
        where = "this instance" if ban.group_id is None else "this group"
        raise Forbidden(f"You are banned from {where}" + (f": {ban.reason}" if ban.reason
                                                           else "."), code="banned")


# --- modlog -------------------------------------------------------------------------------

async def log(conn: Any, action: str, *, staff: Staff | None, group: Actor | None = None,
              target: Actor | None = None, post: Post | None = None,
              domain: str | None = None, reason: str = "", public: bool = True,
              details: dict[str, Any] | None = None,
              activity: dict[str, Any] | None = None) -> None:
    await modlog_store.insert(
        conn, action=action, public=public, group_id=group.id if group else None,
        moderator_id=staff.actor.id if staff else None,
        target_actor_id=target.id if target else None,
        target_post_id=post.id if post else None, target_domain=domain, reason=reason,
        details=details, ap_id=activity.get("id") if activity else None,
    )


def check_reason(value: Any, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise ValidationFailed("reason is required", field="reason")
        return ""
    if not isinstance(value, str):
        raise ValidationFailed("reason must be text", field="reason")
    if "\x00" in value:
        raise ValidationFailed("reason must not contain NUL characters", field="reason")
    if len(value) > REASON_MAX:
        raise ValidationFailed(f"reason must be at most {REASON_MAX} characters",
                               field="reason")
    if required and not value.strip():
        raise ValidationFailed("reason must not be empty", field="reason")
    return value.strip()


# --- actors by reference --------------------------------------------------------------------

async def find_actor(ctx: Context, ref: str, *, field: str = "actor") -> Actor:
    """A local or remote actor by ``name@host`` (``name`` for a local one) or actor URL;
    an unknown remote one is looked up."""
    value = ref.strip().lstrip("@!")
    own = ctx.settings.host.lower()
    if not value or "\x00" in value:
        raise ValidationFailed(f"{field} must be a handle name@host or an actor URL",
                               field=field)
    try:
        if value.startswith(("https://", "http://")):
            if urlsplit(value).netloc.lower() == own:
                async with ctx.pool.acquire() as conn:
                    actor = await actor_store.by_ap_id(conn, value)
            else:
                actor = await remote.resolve_actor(ctx, value)
        else:
            name, _, host = value.partition("@")
            host = host.lower() or own
            if host == own:
                async with ctx.pool.acquire() as conn:
                    actor = await actor_store.by_handle(conn, name, host)
            else:
                actor = await remote.resolve_handle(ctx, f"{name}@{host}")
    except (WebFingerError, FetchStatusError) as exc:
        if isinstance(exc, FetchStatusError) and exc.status not in (404, 410):
            raise BadGateway(f"could not look up {ref}: {exc.reason}") from None
        raise NotFound(f"no actor {ref} was found", code="actor_not_found") from None
    except UnsafeAddress as exc:
        raise ValidationFailed(f"{ref} is on a host we do not contact: {exc.reason}",
                               field=field) from None
    except ProtocolError as exc:
        raise BadGateway(f"could not look up {ref}: {exc.reason}") from None
    if actor is None or actor.deleted_at is not None:
        raise NotFound(f"no actor {ref} is known here", code="actor_not_found")
    return actor


async def _local_group(ctx: Context, name: str) -> Actor:
    async with ctx.pool.acquire() as conn:
        group = await actor_store.local_by_name(conn, name, "Group")
    if group is None:
        raise NotFound(f"no group {name!r} here")
    return group


# --- posts --------------------------------------------------------------------------------

async def _post_in_group(conn: Any, post_id: int) -> tuple[Post, Actor | None]:
    post = await post_store.get(conn, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    group = await actor_store.get(conn, post.group_id) if post.group_id else None
    return post, group


async def remove_post(ctx: Context, staff: Staff, post_id: int, *, reason: str) -> Post:
    """Hide a post (a thread root: the whole thread) from the public; federated as the
    group's Delete with the reason (and Undo(Announce) for Mastodon)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await _post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if post.deleted_at is not None:
            raise Conflict("the author deleted this post already", code="deleted")
        removed = await post_store.set_removed(conn, post.id, reason=reason)
        if removed is None:
            raise Conflict("this post is removed already", code="already_removed")
        author = await actor_store.get(conn, post.author_id)
        sent = None
        if group is not None and group.local:
            sent = await out.send_removal(conn, ctx, group=group, acting=staff.actor,
                                          post=post, author=author, reason=reason)
        await log(conn, "post_remove", staff=staff, group=group, target=author, post=post,
                  reason=reason, activity=sent, details={"thread": post.is_thread})
    return removed


async def restore_post(ctx: Context, staff: Staff, post_id: int, *, reason: str) -> Post:
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await _post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        restored = await post_store.set_restored(conn, post.id)
        if restored is None:
            raise Conflict("this post is not removed", code="not_removed")
        author = await actor_store.get(conn, post.author_id)
        sent = None
        if group is not None and group.local:
            sent = await out.send_restore(conn, ctx, group=group, acting=staff.actor,
                                          post=post, author=author, reason=reason)
        await log(conn, "post_restore", staff=staff, group=group, target=author, post=post,
                  reason=reason, activity=sent)
    return restored


async def lock_thread(ctx: Context, staff: Staff, post_id: int, *, locked: bool,
                      reason: str) -> Post:
    """No new replies (Lock), or replies again (Undo(Lock))."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await _post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if not post.is_thread:
            raise ValidationFailed("only a thread can be locked: give the thread's id",
                                   field="id")
        changed = await post_store.set_locked(conn, post.id, locked)
        if changed is None:
            raise Conflict(f"this thread is {'locked' if locked else 'not locked'} already",
                           code="unchanged")
        sent = None
        if group is not None and group.local:
            sent = await out.send_lock(conn, ctx, group=group, acting=staff.actor, post=post,
                                       locked=locked, reason=reason)
        await log(conn, "thread_lock" if locked else "thread_unlock", staff=staff,
                  group=group, post=post, reason=reason, activity=sent)
    return changed


async def pin_thread(ctx: Context, staff: Staff, post_id: int, *, pinned: bool,
                     reason: str) -> Post:
    """Pinned threads list first and fill the group's ``featured`` collection."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await _post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if not post.is_thread:
            raise ValidationFailed("only a thread can be pinned: give the thread's id",
                                   field="id")
        if pinned and not post.visible:
            raise Conflict("a deleted or removed thread cannot be pinned", code="not_visible")
        changed = await post_store.set_pinned(conn, post.id, pinned)
        if changed is None:
            raise Conflict(f"this thread is {'pinned' if pinned else 'not pinned'} already",
                           code="unchanged")
        sent = None
        if group is not None and group.local:
            sent = await out.send_featured(conn, ctx, group=group, acting=staff.actor,
                                           post=post, pinned=pinned)
        await log(conn, "thread_pin" if pinned else "thread_unpin", staff=staff, group=group,
                  post=post, reason=reason, activity=sent)
    return changed


# --- bans ---------------------------------------------------------------------------------

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


# --- reports ------------------------------------------------------------------------------

async def report(ctx: Context, reporter: Actor, *, post_id: int | None, actor_ref: str | None,
                 reason: str) -> Report:
    """A local user's report of a post or an actor. A post in a remote group is also
    reported to that group's instance (a Flag to the group, Lemmy's shape); a remote
    actor reported without a post, to the actor's instance (Mastodon's forwarded report:
    a Flag by our instance actor, the reporter stays anonymous)."""
    if (post_id is None) == (actor_ref is None):
        raise ValidationFailed("give either post_id or actor", field="post_id")
    post = group = None
    if post_id is not None:
        async with ctx.pool.acquire() as conn:
            post, group = await _post_in_group(conn, post_id)
            target = await actor_store.get(conn, post.author_id)
    else:
        assert actor_ref is not None
        target = await find_actor(ctx, actor_ref)
    if target is not None and target.id == reporter.id:
        raise ValidationFailed("you cannot report yourself", field="actor")
    flag = None
    sender = recipient = None
    if post is not None and group is not None and not group.local:
        flag = out.flag_document(ctx, reporter=reporter, objects=[post.ap_id], group=group,
                                 reason=reason)
        sender, recipient = reporter, group
    elif post is None and target is not None and not target.local:
        sender, recipient = await instance_actor(ctx), target
        flag = out.account_flag_document(ctx, site=sender, reported=target, reason=reason)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await report_store.insert(
            conn, remote=False, reporter_id=reporter.id,
            target_actor_id=target.id if target else None,
            post_ids=[post.id] if post else [], group_id=group.id if group else None,
            reason=reason, ap_id=flag["id"] if flag else None,
            forwarded_to=remote.host_of(recipient.ap_id) if flag and recipient else None)
        assert row is not None
        if flag is not None and sender is not None and recipient is not None:
            await out.send_flag(conn, ctx, reporter=sender, flag=flag, recipient=recipient)
    return row


async def list_reports(ctx: Context, staff: Staff, *, state: str | None, limit: int,
                       before_id: int | None) -> list[Report]:
    async with ctx.pool.acquire() as conn:
        groups = await may_moderate_something(conn, staff)
        return await report_store.page(conn, limit=limit, state=state, group_ids=groups,
                                       before_id=before_id)


async def _report_for(conn: Any, staff: Staff, report_id: int) -> tuple[Report, Actor | None]:
    row = await report_store.get(conn, report_id)
    if row is None:
        raise NotFound(f"no report {report_id}")
    group = await actor_store.get(conn, row.group_id) if row.group_id else None
    await require_moderator(conn, staff, group if group is not None and group.local else None)
    return row, group


async def assign_report(ctx: Context, staff: Staff, report_id: int, *,
                        assignee_ref: str | None) -> Report:
    """Assign to a moderator of the report's group or an admin (``None``: oneself)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        row, group = await _report_for(conn, staff, report_id)
        assignee = staff.actor
        if assignee_ref is not None:
            account = await account_store.by_username(conn, assignee_ref.strip().lstrip("@"))
            found = await actor_store.get(conn, account.actor_id) if account else None
            if account is None or found is None:
                raise ValidationFailed(f"no local account {assignee_ref!r}", field="assignee")
            if not account.is_admin and not (group is not None and await group_store
                                             .is_moderator(conn, group.id, found.id)):
                raise ValidationFailed(f"{assignee_ref} does not moderate this report's group",
                                       field="assignee")
            assignee = found
        updated = await report_store.assign(conn, row.id, assignee.id)
        assert updated is not None
        await log(conn, "report_assign", staff=staff, group=group, target=assignee,
                  public=False, details={"report_id": row.id})
    return updated


async def resolve_report(ctx: Context, staff: Staff, report_id: int, *,
                         resolution: str) -> Report:
    """Close a report; a remote reporter's server hears of it as Lemmy's Resolve."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        row, group = await _report_for(conn, staff, report_id)
        resolved = await report_store.resolve(conn, row.id, resolved_by=staff.actor.id,
                                              resolution=resolution)
        if resolved is None:
            raise Conflict("this report is resolved already", code="already_resolved")
        reporter = await actor_store.get(conn, row.reporter_id) if row.reporter_id else None
        if row.remote and row.ap_id and reporter is not None and not reporter.local:
            sender = (await out.mod_sender(conn, group, staff.actor)
                      if group is not None and group.local else await instance_actor(ctx))
            objects = await _report_objects(conn, row)
            flag = {"id": row.ap_id, "type": "Flag", "actor": reporter.ap_id,
                    "object": objects[0] if len(objects) == 1 else objects}
            await out.send_resolve(conn, ctx, sender=sender, flag=flag, reporter=reporter,
                                   group=group)
        await log(conn, "report_resolve", staff=staff, group=group, public=False,
                  reason=resolution, details={"report_id": row.id})
    return resolved


async def _report_objects(conn: Any, row: Report) -> list[str]:
    ids: list[str] = []
    for post_id in row.post_ids:
        post = await post_store.get(conn, post_id)
        if post is not None:
            ids.append(post.ap_id)
    if row.target_actor_id is not None:
        actor = await actor_store.get(conn, row.target_actor_id)
        if actor is not None:
            ids.insert(0, actor.ap_id)
    return ids


# --- groups -------------------------------------------------------------------------------

async def create_group(ctx: Context, staff: Staff, **fields: Any) -> Actor:
    """An admin creates a group (``fields`` as fedi.forum.groups.create_group takes
    them); the group and its modlog entry are written in one transaction."""
    require_admin(staff)

    async def logged(conn: Any, group: Actor) -> None:
        await log(conn, "group_create", staff=staff, group=group)

    return await group_service.create_group(ctx, **fields, on_created=logged)


async def update_group(ctx: Context, staff: Staff, name: str, changes: dict[str, Any]
                       ) -> Actor:
    """Edit title, summary, rules, language, posting restriction; federated as
    Update(Group)."""
    group = await _local_group(ctx, name)
    title = check_title(changes["title"]) if "title" in changes else None
    summary = check_text(changes["summary"], "summary") if "summary" in changes else None
    rules = check_text(changes["rules"], "rules") if "rules" in changes else None
    restricted = changes.get("posting_restricted_to_mods")
    if restricted is not None and not isinstance(restricted, bool):
        raise ValidationFailed("posting_restricted_to_mods must be true or false",
                               field="posting_restricted_to_mods")
    details: dict[str, Any] = {}
    if "language" in changes:
        details["language"] = check_language(changes["language"])
    if summary is not None:
        details["summary_source"] = summary
    if rules is not None:
        details["rules_source"] = rules
    if title is None and restricted is None and not details:
        raise ValidationFailed("nothing to change: give title, summary, rules, language or "
                               "posting_restricted_to_mods", field="title")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await require_moderator(conn, staff, group)
        await moderation_store.update_group_profile(
            conn, group.id, name=title,
            summary=render_markdown(summary) if summary is not None else None,
            posting_restricted_to_mods=restricted)
        await group_store.update(conn, group.id, **details)
        fresh = await actor_store.get(conn, group.id)
        assert fresh is not None
        keys = await actor_store.keys_for(conn, fresh.id)
        row = await group_store.get(conn, fresh.id)
        document = actor_document(
            fresh, ed25519_multibase=keys.ed25519_public_multibase if keys else None,
            summary_source=row.summary_source if row else None)
        sent = await out.send_group_update(conn, ctx, group=fresh, document=document)
        await log(conn, "group_update", staff=staff, group=fresh, activity=sent,
                  details={"fields": sorted(k for k in changes if k != "reason")},
                  reason=check_reason(changes.get("reason")))
    return fresh


async def delete_group(ctx: Context, staff: Staff, name: str, *, reason: str) -> None:
    require_admin(staff)
    group = await _local_group(ctx, name)
    async with ctx.pool.acquire() as conn, conn.transaction():
        sent = await out.send_group_delete(conn, ctx, group=group)
        await actor_store.mark_deleted(conn, group.id)
        await log(conn, "group_delete", staff=staff, group=group, reason=reason,
                  activity=sent)


async def set_moderator(ctx: Context, staff: Staff, name: str, actor_ref: str, *,
                        appoint: bool) -> list[Actor]:
    """Appoint or remove a moderator (local or remote); federated as Add/Remove with
    target = the moderators collection. Returns the moderators afterwards."""
    group = await _local_group(ctx, name)
    async with ctx.pool.acquire() as conn:
        await require_moderator(conn, staff, group)
    person = await find_actor(ctx, actor_ref)
    if person.type not in ("Person", "Service"):
        raise ValidationFailed(f"{person.handle} is a {person.type}, not a person",
                               field="actor")
    async with ctx.pool.acquire() as conn, conn.transaction():
        if appoint:
            changed = await group_store.add_moderator(conn, group.id, person.id)
        else:
            changed = await group_store.remove_moderator(conn, group.id, person.id)
        if not changed and not appoint:
            raise NotFound(f"{person.handle} is not a moderator of {group.handle}")
        if changed:
            sent = await out.send_moderator_change(conn, ctx, group=group, acting=staff.actor,
                                                   moderator=person, added=appoint)
            await log(conn, "moderator_add" if appoint else "moderator_remove", staff=staff,
                      group=group, target=person, activity=sent)
        return await group_store.moderators(conn, group.id)


# --- domains and instances ------------------------------------------------------------------

_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,62}"
                   r"[a-z0-9])?(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$")


def check_domain(ctx: Context, value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    if not _HOST.match(domain):
        raise ValidationFailed(f"{value!r} is not a host name (with an optional :port)",
                               field="domain")
    if domain == ctx.settings.host.lower():
        raise ValidationFailed("this is our own host", field="domain")
    return domain


async def set_domain(ctx: Context, staff: Staff, domain: str, *, blocked: bool | None,
                     allowed: bool | None, reason: str) -> dict[str, Any]:
    """Block or unblock a domain (refuse its activities, stop delivering to it, hide its
    content; an unblock reverses the last two), and put it on or off the allowlist."""
    require_admin(staff)
    domain = check_domain(ctx, domain)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if blocked is True:
            await moderation_store.block_domain(conn, domain, reason=reason,
                                                created_by=staff.account.id)
            cancelled = await moderation_store.cancel_deliveries(conn, domain)
            hidden = await moderation_store.hide_domain_posts(conn, domain)
            await log(conn, "domain_block", staff=staff, domain=domain, reason=reason,
                      details={"cancelled_deliveries": cancelled, "hidden_posts": hidden})
        elif blocked is False:
            await _unblock(conn, staff, domain, reason)
        if allowed is True:
            await moderation_store.allow_domain(conn, domain, reason=reason,
                                                created_by=staff.account.id)
            await log(conn, "domain_allow", staff=staff, domain=domain, reason=reason)
        elif allowed is False and await moderation_store.disallow_domain(conn, domain):
            await log(conn, "domain_disallow", staff=staff, domain=domain, reason=reason)
        return await _domain_state(conn, domain)


async def _unblock(conn: Any, staff: Staff, domain: str, reason: str) -> None:
    if await moderation_store.unblock_domain(conn, domain):
        requeued = await moderation_store.requeue_cancelled(conn, domain)
        shown = await moderation_store.show_domain_posts(conn, domain)
        if requeued:
            await delivery_store.notify(conn)
        await log(conn, "domain_unblock", staff=staff, domain=domain, reason=reason,
                  details={"requeued_deliveries": requeued, "shown_posts": shown})


async def forget_domain(ctx: Context, staff: Staff, domain: str) -> None:
    """Remove a domain's block and allowlist entry."""
    require_admin(staff)
    domain = check_domain(ctx, domain)
    async with ctx.pool.acquire() as conn, conn.transaction():
        state = await _domain_state(conn, domain)
        if not state["blocked"] and not state["allowed"]:
            raise NotFound(f"{domain} is neither blocked nor allowed")
        await _unblock(conn, staff, domain, "")
        if await moderation_store.disallow_domain(conn, domain):
            await log(conn, "domain_disallow", staff=staff, domain=domain)


async def _domain_state(conn: Any, domain: str) -> dict[str, Any]:
    blocks = {b.domain: b for b in await moderation_store.domain_blocks(conn)}
    allows = {a.domain: a for a in await moderation_store.domain_allows(conn)}
    block = blocks.get(domain)
    allow = allows.get(domain)
    return {"domain": domain, "blocked": block is not None, "allowed": allow is not None,
            "reason": (block.reason if block else allow.reason if allow else "")}


async def list_domains(ctx: Context, staff: Staff) -> list[dict[str, Any]]:
    require_admin(staff)
    async with ctx.pool.acquire() as conn:
        names = sorted({b.domain for b in await moderation_store.domain_blocks(conn)}
                       | {a.domain for a in await moderation_store.domain_allows(conn)})
        return [await _domain_state(conn, name) for name in names]


async def instance_action(ctx: Context, staff: Staff, domain: str, action: str) -> int:
    """``reset``: forget the host's failures and resume its parked deliveries;
    ``retry``: queue its failed deliveries again. Returns how many rows changed."""
    require_admin(staff)
    domain = check_domain(ctx, domain)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if action == "reset":
            known = await instance_store.reset_instance(conn, domain)
            if not known:
                raise NotFound(f"{domain} is not a known instance")
            changed = 1
        else:
            changed = await moderation_store.retry_failed_deliveries(conn, domain)
        await delivery_store.notify(conn)
        await log(conn, f"instance_{action}", staff=staff, domain=domain, public=False,
                  details={"rows": changed})
    return changed


async def parked_action(ctx: Context, staff: Staff, row_id: int, action: str) -> None:
    """Retry or discard an inbound activity the queue gave up on."""
    require_admin(staff)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await inbox_store.get(conn, row_id)
        done = (await inbox_store.retry_parked(conn, row_id) if action == "retry"
                else await inbox_store.discard_parked(conn, row_id))
        if row is None or not done:
            raise NotFound(f"no parked inbound activity {row_id}")
        await log(conn, f"inbox_{action}", staff=staff, public=False,
                  details={"inbox_id": row_id, "ap_id": row.ap_id, "type": row.type})


# --- accounts -------------------------------------------------------------------------------

# action -> (required current status, new status, public in the modlog)
ACCOUNT_ACTIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "approve": (("pending",), "active", False),
    "reject": (("pending",), "rejected", False),
    "suspend": (("active", "pending"), "suspended", True),
    "unsuspend": (("suspended",), "active", True),
}


async def account_action(ctx: Context, staff: Staff, username: str, action: str, *,
                         reason: str) -> Account:
    require_admin(staff)
    before, after, public = ACCOUNT_ACTIONS[action]
    async with ctx.pool.acquire() as conn, conn.transaction():
        account = await account_store.by_username(conn, username.strip().lstrip("@"))
        if account is None:
            raise NotFound(f"no account {username!r}")
        if account.id == staff.account.id:
            raise ValidationFailed("you cannot change your own account's status",
                                   field="username")
        if account.status not in before:
            raise Conflict(f"the account is {account.status}: cannot {action} it",
                           code="wrong_status")
        await account_store.set_account_status(conn, account.id, after)
        if after == "suspended":
            await account_store.delete_all_tokens(conn, account.id)  # logged out everywhere
        actor = await actor_store.get(conn, account.actor_id)
        await log(conn, f"account_{action}", staff=staff, target=actor, reason=reason,
                  public=public)
        changed = await account_store.get(conn, account.id)
    assert changed is not None
    return changed


# --- settings ---------------------------------------------------------------------------------

async def moderation_settings(conn: Any) -> dict[str, bool]:
    return {
        "allowlist_mode": await account_store.get_setting(
            conn, moderation_store.ALLOWLIST_SETTING) is True,
        "modlog_show_moderators": await account_store.get_setting(
            conn, SHOW_MODERATORS_SETTING) is True,
    }


async def update_settings(ctx: Context, staff: Staff, changes: dict[str, bool]
                          ) -> dict[str, bool]:
    require_admin(staff)
    keys = {"allowlist_mode": moderation_store.ALLOWLIST_SETTING,
            "modlog_show_moderators": SHOW_MODERATORS_SETTING}
    async with ctx.pool.acquire() as conn, conn.transaction():
        for name, value in changes.items():
            await account_store.set_setting(conn, keys[name], value)
        await log(conn, "settings_update", staff=staff, details=dict(changes), public=False)
        return await moderation_settings(conn)



# --- the expiry job -------------------------------------------------------------------------

EXPIRY_INTERVAL = 60.0  # seconds between looks for expired bans


async def start_ban_expiry(ctx: Context, run_workers: bool) -> Callable[[], Awaitable[None]] | None:
    """Startup hook: while workers run, lift expired bans every minute (the ban stops
    counting at its expiry anyway: active_ban reads ``expires_at``; this sends the
    Undo(Block) and writes the modlog)."""
    if not run_workers:
        return None

    async def loop() -> None:
        while True:
            try:
                await lift_expired_bans(ctx)
            except (asyncpg.PostgresError, OSError) as exc:
                log_.warning("lifting expired bans failed: %s", exc)
            await asyncio.sleep(EXPIRY_INTERVAL)

    task = asyncio.create_task(loop())

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
