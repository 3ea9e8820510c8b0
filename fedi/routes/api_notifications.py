"""JSON API of notifications (issue 14): the caller's notices, marking them read,
watching or muting a thread, muting a group, and marking a thread read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.forum import groups as group_service
from fedi.forum import notifications as service
from fedi.forum import posts as post_service
from fedi.routes.api_common import (
    optional_int,
    page_request,
    page_response,
    path_int,
    read_json,
)
from fedi.routes.api_notifications_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.auth import require_account

MAX_IDS = 500  # ids one mark-read request may name


def parse_read_request(body: dict[str, Any]) -> list[int] | None:
    """``{"ids": [...]}`` -> the ids; ``{"all": true}`` -> None (all of them)."""
    ids, every = body.get("ids"), body.get("all")
    if every is not None and not isinstance(every, bool):
        raise ValidationFailed("all must be true or false", field="all")
    if every and ids is not None:
        raise ValidationFailed("give either ids or all, not both", field="ids")
    if every:
        return None
    if ids is None:
        raise ValidationFailed('give {"ids": [...]} or {"all": true}', field="ids")
    if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
        raise ValidationFailed("ids must be a list of notification ids (whole numbers)",
                               field="ids")
    if len(ids) > MAX_IDS:
        raise ValidationFailed(f"at most {MAX_IDS} ids at a time", field="ids")
    return list(ids)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def list_notifications(request: Request) -> JSONResponse:
    account = await require_account(request)
    page = page_request(request, (str, int))
    before = None
    if page.after is not None:
        try:
            before = (datetime.fromisoformat(page.after[0]), int(page.after[1]))
        except ValueError:
            raise ValidationFailed("cursor is not a cursor this API handed out",
                                   field="cursor") from None
    views, unread = await service.list_notices(_ctx(request), account, limit=page.limit + 1,
                                               before=before)
    body = page_response(views, page, render=service.api_item,
                         key=lambda v: (v.notice.created_at.isoformat(), v.notice.id))
    body["unread"] = unread
    return JSONResponse(body)


async def mark_read(request: Request) -> JSONResponse:
    account = await require_account(request)
    ids = parse_read_request(await read_json(request))
    unread = await service.mark_read(_ctx(request), account, ids)
    return JSONResponse({"unread": unread})


async def watch(request: Request) -> JSONResponse:
    """GET the level, POST ``{"level": "watching" | "muted" | "none"}``, DELETE: none."""
    ctx = _ctx(request)
    account = await require_account(request)
    post = await post_service.get_post(ctx, path_int(request, "id"))
    if request.method == "GET":
        thread_id, current = await service.watch_level(ctx, account, post)
        return JSONResponse({"thread_id": thread_id, "level": current})
    level: str | None = None
    if request.method == "POST":
        level = service.check_level((await read_json(request)).get("level"))
    thread_id, shown = await service.watch_thread(ctx, account, post, level)
    return JSONResponse({"thread_id": thread_id, "level": shown})


async def mute_group(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    account = await require_account(request)
    group = await group_service.find_group(ctx, request.path_params["ref"])
    if request.method == "GET":
        muted = await service.group_muted(ctx, account, group)
    else:
        muted = await service.mute_group(ctx, account, group, request.method == "POST")
    return JSONResponse({"group": group.handle, "muted": muted})


async def read_thread(request: Request) -> JSONResponse:
    """Mark a thread read, up to ``post_id`` or its newest post (the body is optional)."""
    ctx = _ctx(request)
    account = await require_account(request)
    post = await post_service.get_post(ctx, path_int(request, "id"))
    up_to = None
    if (await request.body()).strip():
        up_to = optional_int(await read_json(request), "post_id", minimum=1)
    read = await service.read_thread(ctx, account, post, up_to)
    return JSONResponse({"thread_id": read.thread_id,
                         "last_read_post_id": read.last_read_post_id, "unread": read.unread})


routes = [
    Route("/api/v1/notifications", list_notifications, methods=["GET"]),
    Route("/api/v1/notifications/read", mark_read, methods=["POST"]),
    Route("/api/v1/posts/{id}/watch", watch, methods=["GET", "POST", "DELETE"]),
    Route("/api/v1/posts/{id}/read", read_thread, methods=["POST"]),
    Route("/api/v1/groups/{ref}/mute", mute_group, methods=["GET", "POST", "DELETE"]),
]
