"""Admin API for local accounts (``/api/v1/admin/accounts``, admins only): list them (by
status: sign-ups awaiting approval), approve, reject, suspend, unsuspend; with its OpenAPI
paths. The actions are in fedi/forum/accounts_admin.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.errors import ValidationFailed
from fedi.core.times import iso
from fedi.forum.accounts_admin import ACCOUNT_ACTIONS, account_action, reset_sessions
from fedi.forum.staff import check_reason, require_admin
from fedi.routes.api_admin_common import (
    ADMINS_ONLY,
    NAME,
    admin,
    admin_op,
    ctx_of,
    optional_body,
    staff,
)
from fedi.routes.api_schemas import ok, query_param
from storage import accounts as account_store

_STATUSES = ("active", "pending", "rejected", "suspended")


def _account_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        who = await admin(request)
        body = await optional_body(request)
        account = await account_action(
            ctx_of(request), who, request.path_params["name"], action,
            reason=check_reason(body.get("reason")))
        return JSONResponse({"id": account.id, "username": account.username,
                             "status": account.status, "role": account.role})

    return endpoint


async def list_accounts(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    require_admin(await staff(request))
    status = request.query_params.get("status")
    if status is not None and status not in _STATUSES:
        raise ValidationFailed("status must be active, pending, rejected or suspended",
                               field="status")
    async with ctx.pool.acquire() as conn:
        accounts = await account_store.list_all(conn)
    return JSONResponse({"items": [
        {"id": a.id, "username": a.username, "status": a.status, "role": a.role,
         "registration_reason": a.registration_reason, "created_at": iso(a.created_at)}
        for a in accounts if status is None or a.status == status], "next": None})


async def sessions_reset(request: Request) -> JSONResponse:
    """Log the account out everywhere (every session and token ends)."""
    who = await admin(request)
    body = await optional_body(request)
    ended = await reset_sessions(ctx_of(request), who, request.path_params["name"],
                                 reason=check_reason(body.get("reason")))
    return JSONResponse({"ended": ended})


routes = [
    Route("/api/v1/admin/accounts", list_accounts, methods=["GET"]),
    Route("/api/v1/admin/accounts/{name}/sessions/reset", sessions_reset, methods=["POST"]),
    *[Route(f"/api/v1/admin/accounts/{{name}}/{action}", _account_action(action),
            methods=["POST"]) for action in ACCOUNT_ACTIONS],
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/accounts": {"get": admin_op(
        "listAccounts", "Local accounts (?status=pending for sign-ups awaiting approval; "
                        "admins)",
        ok_=ok("every matching account, in one page", "AdminAccountList"),
        params=[query_param("status", "only accounts in this state", enum=list(_STATUSES))],
        errors=("403", "422"), texts=ADMINS_ONLY)},
    **{f"/api/v1/admin/accounts/{{name}}/{action}": {"post": admin_op(
        f"{action}Account", f"{action.capitalize()} a local account (admins)",
        ok_=ok("the account's new status", "AccountStatus"), body="ReasonRequest",
        body_required=False, params=[NAME], errors=("403", "404", "409", "422"),
        texts=ADMINS_ONLY)}
       for action in ACCOUNT_ACTIONS},
    "/api/v1/admin/accounts/{name}/sessions/reset": {"post": admin_op(
        "resetAccountSessions", "Log a local account out everywhere: every web session and "
                                "API token ends (admins)",
        ok_=ok("how many ended", "SessionsReset"), body="ReasonRequest", body_required=False,
        params=[NAME], errors=("403", "404", "422"), texts=ADMINS_ONLY)},
}
