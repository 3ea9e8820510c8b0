"""Forwarding a report to the reported author's server (issue 20, part 6): a report
about a post in one of our groups whose author lives elsewhere is, when a moderator
chooses, sent to the author's server as Mastodon forwards reports: a ``Flag`` by our
instance actor (the reporter stays anonymous), ``object`` = [the author, the reported
posts], ``content`` = the moderator's comment (else the report's reason), to the
author's inbox. Once per report (``forwarded_to``)."""

from __future__ import annotations

from typing import Any

from fedi.core.actors import instance_actor
from fedi.core.context import Context
from fedi.core.errors import Conflict, NotFound, ValidationFailed
from fedi.federation import moderation_out as out
from fedi.federation.remote import host_of
from fedi.forum.staff import Staff, check_reason, log, require_moderator
from storage import actors as actor_store
from storage import posts as post_store
from storage import reports as report_store
from storage.reports import Report

__all__ = ["forward_report", "may_forward"]


def may_forward(report: Report, target_local: bool | None, group_local: bool | None) -> bool:
    """Whether the page offers forwarding: a report of a remote author in one of our
    groups, not forwarded yet."""
    return (report.forwarded_to is None and target_local is False and group_local is True
            and bool(report.post_ids))


async def forward_report(ctx: Context, staff: Staff, report_id: int, *,
                         comment: Any = None) -> Report:
    comment_text = check_reason(comment)
    site = await instance_actor(ctx)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await report_store.get(conn, report_id)
        if row is None:
            raise NotFound(f"no report {report_id}")
        group = await actor_store.get(conn, row.group_id) if row.group_id else None
        await require_moderator(conn, staff, group if group is not None and group.local
                                else None)
        target = (await actor_store.get(conn, row.target_actor_id)
                  if row.target_actor_id else None)
        if group is None or not group.local or not row.post_ids or target is None:
            raise ValidationFailed("only reports about posts in this instance's groups "
                                   "can be forwarded", field="report")
        if target.local:
            raise Conflict("The author of the reported post is on this instance.",
                           code="author_local")
        if row.forwarded_to is not None:
            raise Conflict("This report was forwarded already.", code="already_forwarded")
        posts = [await post_store.get(conn, post_id) for post_id in row.post_ids]
        flag = out.account_flag_document(ctx, site=site, reported=target,
                                          reason=comment_text or row.reason)
        flag["object"] = [target.ap_id, *(p.ap_id for p in posts if p is not None)]
        forwarded = await report_store.set_forwarded(conn, row.id, host_of(target.ap_id))
        if forwarded is None:
            raise Conflict("This report was forwarded already.", code="already_forwarded")
        await out.send_flag(conn, ctx, reporter=site, flag=flag, recipient=target)
        await log(conn, "report_forward", staff=staff, group=group, target=target,
                  public=False, reason=comment_text,
                  details={"report_id": row.id, "to": forwarded.forwarded_to},
                  activity=flag)
    return forwarded
