"""Event pages (issue 16): the events of the instance and of a group (upcoming first, past
on request), the event page (details, agenda, place, online link for those who may see
it, registration, participant count; for organisers the participant list, approve or
reject, CSV export), and the form moderators create and change events with.

The event page lives at the event's ActivityPub id (/events/{id}); fedi.routes.events
calls :func:`event_page` for browsers (registered in :data:`HTML_PAGES`). The services
are fedi/forum/events.py; who may register is the policy's to say, asked before the
button is shown.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_datetime
from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, NotFound
from fedi.federation.events import local_time
from fedi.forum import events as event_service
from fedi.forum import events_mail, policy
from fedi.forum import groups as group_service
from fedi.forum.events_views import online_link_for
from fedi.forum.policy import Action
from fedi.routes.negotiation import HtmlPage
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    is_refusal,
    read_form,
    refusal_of,
    refusal_text,
    require_viewer,
    row_page,
    text,
    web_endpoint,
)
from fedi.web.pages import group_path
from fedi.web.render import language, page, redirect
from fedi.web.session import current_viewer
from fedi.web.upload_forms import (
    MediaInput,
    attachments_kept,
    form_media,
    read_post_form,
    upload_context,
)
from storage import actors as actor_store
from storage import events as event_store
from storage import posts as post_store
from storage.actors import Actor
from storage.events import Event

LIST_LIMIT = 100
NOTICES = ("registered", "pending", "cancelled", "saved", "created", "decided")


def event_path(event: Event) -> str:
    return f"/events/{event.id}"


async def _event(request: Request) -> Event:
    event_id = int_param(str(request.path_params.get("event_id", "")))
    if event_id is None:
        raise NotFound("This event does not exist.")
    async with ctx_of(request).pool.acquire() as conn:
        event = await event_store.get(conn, event_id)
    if event is None or event.deleted_at is not None:
        raise NotFound("This event does not exist.")
    return event


_TIME = {"de": "HH:mm 'Uhr'", "en": "HH:mm"}


def _when(lang: str) -> Any:
    """Start (and end) in the event's own time zone, as people read them, for the page;
    ``start_iso`` for ``<time datetime>``."""

    def when(event: Event) -> dict[str, str]:
        start_text = events_mail.when(event, lang)
        end_text = ""
        if event.ends_at is not None:
            end = local_time(event.ends_at, event.timezone)
            start = local_time(event.starts_at, event.timezone)
            pattern = _TIME.get(lang, _TIME["de"]) if end.date() == start.date() else None
            end_text = (format_datetime(end, pattern, locale=lang) if pattern
                        else events_mail.when(event, lang, moment=event.ends_at))
        return {"start": start_text, "end": end_text,
                "start_iso": event.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}

    return when


# Lists ------------------------------------------------------------------------------------

async def _list_page(request: Request, group: Actor | None) -> Response:
    ctx = ctx_of(request)
    past = request.query_params.get("past") in ("1", "true")
    async with ctx.pool.acquire() as conn:
        events = await event_store.listing(conn, group_id=group.id if group else None,
                                           past=past, limit=LIST_LIMIT)
        groups = {e.group_id: await actor_store.get(conn, e.group_id)
                  for e in events if e.group_id is not None}
        viewer = await current_viewer(request)
        may_create = False
        if viewer is not None and group is not None and group.local:
            may_create = await policy.refusal(conn, Action.CREATE_EVENT, viewer.actor,
                                              group=group) is None
    base = f"{group_path(group)}/events" if group is not None and group.local else "/events"
    query = f"?group={group.handle}" if group is not None and not group.local else ""
    return await page(request, "events.html", {
        "events": events, "groups": groups, "group": group, "past": past,
        "group_path": group_path, "when": _when(language(request)), "may_create": may_create,
        "list_path": base, "list_query": query,
        "ics": f"/groups/{group.username}/events.ics" if group is not None and group.local
        else "/events.ics",
    })


@web_endpoint
async def all_events(request: Request) -> Response:
    group = None
    ref = request.query_params.get("group")
    if ref:
        ctx = ctx_of(request)
        name, host = group_service.split_ref(ref, ctx.settings.host)
        async with ctx.pool.acquire() as conn:
            group = await actor_store.by_handle(conn, name, host, "Group")
        if group is None:
            raise NotFound("This group does not exist here.")
    return await _list_page(request, group)


@web_endpoint
async def group_events(request: Request) -> Response:
    group = await group_service.find_group(ctx_of(request), request.path_params["name"])
    if not group.local:
        raise NotFound("This group does not exist here.")
    return await _list_page(request, group)


# The event page ---------------------------------------------------------------------------

async def event_page(request: Request, event: Event, *, status: int = 200,
                     errors: dict[str, str] | None = None) -> Response:
    if event.deleted_at is not None:
        raise NotFound("This event does not exist.")
    ctx = ctx_of(request)
    viewer = await current_viewer(request)
    async with ctx.pool.acquire() as conn:
        group = await actor_store.get(conn, event.group_id) if event.group_id else None
        organiser = (await actor_store.get(conn, event.organiser_id)
                     if event.organiser_id else None)
        thread = await post_store.get(conn, event.thread_id) if event.thread_id else None
        mine = (await event_store.participant(conn, event.id, viewer.actor.id)
                if viewer is not None else None)
        is_organiser = await event_service.is_organiser(
            conn, viewer.actor if viewer else None, event)
        register_refusal = None
        if viewer is not None and (mine is None or mine.state not in ("accepted", "pending")):
            register_refusal = refusal_of(request, await policy.refusal(
                conn, Action.REGISTER, viewer.actor, group=group, event=event))
        participants = (await event_store.participants(conn, event.id)
                        if is_organiser else [])
    state = mine.state if mine is not None else None
    notice = request.query_params.get("done")
    return await page(request, "event.html", {
        "event": event, "group": group, "organiser": organiser, "thread": thread,
        "group_path": group_path, "when": _when(language(request))(event),
        "online_link": online_link_for(event, participant_state=state,
                                       organiser=is_organiser),
        "state": state, "is_organiser": is_organiser, "register_refusal": register_refusal,
        "participants": participants, "notice": notice if notice in NOTICES else None,
        "errors": errors or {},
    }, status=status)


@web_endpoint
async def register(request: Request) -> Response:
    """POST /events/{id}/register: ``action`` = register or cancel."""
    event = await _event(request)
    viewer = await require_viewer(request, event_path(event))
    form = await read_form(request)
    ctx = ctx_of(request)
    try:
        if text(form, "action") == "cancel":
            await event_service.cancel_registration(ctx, actor=viewer.actor, event=event)
            done = "cancelled"
        else:
            result = await event_service.register(ctx, actor=viewer.actor, event=event,
                                                  message=text(form, "message")[:2000] or None)
            done = "registered" if result.participant.state == "accepted" else "pending"
    except AppError as exc:
        return await event_page(request, event, status=exc.status,
                                errors={"_refusal": refusal_text(request, exc)})
    return redirect(request, f"{event_path(event)}?done={done}")


@web_endpoint
async def decide(request: Request) -> Response:
    """POST /events/{id}/participants/{pid}: ``action`` = approve or reject."""
    event = await _event(request)
    viewer = await require_viewer(request, event_path(event))
    form = await read_form(request)
    participant_id = int_param(str(request.path_params.get("pid", "")))
    if participant_id is None:
        raise NotFound("This registration does not exist.")
    try:
        await event_service.decide(ctx_of(request), actor=viewer.actor, event=event,
                                   participant_id=participant_id,
                                   accept=text(form, "action") == "approve")
    except AppError as exc:
        if not is_refusal(exc):
            raise
        return await event_page(request, event, status=exc.status,
                                errors={"_refusal": refusal_text(request, exc)})
    return redirect(request, f"{event_path(event)}?done=decided#participants")


@web_endpoint
async def participants_csv(request: Request) -> Response:
    """The participant list as CSV (organisers), UTF-8 with a BOM for spreadsheets."""
    event = await _event(request)
    viewer = await require_viewer(request, event_path(event))
    items = await event_service.participants(ctx_of(request), actor=viewer.actor, event=event)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "handle", "state", "registered_at", "message"])
    for item in items:
        writer.writerow([item.actor.name or item.actor.username, item.actor.handle,
                         item.participant.state, item.participant.created_at.isoformat(),
                         (item.participant.message or "").replace("\n", " ")])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="event-{event.id}-participants.csv"'})


# The form ---------------------------------------------------------------------------------

_FIELDS = ("title", "description", "starts_at", "ends_at", "timezone", "place_name",
           "street", "postal_code", "locality", "country", "online_url", "online_visibility",
           "status", "registration", "external_url", "capacity", "registration_deadline",
           "agenda", "minutes")


def _form_values(event: Event) -> dict[str, str]:
    def moment(value: datetime | None) -> str:
        return local_time(value, event.timezone).strftime("%Y-%m-%dT%H:%M") if value else ""

    agenda = "\n".join(" | ".join(x for x in (item.get("time", ""), item.get("title", ""),
                                              item.get("speaker", ""))) for item in event.agenda)
    return {
        "title": event.title, "description": event.description_source or "",
        "starts_at": moment(event.starts_at), "ends_at": moment(event.ends_at),
        "timezone": event.timezone, "place_name": event.place_name or "",
        "street": event.street or "", "postal_code": event.postal_code or "",
        "locality": event.locality or "", "country": event.country or "",
        "online_url": event.online_url or "", "online_visibility": event.online_visibility,
        "status": event.status, "registration": event.registration,
        "external_url": event.external_url or "",
        "capacity": "" if event.capacity is None else str(event.capacity),
        "registration_deadline": moment(event.registration_deadline),
        "agenda": agenda, "minutes": event.minutes_source or "",
    }


def _data(values: dict[str, str], *, editing: bool) -> dict[str, Any]:
    """The form's fields as the service's JSON (empty optional fields: none)."""
    agenda = []
    for line in values["agenda"].splitlines():
        if line.strip():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 1:
                parts = ["", parts[0], ""]
            agenda.append({"time": parts[0], "title": parts[1] if len(parts) > 1 else "",
                           "speaker": parts[2] if len(parts) > 2 else ""})
    capacity: Any = values["capacity"].strip() or None
    if capacity is not None:
        capacity = int(capacity) if capacity.isdigit() else -1
    data: dict[str, Any] = {
        "title": values["title"], "description": values["description"],
        "starts_at": values["starts_at"] or None, "ends_at": values["ends_at"] or None,
        "timezone": values["timezone"] or "Europe/Berlin",
        "place": {"name": values["place_name"], "street": values["street"],
                  "postal_code": values["postal_code"], "locality": values["locality"],
                  "country": values["country"]},
        "online_url": values["online_url"] or None,
        "online_visibility": values["online_visibility"] or "participants",
        "status": values["status"] or "confirmed",
        "registration": values["registration"] or "free",
        "external_url": values["external_url"] or None, "capacity": capacity,
        "registration_deadline": values["registration_deadline"] or None,
        "agenda": agenda,
    }
    if editing:
        data["minutes"] = values["minutes"] or None
    return data


async def _form(request: Request, *, group: Actor, event: Event | None,
                values: dict[str, str], errors: dict[str, str], status: int = 200,
                media: MediaInput | None = None) -> Response:
    """The form; ``media``: what a submitted form brought (kept uploads, typed alt
    texts), else the event's own files (templates/_upload_fields.html)."""
    action = (f"{event_path(event)}/edit" if event is not None
              else f"{group_path(group)}/events/new")
    files = (upload_context(request, kept=media.kept, alts=media.alts) if media is not None
             else upload_context(request, kept=attachments_kept(event.attachments)
                                 if event is not None else None))
    return await page(request, "event_form.html", {
        "group": group, "event": event, "values": values, "errors": errors,
        "action": action, "group_path": group_path, **files,
        "back": event_path(event) if event is not None else f"{group_path(group)}/events",
    }, status=status)


