"""Admin API for groups that move to another instance (FEP-7628; the service is
fedi/forum/group_move.py): the target's aliases, then the move itself."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.forum import group_move
from fedi.routes.api_admin_common import admin, ctx_of
from fedi.routes.api_admin_group_move_spec import OPENAPI_PATHS as OPENAPI_PATHS  # spec
from fedi.routes.api_common import read_json, require_str
from storage.actors import Actor


def _view(group: Actor) -> dict[str, object]:
    return {"group": group.ap_id, "also_known_as": list(group.also_known_as),
            "moved_to": group.moved_to}


async def list_aliases(request: Request) -> JSONResponse:
    who = await admin(request)
    ctx = ctx_of(request)
    name = request.path_params["name"]
    await group_move.aliases(ctx, who, name)
    return JSONResponse(_view(await group_move.local_group(ctx, name)))


async def add_alias(request: Request) -> JSONResponse:
    who = await admin(request)  # before the body: no field errors for others
    body = await read_json(request)
    group = await group_move.add_alias(ctx_of(request), who, request.path_params["name"],
                                       require_str(body, "actor", max_len=300))
    return JSONResponse(_view(group))


async def remove_alias(request: Request) -> JSONResponse:
    who = await admin(request)
    group = await group_move.remove_alias(ctx_of(request), who, request.path_params["name"],
                                          unquote(request.path_params["actor"]))
    return JSONResponse(_view(group))


async def move(request: Request) -> JSONResponse:
    who = await admin(request)
    body = await read_json(request)
    group = await group_move.move_group(ctx_of(request), who, request.path_params["name"],
                                        require_str(body, "target", max_len=300))
    return JSONResponse(_view(group))


routes = [
    Route("/api/v1/admin/groups/{name}/aliases", list_aliases, methods=["GET"]),
    Route("/api/v1/admin/groups/{name}/aliases", add_alias, methods=["POST"]),
    Route("/api/v1/admin/groups/{name}/aliases/{actor:path}", remove_alias,
          methods=["DELETE"]),
    Route("/api/v1/admin/groups/{name}/move", move, methods=["POST"]),
]
