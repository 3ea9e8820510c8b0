"""JSON API for groups, threads, replies and likes (``/api/v1``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.forum import answers, remote_groups
from fedi.forum import groups as group_service
from fedi.forum import notifications as notification_service
from fedi.forum import posts as post_service
from fedi.forum.views import actors_for, group_view, post_view, post_with_replies
from fedi.routes.api_common import (
    page_request,
    page_response,
    path_int,
    read_json,
)
from fedi.routes.api_forum_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.auth import current_account, require_account
from storage import actors as actor_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import posts as post_store
from storage.accounts import Account
from storage.actors import Actor
from storage.posts import Post


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def actor_of(ctx: Context, account: Account | None) -> Actor | None:
    if account is None:
        return None
    async with ctx.pool.acquire() as conn:
        return await actor_store.get(conn, account.actor_id)


async def _me(request: Request) -> Actor:
    account = await require_account(request)
    actor = await actor_of(_ctx(request), account)
    assert actor is not None
    return actor


async def list_groups(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        groups = await group_store.list_groups(conn)
        stats = await group_store.stats(conn, [g.id for g in groups])
    return JSONResponse({"items": [group_view(g, stats.get(g.id)) for g in groups],
                         "next": None})


async def group_detail(request: Request, group: Actor) -> dict[str, Any]:
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        stats = await group_store.stats(conn, [group.id])
        details = await group_store.get(conn, group.id)
        moderators = await group_store.moderators(conn, group.id)
    view = group_view(group, stats.get(group.id), details)
    view["moderators"] = [m.handle for m in moderators]
    viewer = await actor_of(ctx, await current_account(request))
    if viewer is not None:
        async with ctx.pool.acquire() as conn:
            follow = await follow_store.get(conn, viewer.id, group.id)
        view["follow_state"] = follow.state if follow else "none"
    return view


async def get_group(request: Request) -> JSONResponse:
    group = await group_service.find_group(_ctx(request), request.path_params["ref"])
    return JSONResponse(await group_detail(request, group))


async def list_threads(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    group = await group_service.find_group(ctx, request.path_params["ref"])
    page = page_request(request, (str, int))
    state = request.query_params.get("state") or None
    if state is not None and state not in post_store.STATE_FILTERS:
        raise ValidationFailed("state must be open, unanswered or solved", field="state")
    before = None
    if page.after is not None:
        before = (datetime.fromisoformat(page.after[0]), int(page.after[1]))
    async with ctx.pool.acquire() as conn:
        threads = await post_store.threads_page(conn, group.id, limit=page.limit + 1,
                                                before=before, state=state)
        actors = await actors_for(conn, threads)
    account = await current_account(request)
    viewer = await actor_of(ctx, account)
    unread: dict[int, int] | None = None
    if account is not None:  # new posts per thread for the caller (issue 14)
        async with ctx.pool.acquire() as conn:
            unread = await notification_service.unread_for_threads(
                conn, account, [t.id for t in threads])

    def render(p: Post) -> dict[str, Any]:
        view = post_view(p, actors=actors, viewer=viewer)
        if unread is not None:
            view["unread"] = unread.get(p.id, 0)
        return view

    return JSONResponse(page_response(
        threads, page, key=lambda p: (p.last_activity_at.isoformat(), p.id), render=render))


async def create_thread(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    author = await _me(request)
    body = await read_json(request)
    group = await group_service.find_group(ctx, request.path_params["ref"])
    warnings: list[dict[str, str]] = []
    post = await post_service.create_thread(ctx, author=author, group=group,
                                            title=body.get("title"), content=body.get("content"),
                                            kind=body.get("kind"), warnings=warnings,
                                            poll=body.get("poll"),
                                            media_ids=body.get("media_ids"))
    view = await post_with_replies(ctx, post, author)
    return JSONResponse({**view, "warnings": warnings}, status_code=201)


async def _post(request: Request) -> Any:
    return await post_service.get_post(_ctx(request), path_int(request, "id"))


async def get_post(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    post = await _post(request)
    if post.removed_at is not None and post.parent_id is None:
        raise NotFound("this thread was removed by a moderator")
    viewer = await actor_of(ctx, await current_account(request))
    sort = answers.check_sort(request.query_params.get("sort"), post)
    return JSONResponse(await post_with_replies(ctx, post, viewer, sort=sort))


async def create_reply(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    author = await _me(request)
    body = await read_json(request)
    parent = await _post(request)
    warnings: list[dict[str, str]] = []
    post = await post_service.create_reply(ctx, author=author, parent=parent,
                                           content=body.get("content"), warnings=warnings,
                                           media_ids=body.get("media_ids"))
    view = await post_with_replies(ctx, post, author)
    return JSONResponse({**view, "warnings": warnings}, status_code=201)


async def edit_post(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    actor = await _me(request)
    body = await read_json(request)
    post = await _post(request)
    warnings: list[dict[str, str]] = []
    updated = await post_service.edit_post(ctx, actor=actor, post=post, title=body.get("title"),
                                           content=body.get("content"), warnings=warnings,
                                           media_ids=body.get("media_ids"))
    view = await post_with_replies(ctx, updated, actor)
    return JSONResponse({**view, "warnings": warnings})


async def delete_post(request: Request) -> Response:
    ctx = _ctx(request)
    actor = await _me(request)
    post = await _post(request)
    await post_service.delete_post(ctx, actor=actor, post=post)
    return Response(status_code=204)


async def like(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    actor = await _me(request)
    post = await _post(request)
    if request.method == "POST":
        await post_service.like_post(ctx, actor=actor, post=post)
    else:
        await post_service.unlike_post(ctx, actor=actor, post=post)
    fresh = await post_service.get_post(ctx, post.id)
    async with ctx.pool.acquire() as conn:
        liked = await post_store.liked_by(conn, actor.id, [post.id])
    return JSONResponse({"id": fresh.id, "like_count": fresh.like_count,
                         "liked": post.id in liked})


async def follow_group(request: Request) -> JSONResponse:
    """Join a group: a local one at once, a remote one by a Follow (pending until the
    group accepts; GET shows ``follow_state``)."""
    ctx = _ctx(request)
    user = await _me(request)
    group = await group_service.find_group(ctx, request.path_params["ref"])
    if request.method == "POST":
        await remote_groups.follow_group(ctx, user=user, group=group)
    else:
        await remote_groups.unfollow_group(ctx, user=user, group=group)
    return JSONResponse(await group_detail(request, group))


routes = [
    Route("/api/v1/groups", list_groups, methods=["GET"]),
    Route("/api/v1/groups/{ref}", get_group, methods=["GET"]),
    Route("/api/v1/groups/{ref}/threads", list_threads, methods=["GET"]),
    Route("/api/v1/groups/{ref}/threads", create_thread, methods=["POST"]),
    Route("/api/v1/posts/{id}", get_post, methods=["GET"]),
    Route("/api/v1/posts/{id}", edit_post, methods=["PATCH"]),
    Route("/api/v1/posts/{id}", delete_post, methods=["DELETE"]),
    Route("/api/v1/posts/{id}/replies", create_reply, methods=["POST"]),
    Route("/api/v1/posts/{id}/like", like, methods=["POST", "DELETE"]),
    Route("/api/v1/groups/{ref}/follow", follow_group, methods=["POST", "DELETE"]),
]
