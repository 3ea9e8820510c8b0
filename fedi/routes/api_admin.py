"""Admin API (``/api/v1/admin/``) for moderators and admins: posts (remove, restore,
lock, pin), bans, reports, domains, instances, parked inbound activities, accounts and
moderation settings. Groups are in api_admin_groups.py. The rules of who may do what
live in fedi/forum/moderation.py; this module reads requests and renders answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.federation.documents import iso
from fedi.forum import moderation
from fedi.forum.moderation import Staff
from fedi.forum.views import post_view
from fedi.routes.api_admin_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.api_common import (
    optional_bool,
    optional_str,
    page_request,
    page_response,
    path_int,
    read_json,
)
from fedi.routes.auth import require_account
from storage import actors as actor_store
from storage import inbox as inbox_store
from storage import moderation as moderation_store
from storage.actors import Actor
from storage.moderation import Ban
from storage.posts import Post
from storage.reports import Report


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def staff(request: Request) -> Staff:
    """The calling account (401 when anonymous); the services check its role."""
    return await moderation.staff_of(_ctx(request), await require_account(request))


# Every handler calls one of these two before it reads the path, query or body: a caller
# without the role gets 401/403, never field errors that describe the route.

async def admin(request: Request) -> Staff:
    """The calling administrator: 401 when anonymous, 403 for any other account."""
    who = await staff(request)
    moderation.require_admin(who)
    return who


async def moderator(request: Request) -> Staff:
    """The caller if it is an administrator or moderates some group (403 otherwise); the
    services then check the group concerned."""
    who = await staff(request)
    async with _ctx(request).pool.acquire() as conn:
        await moderation.may_moderate_something(conn, who)
    return who


async def optional_body(request: Request) -> dict[str, Any]:
    """A JSON object body, or {} when the request has none (POST .../lock)."""
    if request.headers.get("content-length", "0") in ("", "0") and (
            "transfer-encoding" not in request.headers):
        return {}
    return await read_json(request)


async def _actors(ctx: Context, ids: set[int | None]) -> dict[int, Actor]:
    wanted = [i for i in ids if i is not None]
    found: dict[int, Actor] = {}
    async with ctx.pool.acquire() as conn:
        for actor_id in wanted:
            actor = await actor_store.get(conn, actor_id)
            if actor is not None:
                found[actor_id] = actor
    return found


def _handle(actors: dict[int, Actor], actor_id: int | None) -> str | None:
    actor = actors.get(actor_id) if actor_id is not None else None
    return actor.handle if actor else None


# --- posts --------------------------------------------------------------------------------

async def _post_answer(ctx: Context, post: Post) -> JSONResponse:
    actors = await _actors(ctx, {post.author_id, post.group_id})
    view = post_view(post, actors=actors)
    # Moderators see what was removed and why (the public sees neither).
    view["content"] = post.content_html
    view["removed_reason"] = post.removed_reason
    return JSONResponse(view)


def _post_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        ctx = _ctx(request)
        who = await moderator(request)
        post_id = path_int(request, "id")
        body = await optional_body(request)
        required = action == "remove"
        reason = moderation.check_reason(body.get("reason"), required=required)
        if action in ("remove", "restore"):
            service = moderation.remove_post if action == "remove" else moderation.restore_post
            post = await service(ctx, who, post_id, reason=reason)
        elif action in ("lock", "unlock"):
            post = await moderation.lock_thread(ctx, who, post_id, locked=action == "lock",
                                                reason=reason)
        else:
            post = await moderation.pin_thread(ctx, who, post_id, pinned=action == "pin",
                                               reason=reason)
        return await _post_answer(ctx, post)

    return endpoint


# --- bans ---------------------------------------------------------------------------------

def _parse_expiry(body: dict[str, Any]) -> datetime | None:
    raw = optional_str(body, "expires_at", max_len=64)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("expires_at must be an ISO 8601 date and time",
                               field="expires_at") from None
    if value.tzinfo is None:
        raise ValidationFailed("expires_at needs a time zone (e.g. Z or +02:00)",
                               field="expires_at")
    return value


def ban_view(ban: Ban, actors: dict[int, Actor]) -> dict[str, Any]:
    target = actors.get(ban.actor_id)
    return {
        "id": ban.id,
        "actor": target.handle if target else None,
        "actor_ap_id": target.ap_id if target else None,
        "group": _handle(actors, ban.group_id),
        "reason": ban.reason,
        "expires_at": iso(ban.expires_at),
        "remove_content": ban.remove_content,
        "created_by": _handle(actors, ban.created_by),
        "created_at": iso(ban.created_at),
        "lifted_at": iso(ban.lifted_at),
        "ap_id": ban.ap_id,
    }


async def _ban_answer(ctx: Context, ban: Ban, status: int = 200) -> JSONResponse:
    actors = await _actors(ctx, {ban.actor_id, ban.group_id, ban.created_by})
    return JSONResponse(ban_view(ban, actors), status_code=status)


async def create_ban(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await moderator(request)
    body = await read_json(request)
    actor_ref = optional_str(body, "actor", max_len=2000)
    if not actor_ref:
        raise ValidationFailed("actor is required: a handle name@host or an actor URL",
                               field="actor")
    ban = await moderation.ban(
        ctx, who, actor_ref=actor_ref, group_ref=optional_str(body, "group", max_len=2000),
        reason=moderation.check_reason(body.get("reason")),
        expires_at=_parse_expiry(body),
        remove_content=optional_bool(body, "remove_content") or False,
    )
    return await _ban_answer(ctx, ban, status=201)


async def delete_ban(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await moderator(request)
    ban = await moderation.unban(ctx, who, path_int(request, "id"))
    return await _ban_answer(ctx, ban)


async def list_bans(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await moderator(request)
    page = page_request(request, (int,))
    active = request.query_params.get("all") not in ("1", "true")
    rows = await moderation.list_bans(ctx, who, limit=page.limit + 1,
                                      before_id=page.after[0] if page.after else None,
                                      active_only=active)
    ids = {i for b in rows for i in (b.actor_id, b.group_id, b.created_by)}
    actors = await _actors(ctx, ids)
    return JSONResponse(page_response(rows, page, key=lambda b: (b.id,),
                                      render=lambda b: ban_view(b, actors)))


# --- reports ------------------------------------------------------------------------------

def report_view(report: Report, actors: dict[int, Actor]) -> dict[str, Any]:
    return {
        "id": report.id,
        "state": report.state,
        "remote": report.remote,
        "reporter": _handle(actors, report.reporter_id),
        "actor": _handle(actors, report.target_actor_id),
        "post_ids": report.post_ids,
        "group": _handle(actors, report.group_id),
        "reason": report.reason,
        "assigned_to": _handle(actors, report.assigned_to),
        "resolved_by": _handle(actors, report.resolved_by),
        "resolved_at": iso(report.resolved_at),
        "resolution": report.resolution,
        "forwarded_to": report.forwarded_to,
        "ap_id": report.ap_id,
        "created_at": iso(report.created_at),
    }


async def render_report(ctx: Context, report: Report, status: int = 200) -> JSONResponse:
    actors = await _actors(ctx, {report.reporter_id, report.target_actor_id, report.group_id,
                                 report.assigned_to, report.resolved_by})
    return JSONResponse(report_view(report, actors), status_code=status)


async def list_reports(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await moderator(request)
    page = page_request(request, (int,))
    state = request.query_params.get("state", "open")
    if state not in ("open", "resolved", "all"):
        raise ValidationFailed("state must be open, resolved or all", field="state")
    rows = await moderation.list_reports(
        ctx, who, state=None if state == "all" else state, limit=page.limit + 1,
        before_id=page.after[0] if page.after else None)
    ids = {i for r in rows for i in (r.reporter_id, r.target_actor_id, r.group_id,
                                     r.assigned_to, r.resolved_by)}
    actors = await _actors(ctx, ids)
    return JSONResponse(page_response(rows, page, key=lambda r: (r.id,),
                                      render=lambda r: report_view(r, actors)))


async def assign_report(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await moderator(request)
    body = await optional_body(request)
    report = await moderation.assign_report(
        ctx, who, path_int(request, "id"),
        assignee_ref=optional_str(body, "assignee", max_len=200))
    return await render_report(ctx, report)


async def resolve_report(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await moderator(request)
    body = await optional_body(request)
    text = optional_str(body, "resolution", max_len=moderation.REASON_MAX)
    if text is None:
        text = moderation.check_reason(body.get("reason"))
    report = await moderation.resolve_report(ctx, who, path_int(request, "id"),
                                             resolution=text)
    return await render_report(ctx, report)


# --- domains, instances, parked activities ---------------------------------------------------

async def put_domain(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await admin(request)
    body = await read_json(request)
    blocked = optional_bool(body, "blocked")
    allowed = optional_bool(body, "allowed")
    if blocked is None and allowed is None:
        raise ValidationFailed("give blocked (true/false) and/or allowed (true/false)",
                               field="blocked")
    state = await moderation.set_domain(ctx, who, request.path_params["domain"],
                                        blocked=blocked, allowed=allowed,
                                        reason=moderation.check_reason(body.get("reason")))
    return JSONResponse(state)


async def delete_domain(request: Request) -> Response:
    await moderation.forget_domain(_ctx(request), await staff(request),
                                   request.path_params["domain"])
    return Response(status_code=204)


async def list_domains(request: Request) -> JSONResponse:
    items = await moderation.list_domains(_ctx(request), await staff(request))
    return JSONResponse({"items": items, "next": None})


async def list_instances(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    moderation.require_admin(await staff(request))
    page = page_request(request, (str,), default_limit=50, max_limit=200)
    async with ctx.pool.acquire() as conn:
        rows = await moderation_store.instances_overview(
            conn, limit=page.limit + 1, after_domain=page.after[0] if page.after else None)
    return JSONResponse(page_response(rows, page, key=lambda i: (i.domain,), render=lambda i: {
        "domain": i.domain, "software": i.software, "software_version": i.software_version,
        "blocked": i.blocked, "actors": i.actors,
        "deliveries": {"queued": i.queued, "failed": i.failed, "delivered": i.delivered,
                       "cancelled": i.cancelled},
        "failing_since": iso(i.failing_since), "last_success_at": iso(i.last_success_at),
        "unavailable": i.unavailable,
    }))


def _instance_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        changed = await moderation.instance_action(
            _ctx(request), await staff(request), request.path_params["domain"], action)
        return JSONResponse({"domain": request.path_params["domain"].lower(),
                             "action": action, "changed": changed})

    return endpoint


async def list_parked(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    moderation.require_admin(await staff(request))
    page = page_request(request, (int,))
    async with ctx.pool.acquire() as conn:
        rows = await inbox_store.parked(conn, limit=page.limit + 1,
                                        before_id=page.after[0] if page.after else None)
    return JSONResponse(page_response(rows, page, key=lambda r: (r.id,), render=lambda r: {
        "id": r.id, "ap_id": r.ap_id, "type": r.type, "actor": r.actor_ap_id,
        "attempts": r.attempts, "error": r.last_error, "received_at": iso(r.received_at),
        "activity": r.payload,
    }))


async def retry_parked(request: Request) -> Response:
    await moderation.parked_action(_ctx(request), await staff(request),
                                   path_int(request, "id"), "retry")
    return Response(status_code=204)


async def discard_parked(request: Request) -> Response:
    await moderation.parked_action(_ctx(request), await staff(request),
                                   path_int(request, "id"), "discard")
    return Response(status_code=204)


# --- accounts and settings --------------------------------------------------------------------

def _account_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        who = await admin(request)
        body = await optional_body(request)
        account = await moderation.account_action(
            _ctx(request), who, request.path_params["name"], action,
            reason=moderation.check_reason(body.get("reason")))
        return JSONResponse({"id": account.id, "username": account.username,
                             "status": account.status, "role": account.role})

    return endpoint


async def list_accounts(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    moderation.require_admin(await staff(request))
    status = request.query_params.get("status")
    if status is not None and status not in ("active", "pending", "rejected", "suspended"):
        raise ValidationFailed("status must be active, pending, rejected or suspended",
                               field="status")
    from storage import accounts as account_store

    async with ctx.pool.acquire() as conn:
        accounts = await account_store.list_all(conn)
    return JSONResponse({"items": [
        {"id": a.id, "username": a.username, "status": a.status, "role": a.role,
         "registration_reason": a.registration_reason, "created_at": iso(a.created_at)}
        for a in accounts if status is None or a.status == status], "next": None})


async def settings(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    who = await admin(request)
    if request.method == "GET":
        async with ctx.pool.acquire() as conn:
            return JSONResponse(await moderation.moderation_settings(conn))
    body = await read_json(request)
    changes = {name: value for name in ("allowlist_mode", "modlog_show_moderators")
               if (value := optional_bool(body, name)) is not None}
    if not changes:
        raise ValidationFailed("give allowlist_mode and/or modlog_show_moderators",
                               field="allowlist_mode")
    return JSONResponse(await moderation.update_settings(ctx, who, changes))


_POST_ACTIONS = ("remove", "restore", "lock", "unlock", "pin", "unpin")

routes = [
    *[Route(f"/api/v1/admin/posts/{{id}}/{action}", _post_action(action), methods=["POST"])
      for action in _POST_ACTIONS],
    Route("/api/v1/admin/bans", create_ban, methods=["POST"]),
    Route("/api/v1/admin/bans", list_bans, methods=["GET"]),
    Route("/api/v1/admin/bans/{id}", delete_ban, methods=["DELETE"]),
    Route("/api/v1/admin/reports", list_reports, methods=["GET"]),
    Route("/api/v1/admin/reports/{id}/assign", assign_report, methods=["POST"]),
    Route("/api/v1/admin/reports/{id}/resolve", resolve_report, methods=["POST"]),
    Route("/api/v1/admin/domains", list_domains, methods=["GET"]),
    Route("/api/v1/admin/domains/{domain}", put_domain, methods=["PUT"]),
    Route("/api/v1/admin/domains/{domain}", delete_domain, methods=["DELETE"]),
    Route("/api/v1/admin/instances", list_instances, methods=["GET"]),
    Route("/api/v1/admin/instances/{domain}/reset", _instance_action("reset"),
          methods=["POST"]),
    Route("/api/v1/admin/instances/{domain}/retry", _instance_action("retry"),
          methods=["POST"]),
    Route("/api/v1/admin/inbox/parked", list_parked, methods=["GET"]),
    Route("/api/v1/admin/inbox/parked/{id}/retry", retry_parked, methods=["POST"]),
    Route("/api/v1/admin/inbox/parked/{id}", discard_parked, methods=["DELETE"]),
    Route("/api/v1/admin/accounts", list_accounts, methods=["GET"]),
    *[Route(f"/api/v1/admin/accounts/{{name}}/{action}", _account_action(action),
            methods=["POST"]) for action in moderation.ACCOUNT_ACTIONS],
    Route("/api/v1/admin/settings/moderation", settings, methods=["GET", "PUT"]),
]
