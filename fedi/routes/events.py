"""``/events/{id}``: the ActivityPub ``Event`` for AP clients, the event page for browsers
(content negotiation, as for posts; a remote event's copy redirects browsers to the page
here too, AP clients get 404: its id lives elsewhere). Calendars: ``/events/{id}.ics``,
``/groups/{name}/events.ics``, ``/events.ics`` (fedi/federation/events_ics.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import NotFound
from fedi.core.urls import Urls
from fedi.federation.documents import with_context
from fedi.federation.events import event_url
from fedi.federation.events_ics import ICS_MEDIA_TYPE, calendar_bytes
from fedi.forum import events as event_service
from fedi.forum import groups as group_service
from fedi.forum import instance_settings
from fedi.routes.negotiation import activity_response, html_response, request_wants_activitypub
from storage import events as event_store
from storage.events import Event

_MAX_BIGINT = 2**63 - 1
# How far back a calendar feed reaches (so a cancellation still reaches subscribers).
FEED_PAST = timedelta(days=90)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _find(ctx: Context, event_id: int) -> Event:
    event = None
    if event_id <= _MAX_BIGINT:
        async with ctx.pool.acquire() as conn:
            event = await event_store.get(conn, event_id)
    if event is None:
        raise NotFound(f"no event {event_id} here")
    return event


async def event_document(request: Request) -> Response:
    ctx = _ctx(request)
    event = await _find(ctx, request.path_params["event_id"])
    if request_wants_activitypub(request):
        if not event.local:
            raise NotFound(f"event {event.id} is a copy of {event.ap_id}; fetch it there")
        if event.deleted_at is not None:
            tomb = {"id": event.ap_id, "type": "Tombstone", "formerType": "Event"}
            return activity_response(with_context(tomb), status=410)
        async with ctx.pool.acquire() as conn:
            document = await event_service.document_for(conn, ctx, event)
        return activity_response(document)
    return await html_response(request, "event", event, title=event.title,
                               text_html=event.description_html, alternate=event.ap_id,
                               status=410 if event.deleted_at else 200)


def _ics(body: bytes, filename: str) -> Response:
    return Response(body, media_type=ICS_MEDIA_TYPE, headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "max-age=300"})


def _links(ctx: Context, events: list[Event]) -> dict[int, str]:
    urls = Urls(ctx.settings.base_url)
    return {e.id: event_url(urls, e.id) for e in events}


async def event_ics(request: Request) -> Response:
    ctx = _ctx(request)
    event = await _find(ctx, request.path_params["event_id"])
    body = calendar_bytes([event], name=event.title, links=_links(ctx, [event]))
    return _ics(body, f"event-{event.id}.ics")


async def _feed(ctx: Context, group_id: int | None) -> list[Event]:
    """Events from 90 days ago on, deleted ones included as cancelled."""
    since = datetime.now(UTC) - FEED_PAST
    async with ctx.pool.acquire() as conn:
        return await event_store.feed(conn, since=since, group_id=group_id)


async def group_ics(request: Request) -> Response:
    ctx = _ctx(request)
    group = await group_service.find_group(ctx, request.path_params["name"])
    events = await _feed(ctx, group.id)
    body = calendar_bytes(events, name=group.name or group.username, links=_links(ctx, events))
    return _ics(body, f"{group.username}-events.ics")


async def instance_ics(request: Request) -> Response:
    ctx = _ctx(request)
    events = await _feed(ctx, None)
    async with ctx.pool.acquire() as conn:
        name = await instance_settings.instance_name(conn, ctx)
    body = calendar_bytes(events, name=name, links=_links(ctx, events))
    return _ics(body, "events.ics")


routes = [
    Route("/events.ics", instance_ics, methods=["GET", "HEAD"]),
    Route("/events/{event_id:int}.ics", event_ics, methods=["GET", "HEAD"]),
    Route("/events/{event_id:int}", event_document, methods=["GET", "HEAD"]),
    Route("/groups/{name}/events.ics", group_ics, methods=["GET", "HEAD"]),
]
