"""Reporting a post or a person to the moderators ("Melden").

The form calls :func:`fedi.forum.reports.report`, the service behind
``POST /api/v1/reports``: a post in a remote group is also reported to that group's server.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Gone, NotFound
from fedi.forum import posts as post_service
from fedi.forum import reports as report_service
from fedi.forum.staff import check_reason
from fedi.forum.views import actors_for
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    read_form,
    require_viewer,
    text,
    web_endpoint,
)
from fedi.web.pages import thread_path
from fedi.web.render import page, redirect
from storage import actors as actor_store
from storage.actors import Actor
from storage.posts import Post


async def _post(request: Request) -> Post:
    post_id = int_param(str(request.path_params["post_id"]))
    if post_id is None:
        raise NotFound("This post does not exist.")
    post = await post_service.get_post(ctx_of(request), post_id)
    if not post.visible:
        raise Gone("This post was deleted or removed.")
    return post


async def _person(request: Request) -> Actor:
    async with ctx_of(request).pool.acquire() as conn:
        person = await actor_store.local_by_name(conn, request.path_params["name"], "Person")
    if person is None or person.deleted_at is not None:
        raise NotFound("This person does not exist here.")
    return person


async def _form(request: Request, *, post: Post | None, person: Actor | None,
                values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    actors: dict[int, Actor] = {}
    if post is not None:
        async with ctx_of(request).pool.acquire() as conn:
            actors = await actors_for(conn, [post])
    return await page(request, "report.html", {
        "post": post, "person": person, "actors": actors, "values": values, "errors": errors,
    }, status=status)


async def _submit(request: Request, *, post: Post | None, person: Actor | None,
                  back: str) -> Response:
    viewer = await require_viewer(request, back)
    form = await read_form(request)
    values = {"reason": text(form, "reason")}
    try:
        await report_service.report(
            ctx_of(request), viewer.actor, post_id=post.id if post else None,
            actor_ref=person.handle if person else None,
            reason=check_reason(values["reason"], required=True))
    except AppError as exc:
        exc.field = exc.field if exc.field == "reason" else ""
        return await _form(request, post=post, person=person, values=values,
                           errors=field_errors(request, exc), status=exc.status)
    return redirect(request, back, flash="reported")


@web_endpoint
async def report_post_form(request: Request) -> Response:
    post = await _post(request)
    await require_viewer(request)
    return await _form(request, post=post, person=None, values={}, errors={})


@web_endpoint
async def report_post(request: Request) -> Response:
    post = await _post(request)
    return await _submit(request, post=post, person=None, back=thread_path(post))


@web_endpoint
async def report_person_form(request: Request) -> Response:
    person = await _person(request)
    await require_viewer(request)
    return await _form(request, post=None, person=person, values={}, errors={})


@web_endpoint
async def report_person(request: Request) -> Response:
    person = await _person(request)
    return await _submit(request, post=None, person=person,
                         back=f"/users/{person.username}")
