"""Admin API for bans (``/api/v1/admin/bans``): ban an actor from a group (its moderators)
or from the instance (admins), list the bans, lift one; with its OpenAPI paths. The
services are in fedi/forum/bans.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.core.times import iso
from fedi.forum import bans
from fedi.forum.staff import check_reason
from fedi.routes.api_admin_common import (
    ID,
    actors_by_id,
    admin_op,
    ctx_of,
    handle_of,
    moderator,
)
from fedi.routes.api_common import (
    optional_bool,
    optional_str,
    page_request,
    page_response,
    path_int,
    read_json,
)
from fedi.routes.api_schemas import PAGE_PARAMETERS, ok, query_param
from storage.actors import Actor
from storage.moderation import Ban


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
        "group": handle_of(actors, ban.group_id),
        "reason": ban.reason,
        "expires_at": iso(ban.expires_at),
        "remove_content": ban.remove_content,
        "created_by": handle_of(actors, ban.created_by),
        "created_at": iso(ban.created_at),
        "lifted_at": iso(ban.lifted_at),
        "ap_id": ban.ap_id,
    }


async def _ban_answer(ctx: Context, ban: Ban, status: int = 200) -> JSONResponse:
    actors = await actors_by_id(ctx, {ban.actor_id, ban.group_id, ban.created_by})
    return JSONResponse(ban_view(ban, actors), status_code=status)


async def create_ban(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    body = await read_json(request)
    actor_ref = optional_str(body, "actor", max_len=2000)
    if not actor_ref:
        raise ValidationFailed("actor is required: a handle name@host or an actor URL",
                               field="actor")
    ban = await bans.ban(
        ctx, who, actor_ref=actor_ref, group_ref=optional_str(body, "group", max_len=2000),
        reason=check_reason(body.get("reason")),
        expires_at=_parse_expiry(body),
        remove_content=optional_bool(body, "remove_content") or False,
    )
    return await _ban_answer(ctx, ban, status=201)


async def delete_ban(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    ban = await bans.unban(ctx, who, path_int(request, "id"))
    return await _ban_answer(ctx, ban)


async def list_bans(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    page = page_request(request, (int,))
    active = request.query_params.get("all") not in ("1", "true")
    rows = await bans.list_bans(ctx, who, limit=page.limit + 1,
                                before_id=page.after[0] if page.after else None,
                                active_only=active)
    ids = {i for b in rows for i in (b.actor_id, b.group_id, b.created_by)}
    actors = await actors_by_id(ctx, ids)
    return JSONResponse(page_response(rows, page, key=lambda b: (b.id,),
                                      render=lambda b: ban_view(b, actors)))


routes = [
    Route("/api/v1/admin/bans", create_ban, methods=["POST"]),
    Route("/api/v1/admin/bans", list_bans, methods=["GET"]),
    Route("/api/v1/admin/bans/{id}", delete_ban, methods=["DELETE"]),
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/bans": {
        "post": admin_op("createBan", "Ban an actor from a group (its moderators) or the "
                                      "instance (admins)",
                         ok_=ok("the ban", "Ban"), status="201", body="BanRequest",
                         errors=("403", "404", "409", "422", "502")),
        "get": admin_op("listBans", "Active bans (?all=true: lifted ones too)",
                        ok_=ok("a page of bans, newest first", "BanPage"),
                        params=[*PAGE_PARAMETERS,
                                query_param("all", "`true` or `1` lists lifted bans too")],
                        errors=("403", "422")),
    },
    "/api/v1/admin/bans/{id}": {"delete": admin_op(
        "liftBan", "Lift a ban", ok_=ok("the lifted ban", "Ban"), params=[ID],
        errors=("403", "404", "409"))},
}
