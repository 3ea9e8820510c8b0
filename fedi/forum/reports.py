"""Reports: a local user's report of a post or a person, and the moderators' queue of
them (list, assign, resolve).

Reports from other servers arrive as ``Flag`` activities (fedi/inbound/); a report here
about something on another server is forwarded there as a Flag, and a remote reporter's
server hears of the resolution as Lemmy's ``Resolve``. Each moderator sees the reports of
the groups they moderate (admins: all), as fedi/forum/staff.py decides.
"""

from __future__ import annotations

from typing import Any

from fedi.core.actors import instance_actor
from fedi.core.context import Context
from fedi.core.errors import Conflict, NotFound, ValidationFailed
from fedi.federation import moderation_out as out
from fedi.federation import remote
from fedi.forum import policy
from fedi.forum.policy import Action
from fedi.forum.staff import (
    Staff,
    find_actor,
    log,
    may_moderate_something,
    post_in_group,
    require_moderator,
)
from storage import accounts as account_store
from storage import actors as actor_store
from storage import groups as group_store
from storage import notification_events
from storage import posts as post_store
from storage import reports as report_store
from storage.actors import Actor
from storage.reports import Report


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
            post, group = await post_in_group(conn, post_id)
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
        await policy.require(conn, Action.REPORT, reporter, group=group)
        row = await report_store.insert(
            conn, remote=False, reporter_id=reporter.id,
            target_actor_id=target.id if target else None,
            post_ids=[post.id] if post else [], group_id=group.id if group else None,
            reason=reason, ap_id=flag["id"] if flag else None,
            forwarded_to=remote.host_of(recipient.ap_id) if flag and recipient else None)
        assert row is not None
        await notification_events.enqueue_event(conn, "report", {"report_id": row.id})
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
