"""The caller's privacy rights in the JSON API: ``GET /api/v1/me/export`` (a ZIP of their
data, DSGVO Art. 15/20), ``DELETE /api/v1/me`` (Art. 17) and the admins'
``DELETE /api/v1/admin/accounts/{name}``. The work is in fedi/forum/export.py and
fedi/forum/erasure.py."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fedi.core.errors import TooManyRequests
from fedi.core.ratelimit import RateLimiter
from fedi.forum.erasure import admin_delete_account, check_keep_posts, delete_own_account
from fedi.forum.export import export_filename, export_zip
from fedi.forum.staff import check_reason
from fedi.routes.api_admin_common import admin, ctx_of, optional_body
from fedi.routes.api_common import read_json
from fedi.routes.auth import require_account
from storage.accounts import Account

__all__ = ["EXPORT_LIMIT", "EXPORT_LIMITED", "export_limited", "routes", "zip_response"]

# Making an export reads everything the account has: a few an hour are plenty.
EXPORT_LIMIT = (3, 3600.0)
EXPORT_LIMITED = "You have asked for several exports within the hour: please wait a while."


EXPORT_LIMITER = RateLimiter("export", *EXPORT_LIMIT)


async def export_limited(request: Request, account: Account) -> float | None:
    """Count an export by the account; the seconds to wait when over the limit."""
    return await EXPORT_LIMITER.hit(ctx_of(request).pool, str(account.id))


async def zip_response(request: Request, account: Account) -> Response:
    """The export as a streamed download, or the 429 when the account is over its limit."""
    wait = await export_limited(request, account)
    if wait is not None:
        error = TooManyRequests(EXPORT_LIMITED)
        return JSONResponse(error.to_json(), status_code=error.status,
                            headers={"Retry-After": str(math.ceil(wait))})
    now = datetime.now(UTC)
    name = export_filename(account, now)
    return StreamingResponse(
        export_zip(ctx_of(request), account, now), media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "no-store"})


async def export_me(request: Request) -> Response:
    return await zip_response(request, await require_account(request))


def _deleted(username: str, keep_posts: bool) -> JSONResponse:
    return JSONResponse({"status": "deleted", "username": username,
                         "keep_posts": keep_posts}, status_code=202)


async def delete_me(request: Request) -> JSONResponse:
    account = await require_account(request)
    body = await read_json(request)
    keep_posts = check_keep_posts(body.get("keep_posts"))
    await delete_own_account(ctx_of(request), account, password=body.get("password"),
                             keep_posts=keep_posts)
    return _deleted(account.username, keep_posts)


async def delete_account(request: Request) -> JSONResponse:
    who = await admin(request)
    body = await optional_body(request)
    keep_posts = check_keep_posts(body.get("keep_posts"))
    account = await admin_delete_account(
        ctx_of(request), who, request.path_params["name"], keep_posts=keep_posts,
        reason=check_reason(body.get("reason")))
    return _deleted(account.username, keep_posts)


routes = [
    Route("/api/v1/me/export", export_me, methods=["GET"]),
    Route("/api/v1/me", delete_me, methods=["DELETE"]),
    Route("/api/v1/admin/accounts/{name}", delete_account, methods=["DELETE"]),
]
