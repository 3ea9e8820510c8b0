"""Admin API for posts and threads (``/api/v1/admin/posts/{id}/<action>``): remove,
restore, lock, unlock, pin and unpin, for the moderators of the post's group and admins;
with its OpenAPI paths. The services are in fedi/forum/threads.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import threads
from fedi.forum.staff import check_reason
from fedi.forum.views import post_view
from fedi.routes.api_admin_common import (
    ID,
    actors_by_id,
    admin_op,
    ctx_of,
    moderator,
    optional_body,
)
from fedi.routes.api_common import path_int
from fedi.routes.api_schemas import ok
from storage.posts import Post


async def post_answer(ctx: Context, post: Post) -> JSONResponse:
    actors = await actors_by_id(ctx, {post.author_id, post.group_id})
    view = post_view(post, actors=actors)
    # Moderators see what was removed and why (the public sees neither).
    view["content"] = post.content_html
    view["removed_reason"] = post.removed_reason
    return JSONResponse(view)


def _post_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        ctx = ctx_of(request)
        who = await moderator(request)
        post_id = path_int(request, "id")
        body = await optional_body(request)
        required = action == "remove"
        reason = check_reason(body.get("reason"), required=required)
        if action in ("remove", "restore"):
            service = threads.remove_post if action == "remove" else threads.restore_post
            post = await service(ctx, who, post_id, reason=reason)
        elif action in ("lock", "unlock"):
            post = await threads.lock_thread(ctx, who, post_id, locked=action == "lock",
                                             reason=reason)
        else:
            post = await threads.pin_thread(ctx, who, post_id, pinned=action == "pin",
                                            reason=reason)
        return await post_answer(ctx, post)

    return endpoint


_POST_ACTIONS = ("remove", "restore", "lock", "unlock", "pin", "unpin")

routes = [Route(f"/api/v1/admin/posts/{{id}}/{action}", _post_action(action), methods=["POST"])
          for action in _POST_ACTIONS]

_POST_SUMMARIES = {
    "remove": "Remove a post (a thread root: the whole thread); the reason is required",
    "restore": "Restore a removed post", "lock": "Lock a thread (no new replies)",
    "unlock": "Unlock a thread", "pin": "Pin a thread", "unpin": "Unpin a thread",
}

OPENAPI_PATHS: dict[str, Any] = {
    f"/api/v1/admin/posts/{{id}}/{action}": {"post": admin_op(
        f"{action}Post", f"{summary} (moderators of its group, admins)",
        ok_=ok("the post as moderators see it", "ModeratedPost"), body="ReasonRequest",
        body_required=False, params=[ID], errors=("403", "404", "409", "422"))}
    for action, summary in _POST_SUMMARIES.items()
}
