"""JSON API for events (``/api/v1/events``, ``/api/v1/groups/{ref}/events``): create,
read, change, cancel (PATCH ``status: cancelled``), delete; register and withdraw; the
organisers' participant list and their decisions. The services are fedi/forum/events.py;
refusals are the policy's (``{"error": code, "message"}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.core.urls import Urls
from fedi.forum import events as event_service
from fedi.forum import groups as group_service
from fedi.forum.events_views import event_view, participant_view
from fedi.routes.api_common import path_int, read_json
from fedi.routes.api_events_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.api_forum import actor_of
from fedi.routes.auth import current_account, require_account
from storage import events as event_store
from storage.actors import Actor
from storage.events import Event

LIST_MAX = 200


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _me(request: Request) -> Actor:
    account = await require_account(request)
    actor = await actor_of(_ctx(request), account)
    assert actor is not None
    return actor


async def _view(ctx: Context, event: Event, viewer: Actor | None) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        organiser = await event_service.is_organiser(conn, viewer, event)
        return await event_view(conn, event, urls=Urls(ctx.settings.base_url), viewer=viewer,
                                organiser=organiser)


async def _event(request: Request) -> Event:
    event = await event_service.get_event(_ctx(request), path_int(request, "id"))
    if event.deleted_at is not None:
        raise NotFound(f"no event {event.id}")
    return event


async def create_event(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    organiser = await _me(request)
    body = await read_json(request)
    group = await group_service.find_group(ctx, request.path_params["ref"])
    event = await event_service.create_event(ctx, organiser=organiser, group=group, data=body)
    return JSONResponse(await _view(ctx, event, organiser), status_code=201)


async def get_event(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    event = await _event(request)
    viewer = await actor_of(ctx, await current_account(request))
    return JSONResponse(await _view(ctx, event, viewer))


async def edit_event(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    actor = await _me(request)
    body = await read_json(request)
    event = await _event(request)
    updated = await event_service.update_event(ctx, actor=actor, event=event, data=body)
    return JSONResponse(await _view(ctx, updated, actor))


async def delete_event(request: Request) -> Response:
    ctx = _ctx(request)
    actor = await _me(request)
    event = await _event(request)
    await event_service.delete_event(ctx, actor=actor, event=event)
    return Response(status_code=204)


def _time_param(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO 8601 date or date and time",
                               field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Europe/Berlin"))
    return moment


async def list_events(request: Request) -> JSONResponse:
    """Upcoming events (soonest first), or those overlapping ``from``-``to``, or past ones
    (``past=true``, latest first); of one group with ``group``."""
    ctx = _ctx(request)
    start, end = _time_param(request, "from"), _time_param(request, "to")
    if start is not None and end is not None and end < start:
        raise ValidationFailed("to must not be before from", field="to")
    past = request.query_params.get("past") in ("true", "1")
    group_id = None
    if request.query_params.get("group"):
        group = await group_service.find_group(ctx, request.query_params["group"])
        group_id = group.id
    viewer = await actor_of(ctx, await current_account(request))
    async with ctx.pool.acquire() as conn:
        events = await event_store.listing(conn, group_id=group_id, start=start, end=end,
                                           past=past, limit=LIST_MAX)
    items = [await _view(ctx, e, viewer) for e in events]
    return JSONResponse({"items": items, "next": None})


async def participation(request: Request) -> JSONResponse:
    """POST: register (201 accepted, 202 pending); DELETE: withdraw."""
    ctx = _ctx(request)
    actor = await _me(request)
    event = await _event(request)
    if request.method == "POST":
        body = await read_json(request, max_bytes=10_000) if await request.body() else {}
        message = body.get("message") if isinstance(body.get("message"), str) else None
        result = await event_service.register(ctx, actor=actor, event=event,
                                              message=message[:2000] if message else None)
        state = result.participant.state
        return JSONResponse({"state": state, "event": await _view(ctx, result.event, actor)},
                            status_code=201 if state == "accepted" else 202)
    withdrawn = await event_service.cancel_registration(ctx, actor=actor, event=event)
    fresh = await event_service.get_event(ctx, event.id)
    return JSONResponse({"state": "cancelled" if withdrawn else None,
                         "event": await _view(ctx, fresh, actor)})


async def list_participants(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    actor = await _me(request)
    event = await _event(request)
    items = await event_service.participants(ctx, actor=actor, event=event)
    return JSONResponse({"items": [participant_view(i) for i in items], "next": None})


def _decision(accept: bool) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        ctx = _ctx(request)
        actor = await _me(request)
        event = await _event(request)
        changed = await event_service.decide(ctx, actor=actor, event=event,
                                             participant_id=path_int(request, "pid"),
                                             accept=accept)
        async with ctx.pool.acquire() as conn:
            items = await event_store.participants(conn, event.id)
        item = next(i for i in items if i.participant.id == changed.id)
        return JSONResponse(participant_view(item))

    return endpoint


routes = [
    Route("/api/v1/groups/{ref}/events", create_event, methods=["POST"]),
    Route("/api/v1/events", list_events, methods=["GET"]),
    Route("/api/v1/events/{id}", get_event, methods=["GET"]),
    Route("/api/v1/events/{id}", edit_event, methods=["PATCH"]),
    Route("/api/v1/events/{id}", delete_event, methods=["DELETE"]),
    Route("/api/v1/events/{id}/participation", participation, methods=["POST", "DELETE"]),
    Route("/api/v1/events/{id}/participants", list_participants, methods=["GET"]),
    Route("/api/v1/events/{id}/participants/{pid}/approve", _decision(True), methods=["POST"]),
    Route("/api/v1/events/{id}/participants/{pid}/reject", _decision(False), methods=["POST"]),
]
