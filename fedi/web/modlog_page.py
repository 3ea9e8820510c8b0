"""The public moderation log as a page: what the moderators did and why, newest first.

Reads the same rows as ``GET /api/v1/modlog`` (public entries only; moderators' names
only when the instance's setting shows them).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from fedi.errors import NotFound
from fedi.forum import groups as group_service
from fedi.forum import moderation
from fedi.web.common import ctx_of, int_param, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import page
from storage import actors as actor_store
from storage import modlog as modlog_store

ENTRIES_PER_PAGE = 30

# How each action reads on the page (the catalog translates them).
ACTION_LABELS = {
    "post_remove": N_("Post removed"),
    "post_restore": N_("Post restored"),
    "thread_lock": N_("Thread locked"),
    "thread_unlock": N_("Thread unlocked"),
    "thread_pin": N_("Thread pinned"),
    "thread_unpin": N_("Thread unpinned"),
    "ban": N_("Banned"),
    "unban": N_("Ban lifted"),
    "ban_expired": N_("Ban expired"),
    "moderator_add": N_("Moderator appointed"),
    "moderator_remove": N_("Moderator removed"),
    "group_create": N_("Group created"),
    "group_update": N_("Group changed"),
    "group_delete": N_("Group deleted"),
    "domain_block": N_("Domain blocked"),
    "domain_unblock": N_("Domain unblocked"),
    "domain_allow": N_("Domain allowed"),
    "domain_disallow": N_("Domain no longer allowed"),
    "account_suspend": N_("Account suspended"),
    "account_unsuspend": N_("Account reinstated"),
}


@web_endpoint
async def modlog(request: Request) -> Response:
    """GET /modlog?group=name&before=<id>"""
    ctx = ctx_of(request)
    before = int_param(request.query_params.get("before"))
    ref = request.query_params.get("group", "").strip()
    group = None
    async with ctx.pool.acquire() as conn:
        if ref:
            name, host = group_service.split_ref(ref, ctx.settings.host)
            group = await actor_store.by_handle(conn, name, host, "Group")
            if group is None or group.type != "Group":
                raise NotFound("This group does not exist here.")
        show_moderators = (await moderation.moderation_settings(conn))[
            "modlog_show_moderators"]
        rows = await modlog_store.page(conn, limit=ENTRIES_PER_PAGE + 1,
                                       group_id=group.id if group else None,
                                       before_id=before)
    suffix = f"&group={quote(group.handle, safe='@')}" if group else ""
    older = None
    if len(rows) > ENTRIES_PER_PAGE:
        rows = rows[:ENTRIES_PER_PAGE]
        older = f"/modlog?before={rows[-1].id}{suffix}"
    return await page(request, "modlog.html", {
        "entries": rows, "group": group, "labels": ACTION_LABELS,
        "show_moderators": show_moderators, "older": older,
        "newest": ("/modlog" + ("?" + suffix[1:] if suffix else "")) if before else None,
    })