async def _local_group(request: Request) -> Actor:
    group = await group_service.find_group(ctx_of(request), request.path_params["name"])
    if not group.local:
        raise NotFound("This group does not exist here.")
    return group


@web_endpoint
async def new_event_form(request: Request) -> Response:
    group = await _local_group(request)
    viewer = await require_viewer(request)
    async with ctx_of(request).pool.acquire() as conn:
        await policy.require(conn, Action.CREATE_EVENT, viewer.actor, group=group)
    values = {name: "" for name in _FIELDS}
    values.update(timezone="Europe/Berlin", online_visibility="participants",
                  status="confirmed", registration="free")
    return await _form(request, group=group, event=None, values=values, errors={})


async def _submitted(request: Request, actor: Actor) -> tuple[dict[str, str], MediaInput]:
    """The typed fields, and the form's files uploaded (multipart, as the post forms:
    fedi/web/upload_forms.py)."""
    form = await read_post_form(request)
    values = {name: text(form, name) for name in _FIELDS}
    return values, await form_media(request, actor, form)


@web_endpoint
async def new_event(request: Request) -> Response:
    group = await _local_group(request)
    viewer = await require_viewer(request, f"{group_path(group)}/events/new")
    async with ctx_of(request).pool.acquire() as conn:  # before any file is stored
        await policy.require(conn, Action.CREATE_EVENT, viewer.actor, group=group)
    values, media = await _submitted(request, viewer.actor)
    try:
        if media.error is not None:
            raise media.error
        event = await event_service.create_event(
            ctx_of(request), organiser=viewer.actor, group=group,
            data={**_data(values, editing=False), "media_ids": media.ids})
    except AppError as exc:
        return await _form(request, group=group, event=None, values=values,
                           errors=field_errors(request, exc), status=exc.status, media=media)
    return redirect(request, f"{event_path(event)}?done=created")


