"""JSON API for polls (issue 20): ``POST /api/v1/posts/{id}/votes {"choices": [...]}``.
A poll is made with its thread (``"poll"`` of ``POST /api/v1/groups/{ref}/threads``)
and shown in the thread's JSON (``poll``); the services are fedi/forum/polls.py and
fedi/forum/poll_votes.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import NotFound
from fedi.forum import poll_votes, polls
from fedi.forum import posts as post_service
from fedi.routes.api_common import path_int, read_json
from fedi.routes.api_polls_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.auth import require_account
from storage import actors as actor_store


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def vote(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    account = await require_account(request)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None
    post = await post_service.get_post(ctx, path_int(request, "id"))
    body = await read_json(request)
    await poll_votes.vote(ctx, actor=actor, post=post, choices=body.get("choices"))
    async with ctx.pool.acquire() as conn:
        view = await polls.view_for(conn, post, actor.id)
    if view is None:
        raise NotFound("This thread has no poll.")
    return JSONResponse(view)


routes = [
    Route("/api/v1/posts/{id}/votes", vote, methods=["POST"]),
]
