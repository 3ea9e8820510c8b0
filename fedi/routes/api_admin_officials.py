"""Admin API for official accounts (``/api/v1/admin/accounts/{name}/official``, admins
only): mark an account as an official voice with its position, or withdraw it; with its
OpenAPI paths. The service is fedi/forum/officials.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.forum.officials import POSITION_MAX, set_official, withdraw_official
from fedi.forum.staff import check_reason
from fedi.forum.views import actor_view
from fedi.routes.api_admin_common import (
    ADMINS_ONLY,
    NAME,
    admin,
    admin_op,
    ctx_of,
    optional_body,
)
from fedi.routes.api_common import read_json
from fedi.routes.api_schemas import REASON, define, obj, ok

define("OfficialRequest", obj({
    "position": {"type": "string", "minLength": 1, "maxLength": POSITION_MAX,
                 "description": "the office, e.g. Bürgermeisterin der Gemeinde Musterstadt"},
    "reason": REASON,
}, optional=["reason"]))

_PATH = "/api/v1/admin/accounts/{name}/official"


async def put_official(request: Request) -> JSONResponse:
    who = await admin(request)
    body = await read_json(request)
    actor = await set_official(ctx_of(request), who, request.path_params["name"],
                               body.get("position"), reason=check_reason(body.get("reason")))
    return JSONResponse(actor_view(actor))


async def delete_official(request: Request) -> JSONResponse:
    who = await admin(request)
    body = await optional_body(request)
    actor = await withdraw_official(ctx_of(request), who, request.path_params["name"],
                                    reason=check_reason(body.get("reason")))
    return JSONResponse(actor_view(actor))


routes = [
    Route(_PATH, put_official, methods=["PUT"]),
    Route(_PATH, delete_official, methods=["DELETE"]),
]

OPENAPI_PATHS: dict[str, Any] = {_PATH: {
    "put": admin_op(
        "setOfficial", "Mark a local account as an official voice with its position "
                       "(admins; written to the modlog, federated as Update)",
        ok_=ok("the account's actor with its badge", "Actor"), body="OfficialRequest",
        params=[NAME], errors=("403", "404", "422"), texts=ADMINS_ONLY),
    "delete": admin_op(
        "withdrawOfficial", "Withdraw an account's official position (admins)",
        ok_=ok("the account's actor, without a badge", "Actor"), body="ReasonRequest",
        body_required=False, params=[NAME], errors=("403", "404", "422"),
        texts={**ADMINS_ONLY, "404": "no such account, or it is not official "
                                     "(`not_found`, `not_official`)"}),
}}
