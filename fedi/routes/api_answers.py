"""JSON API for accepted and official answers (issue 15): ``POST``/``DELETE
/api/v1/posts/{id}/accept`` (the asker or a group moderator chooses, changes or withdraws
a thread's accepted answer) and ``POST``/``DELETE /api/v1/posts/{id}/highlight`` (a
moderator marks a reply as the official answer). The services are in
fedi/forum/answers.py; who may choose is fedi/forum/policy.py's ``ACCEPT_ANSWER``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import answers
from fedi.forum.views import post_view
from fedi.routes.api_admin_common import actors_by_id, moderator
from fedi.routes.api_answers_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.api_common import path_int
from fedi.routes.auth import require_account
from storage import actors as actor_store


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def accept(request: Request) -> JSONResponse:
    """Choose (POST) or withdraw (DELETE) the reply ``id`` as its thread's answer."""
    ctx = _ctx(request)
    account = await require_account(request)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None
    reply_id = path_int(request, "id")
    if request.method == "POST":
        thread = await answers.accept(ctx, actor=actor, reply_id=reply_id)
    else:
        thread = await answers.withdraw(ctx, actor=actor, reply_id=reply_id)
    return JSONResponse({"thread_id": thread.id,
                         "accepted_answer_id": thread.accepted_answer_id,
                         "state": answers.state_of(thread)})


async def highlight(request: Request) -> JSONResponse:
    """A moderator highlights (POST) the reply ``id`` as the official answer, or takes
    that back (DELETE)."""
    ctx = _ctx(request)
    who = await moderator(request)
    post = await answers.highlight(ctx, who, path_int(request, "id"),
                                   highlighted=request.method == "POST")
    actors = await actors_by_id(ctx, {post.author_id, post.group_id})
    return JSONResponse(post_view(post, actors=actors))


routes = [
    Route("/api/v1/posts/{id}/accept", accept, methods=["POST", "DELETE"]),
    Route("/api/v1/posts/{id}/highlight", highlight, methods=["POST", "DELETE"]),
]
