"""JSON API for accounts: sign-up, /me, log-in tokens, and the registration-mode setting."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi import auth
from fedi.api_common import (
    BEARER,
    PAGE_PARAMETERS,
    openapi_body,
    openapi_error,
    openapi_json,
    optional_str,
    page_request,
    page_response,
    page_schema,
    path_int,
    read_json,
    require_str,
)
from fedi.context import Context
from fedi.errors import NotFound
from fedi.forum import accounts as service
from storage.accounts import Account, ApiToken

# Generous bounds for the raw fields; the services apply the real rules with a message.
_TEXT_MAX = 2048


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def public_view(account: Account) -> dict[str, Any]:
    """What anyone may see of an account: never the e-mail address or the hash."""
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name or account.username,
        "ap_id": account.ap_id,
        "url": account.url or account.ap_id,
        "role": account.role,
        "status": account.status,
        "created_at": account.created_at.isoformat(),
    }


def owner_view(account: Account) -> dict[str, Any]:
    return {**public_view(account), "email": account.email}


def token_view(token: ApiToken, current: ApiToken | None = None) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "kind": token.kind,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "current": current is not None and current.id == token.id,
    }


async def create_account(request: Request) -> JSONResponse:
    body = await read_json(request)
    username = require_str(body, "username", max_len=_TEXT_MAX)
    email = require_str(body, "email", max_len=_TEXT_MAX)
    password = require_str(body, "password", max_len=_TEXT_MAX, strip=False)
    display_name = optional_str(body, "display_name", max_len=_TEXT_MAX)
    async with _ctx(request).pool.acquire() as conn:
        account = await service.register(
            conn, _ctx(request), username=username, email=email, password=password,
            display_name=display_name,
        )
    return JSONResponse(public_view(account), status_code=201)


async def me(request: Request) -> JSONResponse:
    account = await auth.require_account(request)
    return JSONResponse(owner_view(account))


async def log_in(request: Request) -> JSONResponse:
    body = await read_json(request)
    username = require_str(body, "username", max_len=_TEXT_MAX)
    password = require_str(body, "password", max_len=_TEXT_MAX, strip=False,
                           allow_empty=True)
    name = optional_str(body, "name", max_len=service.TOKEN_NAME_MAX, default="") or ""
    async with _ctx(request).pool.acquire() as conn:
        account = await service.authenticate(conn, username, password)
        token, row = await service.create_token(conn, account, name, "api")
    return JSONResponse({"token": token, "token_id": row.id})


async def list_tokens(request: Request) -> JSONResponse:
    account = await auth.require_account(request)
    current = await auth.current_token(request)
    page = page_request(request, (int,), default_limit=50, max_limit=200)
    before_id = page.after[0] if page.after else None
    async with _ctx(request).pool.acquire() as conn:
        rows = await service.list_tokens(conn, account, before_id=before_id,
                                         limit=page.limit + 1)
    return JSONResponse(page_response(
        rows, page, key=lambda t: (t.id,), render=lambda t: token_view(t, current),
    ))


async def revoke_current_token(request: Request) -> Response:
    account = await auth.require_account(request)
    token = await auth.current_token(request)
    assert token is not None  # an account is only ever resolved from a token
    async with _ctx(request).pool.acquire() as conn:
        await service.revoke_token(conn, account, token.id)
    return Response(status_code=204)


async def revoke_token(request: Request) -> Response:
    account = await auth.require_account(request)
    token_id = path_int(request, "token_id")
    async with _ctx(request).pool.acquire() as conn:
        if not await service.revoke_token(conn, account, token_id):
            raise NotFound("You have no token with this id.")
    return Response(status_code=204)


async def registration_setting(request: Request) -> JSONResponse:
    await auth.require_admin(request)
    wanted: str | None = None
    if request.method == "PUT":
        wanted = require_str(await read_json(request), "mode", max_len=_TEXT_MAX)
    async with _ctx(request).pool.acquire() as conn:
        if wanted is not None:
            mode = await service.set_registration_mode(conn, wanted)
        else:
            mode = await service.get_registration_mode(conn)
    return JSONResponse({"mode": mode})


routes = [
    Route("/api/v1/accounts", create_account, methods=["POST"]),
    Route("/api/v1/me", me, methods=["GET"]),
    Route("/api/v1/auth/token", log_in, methods=["POST"]),
    Route("/api/v1/auth/token", revoke_current_token, methods=["DELETE"]),
    Route("/api/v1/auth/tokens", list_tokens, methods=["GET"]),
    Route("/api/v1/auth/tokens/{token_id}", revoke_token, methods=["DELETE"]),
    Route("/api/v1/admin/settings/registration", registration_setting,
          methods=["GET", "PUT"]),
]


# --- OpenAPI ------------------------------------------------------------------------------

_ACCOUNT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "username": {"type": "string"},
    "display_name": {"type": "string"},
    "ap_id": {"type": "string", "format": "uri", "description": "the Person actor's id"},
    "url": {"type": "string", "format": "uri"},
    "role": {"type": "string", "enum": ["admin", "user"]},
    "status": {"type": "string", "enum": ["active", "pending", "rejected", "suspended"]},
    "created_at": {"type": "string", "format": "date-time"},
}
_ACCOUNT: dict[str, Any] = {
    "type": "object", "required": list(_ACCOUNT_PROPERTIES), "properties": _ACCOUNT_PROPERTIES,
}
_OWN_ACCOUNT: dict[str, Any] = {
    "type": "object",
    "required": [*_ACCOUNT_PROPERTIES, "email"],
    "properties": {**_ACCOUNT_PROPERTIES, "email": {"type": "string", "format": "email"}},
}
_TOKEN: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": list(service.TOKEN_KINDS)},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "current": {"type": "boolean", "description": "the token of this request"},
    },
}
_MODE: dict[str, Any] = {
    "type": "object", "required": ["mode"],
    "properties": {"mode": {"type": "string", "enum": list(service.REGISTRATION_MODES)}},
}
_UNAUTHORIZED = openapi_error("no valid token (`unauthorized`)")

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/accounts": {
        "post": {
            "summary": "Sign up",
            "description": "Creates an account and its Person actor. Under the `approval` "
                           "registration mode the account is `pending` until approved.",
            "tags": ["accounts"],
            "requestBody": openapi_body({
                "type": "object",
                "required": ["username", "email", "password"],
                "properties": {
                    "username": {"type": "string", "maxLength": 30,
                                 "pattern": "^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$"},
                    "email": {"type": "string", "format": "email",
                              "description": "never published or federated"},
                    "password": {"type": "string", "minLength": service.PASSWORD_MIN,
                                 "maxLength": service.PASSWORD_MAX},
                    "display_name": {"type": "string",
                                     "maxLength": service.DISPLAY_NAME_MAX},
                },
            }),
            "responses": {
                "201": openapi_json("the new account", _ACCOUNT),
                "400": openapi_error("the body is not a JSON object (`invalid_json`)"),
                "403": openapi_error("registrations are closed (`registrations_closed`)"),
                "409": openapi_error("username or e-mail address taken (`field` says which)"),
                "413": openapi_error("body larger than 1 MiB"),
                "422": openapi_error("a field is invalid (`validation_failed`, `field`)"),
            },
        },
    },
    "/api/v1/me": {
        "get": {
            "summary": "The calling account, with its e-mail address",
            "tags": ["accounts"],
            "security": BEARER,
            "responses": {
                "200": openapi_json("the account", _OWN_ACCOUNT),
                "401": _UNAUTHORIZED,
                "403": openapi_error("the account is pending or suspended"),
            },
        },
    },
    "/api/v1/auth/token": {
        "post": {
            "summary": "Log in: exchange username and password for an API token",
            "tags": ["auth"],
            "requestBody": openapi_body({
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string"},
                    "password": {"type": "string"},
                    "name": {"type": "string", "maxLength": service.TOKEN_NAME_MAX,
                             "description": "a label to recognise the token by"},
                },
            }),
            "responses": {
                "200": openapi_json("the token; it is shown only this once", {
                    "type": "object", "required": ["token", "token_id"],
                    "properties": {"token": {"type": "string"},
                                   "token_id": {"type": "integer"}},
                }),
                "401": openapi_error("wrong username or password (`invalid_credentials`)"),
                "403": openapi_error("account pending approval, rejected or suspended"),
                "422": openapi_error("a field is missing or not a string"),
            },
        },
        "delete": {
            "summary": "Log out: revoke the token this request uses",
            "tags": ["auth"],
            "security": BEARER,
            "responses": {"204": {"description": "revoked"}, "401": _UNAUTHORIZED},
        },
    },
    "/api/v1/auth/tokens": {
        "get": {
            "summary": "The caller's tokens (never the token values), newest first",
            "tags": ["auth"],
            "security": BEARER,
            "parameters": PAGE_PARAMETERS,
            "responses": {
                "200": openapi_json("a page of tokens", page_schema(_TOKEN)),
                "401": _UNAUTHORIZED,
                "422": openapi_error("bad limit or cursor"),
            },
        },
    },
    "/api/v1/auth/tokens/{token_id}": {
        "delete": {
            "summary": "Revoke one of the caller's tokens",
            "tags": ["auth"],
            "security": BEARER,
            "parameters": [{"name": "token_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "responses": {
                "204": {"description": "revoked"},
                "401": _UNAUTHORIZED,
                "404": openapi_error("the caller has no token with this id"),
            },
        },
    },
    "/api/v1/admin/settings/registration": {
        "get": {
            "summary": "The registration mode",
            "tags": ["admin"],
            "security": BEARER,
            "responses": {
                "200": openapi_json("the mode", _MODE),
                "401": _UNAUTHORIZED,
                "403": openapi_error("not an administrator"),
            },
        },
        "put": {
            "summary": "Set the registration mode: open, closed or approval",
            "tags": ["admin"],
            "security": BEARER,
            "requestBody": openapi_body(_MODE),
            "responses": {
                "200": openapi_json("the new mode", _MODE),
                "401": _UNAUTHORIZED,
                "403": openapi_error("not an administrator"),
                "422": openapi_error("unknown mode"),
            },
        },
    },
}
