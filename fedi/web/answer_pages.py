"""The buttons beside a thread's replies (issue 15): choose, change or withdraw the
accepted answer (the asker and the group's moderators), and highlight a reply as the
official answer (moderators). Plain POST forms with the CSRF token, so they work without
JavaScript; the services (fedi/forum/answers.py) decide who may, and a refusal shows as
the policy's sentence in the reader's language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import NotFound
from fedi.forum import answers
from fedi.forum import posts as post_service
from fedi.web.common import (
    ctx_of,
    int_param,
    read_form,
    require_staff,
    require_viewer,
    text,
    web_endpoint,
)
from fedi.web.pages import thread_path
from fedi.web.render import redirect


async def _post_id(request: Request) -> int:
    post_id = int_param(str(request.path_params["post_id"]))
    if post_id is None:
        raise NotFound("This post does not exist.")
    return post_id


@web_endpoint
async def accept(request: Request) -> Response:
    """``action=accept`` (the default) or ``action=withdraw``."""
    post = await post_service.get_post(ctx_of(request), await _post_id(request))
    viewer = await require_viewer(request, thread_path(post))
    form = await read_form(request)
    if text(form, "action") == "withdraw":
        await answers.withdraw(ctx_of(request), actor=viewer.actor, reply_id=post.id)
    else:
        await answers.accept(ctx_of(request), actor=viewer.actor, reply_id=post.id)
    return redirect(request, thread_path(post))


@web_endpoint
async def highlight(request: Request) -> Response:
    """``action=highlight`` (the default) or ``action=unhighlight``."""
    post = await post_service.get_post(ctx_of(request), await _post_id(request))
    staff = await require_staff(request, thread_path(post))
    form = await read_form(request)
    await answers.highlight(ctx_of(request), staff, post.id,
                            highlighted=text(form, "action") != "unhighlight")
    return redirect(request, thread_path(post))
