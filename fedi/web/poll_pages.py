"""Voting in a thread's poll from its page (issue 20): a plain POST form with the CSRF
token (radio buttons, or checkboxes for multiple choice), so it works without
JavaScript. The service (fedi/forum/poll_votes.py) decides who may vote and when; an
error shows as a page with the sentence in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import NotFound
from fedi.forum import poll_votes
from fedi.forum import posts as post_service
from fedi.web.common import ctx_of, int_param, read_form, require_viewer, text, web_endpoint
from fedi.web.pages import thread_path
from fedi.web.render import redirect

POLL_DAYS = ("1", "3", "7", "14", "30")


def poll_values(form: FormData) -> dict[str, str]:
    """The new-thread form's poll fields, as typed (kept when the form is shown again)."""
    return {"poll_options": text(form, "poll_options"),
            "poll_multiple": "1" if text(form, "poll_multiple") else "",
            "poll_days": text(form, "poll_days")}


def poll_of(values: dict[str, str]) -> dict[str, Any] | None:
    """The poll for the service (forum/polls.check_poll checks it), or None when no
    option was typed."""
    options = [line for line in values.get("poll_options", "").splitlines() if line.strip()]
    if not options:
        return None
    days = values.get("poll_days") if values.get("poll_days") in POLL_DAYS else "7"
    ends_at = datetime.now(UTC) + timedelta(days=int(days or "7"))
    return {"options": options, "multiple": bool(values.get("poll_multiple")),
            "ends_at": ends_at.isoformat()}


@web_endpoint
async def vote(request: Request) -> Response:
    post_id = int_param(str(request.path_params["post_id"]))
    if post_id is None:
        raise NotFound("This post does not exist.")
    post = await post_service.get_post(ctx_of(request), post_id)
    viewer = await require_viewer(request, thread_path(post))
    form = await read_form(request)
    choices = [int_param(v) if isinstance(v, str) else None for v in form.getlist("choice")]
    await poll_votes.vote(ctx_of(request), actor=viewer.actor, post=post,
                          choices=[c for c in choices if c is not None])
    return redirect(request, thread_path(post) + "#poll")
