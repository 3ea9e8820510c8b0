"""/u/{name@host}: the page of a person we know, from another server too: their cached
profile (bio, the fields their server sent) and their posts here. Local people have
their page at /users/{name} (the ActivityPub id), where this redirects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedi.core.errors import NotFound
from fedi.forum import groups as group_service
from fedi.web.common import ctx_of, web_endpoint
from fedi.web.pages import user_page
from storage import actors as actor_store


@web_endpoint
async def person_by_ref(request: Request) -> Response:
    ctx = ctx_of(request)
    name, host = group_service.split_ref(request.path_params["ref"], ctx.settings.host)
    # Only people known here: a page view must not make us look up other servers.
    async with ctx.pool.acquire() as conn:
        person = await actor_store.by_handle(conn, name, host, "Person")
    if person is None or person.type not in ("Person", "Service", "Application"):
        raise NotFound("This person is not known here.")
    if person.local:
        return RedirectResponse(f"/users/{person.username}", status_code=301)
    return await user_page(request, person)
