"""The public moderation log (``GET /api/v1/modlog``, and per group as an ActivityPub
OrderedCollection at ``/groups/{name}/modlog``), the admins' full log, and reports by
users (``POST /api/v1/reports``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import Gone, NotFound, ValidationFailed
from fedi.core.times import iso
from fedi.federation.collections import collection_or_page
from fedi.forum import reports
from fedi.forum.domains import moderation_settings
from fedi.forum.staff import check_reason, require_admin, staff_of
from fedi.routes.api_admin_reports import render_report
from fedi.routes.api_common import (
    optional_int,
    optional_str,
    page_request,
    page_response,
    read_json,
)
from fedi.routes.api_modlog_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.auth import require_account
from fedi.routes.negotiation import activity_response
from storage import actors as actor_store
from storage import modlog as modlog_store
from storage.modlog import EntryView

# How a modlog action reads as ActivityStreams (the activity that carries it).
AS_TYPES = {
    "post_remove": "Delete", "post_restore": "Undo", "thread_lock": "Lock",
    "thread_unlock": "Undo", "thread_pin": "Add", "thread_unpin": "Remove", "ban": "Block",
    "unban": "Undo", "ban_expired": "Undo", "moderator_add": "Add",
    "moderator_remove": "Remove", "group_create": "Create", "group_update": "Update",
    "group_delete": "Delete", "group_move": "Move",
}


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def entry_view(entry: EntryView, *, show_moderators: bool) -> dict[str, Any]:
    return {
        "id": entry.id,
        "action": entry.action,
        "created_at": iso(entry.created_at),
        "reason": entry.reason,
        "group": entry.group_handle,
        "moderator": entry.moderator_handle if show_moderators else None,
        "remote": entry.remote,
        "target": {
            "actor": entry.target_actor_handle,
            "post_id": entry.target_post_id,
            "post_title": entry.target_post_title,
            "domain": entry.target_domain,
        },
        "details": entry.details,
        "ap_id": entry.ap_id,
    }


async def _log_page(request: Request, *, include_private: bool,
                    show_moderators: bool | None) -> JSONResponse:
    ctx = _ctx(request)
    page = page_request(request, (int,))
    group_id = None
    group_name = request.query_params.get("group")
    async with ctx.pool.acquire() as conn:
        if group_name:
            name, _, host = group_name.lstrip("!").partition("@")
            group = await actor_store.by_handle(conn, name, (host or ctx.settings.host).lower())
            if group is None or group.type != "Group":
                raise NotFound(f"no group {group_name!r} is known here")
            group_id = group.id
        if show_moderators is None:
            show_moderators = (await moderation_settings(conn))[
                "modlog_show_moderators"]
        rows = await modlog_store.page(conn, limit=page.limit + 1, group_id=group_id,
                                       include_private=include_private,
                                       before_id=page.after[0] if page.after else None)
    shown = show_moderators
    return JSONResponse(page_response(rows, page, key=lambda e: (e.id,),
                                      render=lambda e: entry_view(e, show_moderators=shown)))


async def public_modlog(request: Request) -> JSONResponse:
    """Public moderation actions, newest first (``?group=name`` for one group)."""
    return await _log_page(request, include_private=False, show_moderators=None)


async def admin_modlog(request: Request) -> JSONResponse:
    """Every action, with moderators' names, for admins."""
    who = await staff_of(_ctx(request), await require_account(request))
    require_admin(who)
    return await _log_page(request, include_private=True, show_moderators=True)


async def create_report(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    account = await require_account(request)
    who = await staff_of(ctx, account)
    body = await read_json(request)
    post_id = optional_int(body, "post_id", minimum=1, maximum=2**63 - 1)
    actor_ref = optional_str(body, "actor", max_len=2000) or None
    reason = check_reason(body.get("reason"), required=True)
    if post_id is None and actor_ref is None:
        raise ValidationFailed("give post_id or actor", field="post_id")
    report = await reports.report(ctx, who.actor, post_id=post_id, actor_ref=actor_ref,
                                  reason=reason)
    return await render_report(ctx, report, status=201)


# --- ActivityPub -------------------------------------------------------------------------------

def modlog_item(entry: EntryView, *, collection: str, group_ap_id: str,
                show_moderators: bool) -> dict[str, Any]:
    """One entry as the activity it stands for (not fetchable on its own: a fragment of
    the collection)."""
    item: dict[str, Any] = {
        "id": f"{collection}#{entry.id}",
        "type": AS_TYPES.get(entry.action, "Activity"),
        "name": entry.action,
        "actor": (entry.moderator_ap_id if show_moderators and entry.moderator_ap_id
                  else group_ap_id),
        "object": entry.target_post_ap_id or entry.target_actor_ap_id or group_ap_id,
        "published": iso(entry.created_at),
        "audience": group_ap_id,
    }
    if entry.reason:
        item["summary"] = entry.reason
    if entry.action == "ban":
        item["target"] = group_ap_id
        expires = entry.details.get("expires_at")
        if expires:
            item["endTime"] = item["expires"] = expires
    if entry.ap_id:
        item["url"] = entry.ap_id  # the activity that was sent for it
    return item


async def group_modlog_collection(request: Request) -> Response:
    """``/groups/{name}/modlog``: the group's public modlog, newest first."""
    ctx = _ctx(request)
    name = request.path_params["name"]
    async with ctx.pool.acquire() as conn:
        group = await actor_store.by_ap_id(conn, ctx.url(f"/groups/{name}"))
        if group is None or not group.local or group.type != "Group":
            raise NotFound(f"no group named {name!r} here")
        if group.deleted_at is not None:
            raise Gone(f"{name} has been deleted")
        show = (await moderation_settings(conn))["modlog_show_moderators"]
        total = await modlog_store.count(conn, group_id=group.id)
        url = f"{group.ap_id}/modlog"

        async def fetch(before: int | None, after: int | None,
                        limit: int) -> Sequence[tuple[int, Any]]:
            rows = await modlog_store.page(conn, limit=limit, group_id=group.id,
                                           before_id=before, after_id=after)
            return [(e.id, modlog_item(e, collection=url, group_ap_id=group.ap_id,
                                       show_moderators=show)) for e in rows]

        document = await collection_or_page(
            url, request.query_params.get("page"), fetch, total=total, newest_first=True,
            extra={"attributedTo": group.ap_id,
                   "summary": f"Moderation log of {group.name or group.username}"})
    return activity_response(document)


routes = [
    Route("/api/v1/modlog", public_modlog, methods=["GET"]),
    Route("/api/v1/admin/modlog", admin_modlog, methods=["GET"]),
    Route("/api/v1/reports", create_report, methods=["POST"]),
]
