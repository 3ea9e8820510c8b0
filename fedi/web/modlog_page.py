"""Who moderates and what they did, for everyone: the public moderation log (/modlog,
filtered by group and action with a plain GET form) and a group's moderators.

Reads the same rows as ``GET /api/v1/modlog`` (public entries only; moderators' names
only when the instance's setting shows them). Browsers asking for the ActivityPub
collections /groups/{name}/modlog and /groups/{name}/moderators get these pages too
(kinds "modlog" and "moderators" in ``app.state.html_pages``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import NotFound, ValidationFailed
from fedi.forum import groups as group_service
from fedi.forum.domains import moderation_settings
from fedi.routes.negotiation import HtmlPage
from fedi.web.common import ctx_of, int_param, row_page, web_endpoint
from fedi.web.messages import N_
from fedi.web.pages import group_path
from fedi.web.render import page
from storage import actors as actor_store
from storage import groups as group_store
from storage import modlog as modlog_store
from storage.actors import Actor
from storage.modlog import EntryView

ENTRIES_PER_PAGE = 30

# How each action reads on the page (the catalog translates them).
ACTION_LABELS = {
    "post_remove": N_("Post removed"),
    "post_restore": N_("Post restored"),
    "thread_lock": N_("Thread locked"),
    "thread_unlock": N_("Thread unlocked"),
    "thread_pin": N_("Thread pinned"),
    "thread_unpin": N_("Thread unpinned"),
    "answer_accept": N_("Accepted answer chosen"),
    "answer_withdraw": N_("Accepted answer withdrawn"),
    "answer_highlight": N_("Answer highlighted as official"),
    "answer_unhighlight": N_("Official highlight removed"),
    "ban": N_("Banned"),
    "unban": N_("Ban lifted"),
    "ban_expired": N_("Ban expired"),
    "moderator_add": N_("Moderator appointed"),
    "moderator_remove": N_("Moderator removed"),
    "group_create": N_("Group created"),
    "group_update": N_("Group changed"),
    "group_delete": N_("Group deleted"),
    "group_move": N_("Group moved"),
    "domain_block": N_("Domain blocked"),
    "domain_unblock": N_("Domain unblocked"),
    "domain_allow": N_("Domain allowed"),
    "domain_disallow": N_("Domain no longer allowed"),
    "account_suspend": N_("Account suspended"),
    "account_unsuspend": N_("Account reinstated"),
    "official_set": N_("Marked as an official account"),
    "official_withdraw": N_("Official position withdrawn"),
    "terms_publish": N_("Terms of use or privacy policy changed"),
    "legal_publish": N_("Legal notice, accessibility statement or rules changed"),
    "feedback_delete": N_("Accessibility feedback deleted"),
    "instance_settings_update": N_("Instance settings changed"),
    "registration_update": N_("Registration settings changed"),
}


UNKNOWN_ACTION = N_("This action does not exist.")


@web_endpoint
async def modlog(request: Request) -> Response:
    """GET /modlog?group=<name or name@host>&action=<action>&before=<id>"""
    ctx = ctx_of(request)
    ref = request.query_params.get("group", "").strip()
    group = None
    if ref:
        name, host = group_service.split_ref(ref, ctx.settings.host)
        async with ctx.pool.acquire() as conn:
            group = await actor_store.by_handle(conn, name, host, "Group")
        if group is None or group.type != "Group":
            raise NotFound("This group does not exist here.")
    return await modlog_page(request, group)


async def modlog_page(request: Request, group: Actor | None) -> Response:
    """The log, newest first, of one group or all; the action filter from the query."""
    ctx = ctx_of(request)
    action = request.query_params.get("action", "").strip() or None
    if action is not None and action not in ACTION_LABELS:
        raise ValidationFailed(UNKNOWN_ACTION, field="action")
    before = int_param(request.query_params.get("before"))
    async with ctx.pool.acquire() as conn:
        show_moderators = (await moderation_settings(conn))[
            "modlog_show_moderators"]
        rows = await modlog_store.page(conn, limit=ENTRIES_PER_PAGE + 1,
                                       group_id=group.id if group else None,
                                       action=action, before_id=before)
        groups = await group_store.list_groups(conn)
    filters = {"group": group_ref(group) if group else "", "action": action or ""}
    older = None
    if len(rows) > ENTRIES_PER_PAGE:
        rows = rows[:ENTRIES_PER_PAGE]
        older = _modlog_url({**filters, "before": str(rows[-1].id)})
    return await page(request, "modlog.html", {
        "entries": rows, "group": group, "labels": ACTION_LABELS,
        "show_moderators": show_moderators, "older": older,
        "newest": _modlog_url(filters) if before else None,
        "groups": [(group_ref(g), _group_label(g)) for g in groups],
        "filters": filters, "filtered": bool(group or action),
        "entry_group_path": entry_group_path,
    })


def group_ref(group: Actor) -> str:
    """How the filter names a group: the name for ours, name@host for others."""
    return group.username if group.local else group.handle


def _group_label(group: Actor) -> str:
    title = group.name or group.username
    return title if group.local else f"{title} ({group.handle})"


def _modlog_url(params: dict[str, str]) -> str:
    query = urlencode({k: v for k, v in params.items() if v}, safe="@")
    return "/modlog" + (f"?{query}" if query else "")


def entry_group_path(entry: EntryView) -> str | None:
    """The page of the entry's group: ours at /groups/name, others' at /g/name@host."""
    if entry.group_username is None:
        return None
    if entry.group_local:
        return f"/groups/{entry.group_username}"
    return f"/g/{entry.group_handle}"


# Moderators of a group --------------------------------------------------------------------

async def moderators_page(request: Request, group: Actor) -> Response:
    """The people who moderate a group (ours or one we know), with links to them."""
    async with ctx_of(request).pool.acquire() as conn:
        people = await group_store.moderators(conn, group.id)
    return await page(request, "moderators.html", {
        "group": group, "path": group_path(group), "moderators": people,
        "modlog_url": group_modlog_url(group),
    })


def group_modlog_url(group: Actor) -> str:
    return f"/groups/{group.username}/modlog" if group.local else _modlog_url(
        {"group": group.handle})


HTML_PAGES: dict[str, HtmlPage] = {
    "modlog": row_page(modlog_page),
    "moderators": row_page(moderators_page),
}