async def _editable(request: Request) -> tuple[Event, Actor, Any]:
    event = await _event(request)
    viewer = await require_viewer(request, event_path(event))
    async with ctx_of(request).pool.acquire() as conn:
        group = await actor_store.get(conn, event.group_id) if event.group_id else None
        allowed = await event_service.is_organiser(conn, viewer.actor, event)
    if group is None or not event.local or not allowed:
        raise policy.Refusal("events_moderators_only").error()
    return event, group, viewer


@web_endpoint
async def edit_event_form(request: Request) -> Response:
    event, group, _ = await _editable(request)
    return await _form(request, group=group, event=event, values=_form_values(event),
                       errors={})


@web_endpoint
async def edit_event(request: Request) -> Response:
    event, group, viewer = await _editable(request)
    values, media = await _submitted(request, viewer.actor)
    try:
        if media.error is not None:
            raise media.error
        await event_service.update_event(
            ctx_of(request), actor=viewer.actor, event=event,
            data={**_data(values, editing=True), "media_ids": media.ids})
    except AppError as exc:
        return await _form(request, group=group, event=event, values=values,
                           errors=field_errors(request, exc), status=exc.status, media=media)
    return redirect(request, f"{event_path(event)}?done=saved")


HTML_PAGES: dict[str, HtmlPage] = {"event": row_page(event_page)}
