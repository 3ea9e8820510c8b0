"""Bans from the web: ban a person from a group (its moderators) or from the whole
instance (admins), list the bans in force and lift one.

The same services as ``/api/v1/admin/bans`` (:func:`fedi.forum.bans.ban`,
``unban``, ``list_bans``) decide who may ban whom.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedi.core import i18n
from fedi.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from fedi.forum import bans as ban_service
from fedi.forum.staff import Staff, check_reason, may_moderate_something
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    read_form,
    require_staff,
    text,
    web_endpoint,
)
from fedi.web.messages import N_
from fedi.web.render import page, redirect, safe_next
from storage import actors as actor_store
from storage import groups as group_store
from storage.actors import Actor

BANS_PER_PAGE = 50
BAD_EXPIRY = N_("Enter the end of the ban as a date and time, or leave the field empty.")
_FIELDS = ("actor", "group", "reason", "expires_at")


async def _scopes(request: Request, staff: Staff) -> list[Actor]:
    """The local groups ``staff`` may ban from (403 for someone who moderates none)."""
    async with ctx_of(request).pool.acquire() as conn:
        moderated = await may_moderate_something(conn, staff)
        groups = await group_store.list_groups(conn, local=True)
    return [g for g in groups if moderated is None or g.id in moderated]


def parse_expiry(value: str) -> datetime | None:
    """A ``datetime-local`` field (no zone: the forum's time zone), or None when empty."""
    if not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(BAD_EXPIRY, field="expires_at") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=i18n.TIME_ZONE)


async def _form(request: Request, staff: Staff, values: dict[str, Any],
                errors: dict[str, str], status: int = 200) -> Response:
    return await page(request, "mod_ban.html", {
        "groups": await _scopes(request, staff), "is_admin": staff.is_admin,
        "values": values, "errors": errors,
    }, status=status)


@web_endpoint
async def ban_form(request: Request) -> Response:
    """GET /mod/ban?actor=name@host&group=name&next=/path"""
    staff = await require_staff(request)
    query = request.query_params
    values = {"actor": query.get("actor", ""), "group": query.get("group", ""),
              "next": safe_next(query.get("next"), "")}
    return await _form(request, staff, values, {})


@web_endpoint
async def ban(request: Request) -> Response:
    staff = await require_staff(request, "/mod/ban")
    form = await read_form(request)
    # Who moderates nothing is refused before the service looks anyone up elsewhere.
    await _scopes(request, staff)
    values: dict[str, Any] = {name: text(form, name) for name in _FIELDS}
    values["remove_content"] = text(form, "remove_content") == "on"
    values["next"] = safe_next(text(form, "next"), "")
    try:
        if not values["actor"].strip():
            raise ValidationFailed("actor is required: a handle name@host or an actor URL",
                                   field="actor")
        await ban_service.ban(
            ctx_of(request), staff, actor_ref=values["actor"],
            group_ref=values["group"] or None,
            reason=check_reason(values["reason"]),
            expires_at=parse_expiry(values["expires_at"]),
            remove_content=values["remove_content"])
    except Forbidden:
        raise
    except AppError as exc:
        return await _form(request, staff, values, field_errors(request, exc),
                           status=exc.status)
    return redirect(request, values["next"] or "/mod/bans", flash="banned")


@web_endpoint
async def bans(request: Request) -> Response:
    """GET /mod/bans?before=<id>: bans in force, newest first."""
    ctx = ctx_of(request)
    staff = await require_staff(request)
    before = int_param(request.query_params.get("before"))
    rows = await ban_service.list_bans(ctx, staff, limit=BANS_PER_PAGE + 1, before_id=before,
                                       active_only=True)
    older = None
    if len(rows) > BANS_PER_PAGE:
        rows = rows[:BANS_PER_PAGE]
        older = f"/mod/bans?before={rows[-1].id}"
    actors: dict[int, Actor] = {}
    async with ctx.pool.acquire() as conn:
        for actor_id in {i for b in rows for i in (b.actor_id, b.group_id, b.created_by)}:
            actor = await actor_store.get(conn, actor_id) if actor_id is not None else None
            if actor is not None:
                actors[actor.id] = actor
    return await page(request, "mod_bans.html", {
        "bans": rows, "actors": actors, "older": older,
        "newest": "/mod/bans" if before else None,
    })


@web_endpoint
async def lift_ban(request: Request) -> Response:
    staff = await require_staff(request, "/mod/bans")
    await read_form(request)
    ban_id = int_param(str(request.path_params["ban_id"]))
    if ban_id is None:
        raise NotFound("This ban does not exist.")
    await ban_service.unban(ctx_of(request), staff, ban_id)
    return redirect(request, "/mod/bans", flash="unbanned")
