"""What the admin API's modules (``/api/v1/admin/``, fedi/routes/api_admin_*.py) share: the
role gates every handler calls before it reads anything, helpers for bodies and answers,
and the shape of an admin operation in the OpenAPI document.

The rules of who may do what live in the services (fedi/forum/staff.py and the modules
that use it); the gates here only refuse early, so that a caller without the role gets
401/403, never field errors that describe the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from fedi.core.context import Context
from fedi.forum.staff import Staff, may_moderate_something, require_admin, staff_of
from fedi.routes.api_common import read_json, require_str
from fedi.routes.api_schemas import Schema, operation, path_param
from fedi.routes.auth import require_account
from storage import actors as actor_store
from storage.actors import Actor


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def staff(request: Request) -> Staff:
    """The calling account (401 when anonymous); the services check its role."""
    return await staff_of(ctx_of(request), await require_account(request))


# Every handler calls one of these two (or ``staff`` when its service checks the role
# before anything else) before it reads the path, query or body.

async def admin(request: Request) -> Staff:
    """The calling administrator: 401 when anonymous, 403 for any other account."""
    who = await staff(request)
    require_admin(who)
    return who


async def moderator(request: Request) -> Staff:
    """The caller if it is an administrator or moderates some group (403 otherwise); the
    services then check the group concerned."""
    who = await staff(request)
    async with ctx_of(request).pool.acquire() as conn:
        await may_moderate_something(conn, who)
    return who


async def optional_body(request: Request) -> dict[str, Any]:
    """A JSON object body, or {} when the request has none (POST .../lock)."""
    if request.headers.get("content-length", "0") in ("", "0") and (
            "transfer-encoding" not in request.headers):
        return {}
    return await read_json(request)


async def actors_by_id(ctx: Context, ids: set[int | None]) -> dict[int, Actor]:
    """The actors an answer names, by id (unknown ids are left out)."""
    wanted = [i for i in ids if i is not None]
    found: dict[int, Actor] = {}
    async with ctx.pool.acquire() as conn:
        for actor_id in wanted:
            actor = await actor_store.get(conn, actor_id)
            if actor is not None:
                found[actor_id] = actor
    return found


def handle_of(actors: dict[int, Actor], actor_id: int | None) -> str | None:
    actor = actors.get(actor_id) if actor_id is not None else None
    return actor.handle if actor else None


# --- the OpenAPI shape of an admin operation ---------------------------------------------------

_TEXTS = {"403": "not allowed for this account (`forbidden`)",
          "404": "no such thing (`not_found`)", "409": "already in that state",
          "422": "invalid input (`validation_failed`, `field`)",
          "502": "a remote server failed (`remote_error`)"}
DONE = {"description": "done"}
ID = path_param("id", integer=True)
DOMAIN = path_param("domain", description="a host name, with its port if it has one")
NAME = path_param("name", description="a local username")
ADMINS_ONLY = {"403": "not an administrator (`forbidden`)"}


def admin_op(operation_id: str, summary: str, *, ok_: Schema, status: str = "200",
             errors: tuple[str, ...] = ("403", "404", "422"), body: str | None = None,
             body_required: bool = True, params: list[Schema] | None = None,
             texts: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An authenticated operation under the ``moderation`` tag: its success answer and the
    errors it may give (403, 404, 409, 422, 502 with the texts above unless ``texts``
    says otherwise)."""
    descriptions = {**_TEXTS, **(texts or {})}
    return operation(operation_id, summary, "moderation", auth=True, body=body,
                     body_required=body_required, params=params or (),
                     responses={status: ok_, **{code: descriptions[code] for code in errors}})


async def mode_setting(request: Request, *, read: Callable[[Any], Awaitable[str]],
                       write: Callable[[Any, str], Awaitable[str]]) -> JSONResponse:
    """GET or PUT ``{"mode"}`` of an instance setting that is one of a few modes (the
    registration mode, the e-mail confirmation): admins only, checked first."""
    await admin(request)
    wanted: str | None = None
    if request.method == "PUT":
        wanted = require_str(await read_json(request), "mode", max_len=64)
    async with ctx_of(request).pool.acquire() as conn:
        mode = await (write(conn, wanted) if wanted is not None else read(conn))
    return JSONResponse({"mode": mode})
