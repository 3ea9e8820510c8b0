"""Admin API for topic groups: create, edit, delete, and appoint or remove moderators
(local or remote actors; federated as Add/Remove to the moderators collection)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import groups
from fedi.forum.staff import check_reason, staff_of
from fedi.forum.views import actor_view
from fedi.routes.api_admin_common import admin, optional_body, staff
from fedi.routes.api_admin_common import moderator as moderator_caller
from fedi.routes.api_admin_groups_spec import OPENAPI_PATHS as OPENAPI_PATHS  # spec
from fedi.routes.api_common import (
    optional_bool,
    optional_str,
    read_json,
    require_str,
)
from fedi.routes.api_forum import group_detail
from fedi.routes.auth import require_admin
from storage import actors as actor_store


async def create_group(request: Request) -> JSONResponse:
    account = await require_admin(request)
    ctx: Context = request.app.state.ctx
    body = await read_json(request)
    name = require_str(body, "name", max_len=30)
    title = require_str(body, "title", max_len=100)
    moderators = []
    async with ctx.pool.acquire() as conn:
        creator = await actor_store.get(conn, account.actor_id)
    if creator is not None:
        moderators.append(creator)
    group = await groups.create_group(
        ctx, await staff_of(ctx, account), name=name, title=title,
        summary=optional_str(body, "summary", max_len=5000) or "",
        rules=optional_str(body, "rules", max_len=5000) or "",
        language=optional_str(body, "language", max_len=12) or "de",
        posting_restricted_to_mods=optional_bool(body, "posting_restricted_to_mods") or False,
        moderators=moderators, default_kind=optional_str(body, "default_kind", max_len=20),
    )
    return JSONResponse(await group_detail(request, group), status_code=201)


async def edit_group(request: Request) -> JSONResponse:
    """Group moderators and admins edit a group (Update(Group) to its followers)."""
    who = await moderator_caller(request)  # before the body: no field errors for others
    body = await read_json(request)
    group = await groups.update_group(request.app.state.ctx, who,
                                      request.path_params["name"], body)
    return JSONResponse(await group_detail(request, group))


async def delete_group(request: Request) -> Response:
    who = await admin(request)  # before the body: no field errors for others
    body = await optional_body(request)
    await groups.delete_group(request.app.state.ctx, who, request.path_params["name"],
                              reason=check_reason(body.get("reason")))
    return Response(status_code=204)


async def moderator(request: Request) -> JSONResponse:
    """PUT appoints, DELETE removes; ``{actor}`` is name@host or a URL-encoded actor URL."""
    who = await staff(request)
    mods = await groups.set_moderator(
        request.app.state.ctx, who, request.path_params["name"],
        request.path_params["actor"], appoint=request.method == "PUT")
    return JSONResponse({"moderators": [actor_view(m) for m in mods]})


routes = [
    Route("/api/v1/admin/groups", create_group, methods=["POST"]),
    Route("/api/v1/admin/groups/{name}", edit_group, methods=["PATCH"]),
    Route("/api/v1/admin/groups/{name}", delete_group, methods=["DELETE"]),
    Route("/api/v1/admin/groups/{name}/moderators/{actor:path}", moderator,
          methods=["PUT", "DELETE"]),
]
