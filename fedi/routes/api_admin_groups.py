"""Admin API for topic groups: create (moderation features extend this module)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.api_common import (
    BEARER,
    openapi_body,
    openapi_error,
    openapi_json,
    optional_bool,
    optional_str,
    read_json,
    require_str,
)
from fedi.auth import require_admin
from fedi.context import Context
from fedi.forum import groups as group_service
from fedi.routes.api_forum import GROUP_SCHEMA, group_detail
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
    group = await group_service.create_group(
        ctx, name=name, title=title,
        summary=optional_str(body, "summary", max_len=5000) or "",
        rules=optional_str(body, "rules", max_len=5000) or "",
        language=optional_str(body, "language", max_len=12) or "de",
        posting_restricted_to_mods=optional_bool(body, "posting_restricted_to_mods") or False,
        moderators=moderators,
    )
    return JSONResponse(await group_detail(request, group), status_code=201)


routes = [Route("/api/v1/admin/groups", create_group, methods=["POST"])]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/groups": {"post": {
        "summary": "Create a topic group (admins)", "security": BEARER,
        "requestBody": openapi_body({"type": "object", "required": ["name", "title"],
                                     "properties": {
                                         "name": {"type": "string", "pattern": "^[a-z0-9_.-]+$"},
                                         "title": {"type": "string"},
                                         "summary": {"type": "string"},
                                         "rules": {"type": "string"},
                                         "language": {"type": "string"},
                                         "posting_restricted_to_mods": {"type": "boolean"}}}),
        "responses": {"201": openapi_json("the group", GROUP_SCHEMA),
                      "401": openapi_error("not logged in"),
                      "403": openapi_error("not an admin"),
                      "409": openapi_error("name taken"),
                      "422": openapi_error("invalid input")}}},
}
