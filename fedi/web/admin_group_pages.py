"""The admin area's group pages: the list and a new group (``/admin/groups``), a group's
settings and moderators (``/admin/groups/{name}``), deleting a group with a confirmation.

Admins see every local group and may create and delete; a group's moderators see and
edit their own groups only. Every action calls :mod:`fedi.forum.groups` (as
``/api/v1/admin/groups`` does) after the same role check, and the service writes the
modlog entry and sends the federated activity.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from fedi.forum import groups as group_service
from fedi.forum.posts import KINDS
from fedi.forum.staff import Staff, check_reason, require_moderator
from fedi.web.admin_area_pages import require_admin_viewer
from fedi.web.admin_pages import UNKNOWN_ACTION
from fedi.web.common import ctx_of, field_errors, read_form, require_staff, text, web_endpoint
from fedi.web.render import page, redirect
from storage import actors as actor_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage.actors import Actor

# Form field -> the service's field (create_local_actor names the taken name "username").
_FIELD_OF = {"username": "name"}


def _errors(request: Request, exc: AppError) -> dict[str, str]:
    errors = field_errors(request, exc)
    return {_FIELD_OF.get(key, key): message for key, message in errors.items()}


async def _own_group(request: Request, staff: Staff) -> Actor:
    """The local group of the path, if ``staff`` moderates it (or is an admin)."""
    name = request.path_params["name"]
    async with ctx_of(request).pool.acquire() as conn:
        group = await actor_store.local_by_name(conn, name, "Group")
        if group is None:
            raise NotFound("This group does not exist here.")
        await require_moderator(conn, staff, group)
    return group


# The list and a new group --------------------------------------------------------------------

async def _list_page(request: Request, staff: Staff, *, values: dict[str, Any],
                     errors: dict[str, str], status: int = 200) -> Response:
    async with ctx_of(request).pool.acquire() as conn:
        groups = await group_store.list_groups(conn, local=True)
        if not staff.is_admin:
            own = set(await moderation_store.moderated_group_ids(conn, staff.actor.id))
            if not own:
                raise Forbidden("Only moderators and administrators may do this.")
            groups = [g for g in groups if g.id in own]
    return await page(request, "admin_groups.html", {
        "groups": groups, "values": values, "errors": errors, "kinds": KINDS,
    }, status=status)


@web_endpoint
async def groups(request: Request) -> Response:
    staff = await require_staff(request)
    return await _list_page(request, staff, values={"default_kind": "question"}, errors={})


def _group_values(form: FormData) -> dict[str, Any]:
    return {"title": text(form, "title"), "summary": text(form, "summary"),
            "rules": text(form, "rules"), "default_kind": text(form, "default_kind"),
            "posting_restricted_to_mods": text(form, "who_starts") == "moderators"}


@web_endpoint
async def create(request: Request) -> Response:
    """POST /admin/groups: a new group, the admin who creates it its first moderator."""
    staff = await require_admin_viewer(request, "/admin/groups")
    form = await read_form(request)
    values = {"name": text(form, "name").strip(), **_group_values(form)}
    try:
        group = await group_service.create_group(
            ctx_of(request), staff, name=values["name"], title=values["title"],
            summary=values["summary"], rules=values["rules"],
            posting_restricted_to_mods=values["posting_restricted_to_mods"],
            default_kind=values["default_kind"], moderators=[staff.actor])
    except Forbidden:
        raise
    except AppError as exc:
        return await _list_page(request, staff, values=values, errors=_errors(request, exc),
                                status=exc.status)
    return redirect(request, f"/admin/groups/{group.username}", flash="group_created")


# One group -----------------------------------------------------------------------------------

async def _group_page(request: Request, staff: Staff, group: Actor, *,
                      values: dict[str, Any] | None = None,
                      errors: dict[str, str] | None = None,
                      moderator_errors: dict[str, str] | None = None,
                      moderator_value: str = "", status: int = 200) -> Response:
    async with ctx_of(request).pool.acquire() as conn:
        row = await group_store.get(conn, group.id)
        moderators = await group_store.moderators(conn, group.id)
    if values is None:
        values = {"title": group.name or group.username,
                  "summary": row.summary_source if row else "",
                  "rules": row.rules_source if row else "",
                  "default_kind": row.default_kind if row else "question",
                  "microblog_fanout": row.microblog_fanout if row else "threads",
                  "posting_restricted_to_mods": group.posting_restricted_to_mods}
    return await page(request, "admin_group.html", {
        "group": group, "values": values, "errors": errors or {}, "kinds": KINDS,
        "moderators": moderators, "moderator_errors": moderator_errors or {},
        "moderator_value": moderator_value,
    }, status=status)


@web_endpoint
async def group(request: Request) -> Response:
    staff = await require_staff(request)
    return await _group_page(request, staff, await _own_group(request, staff))


@web_endpoint
async def save_group(request: Request) -> Response:
    """POST /admin/groups/{name}: title, summary, rules, default kind, who starts threads
    (fedi.forum.groups.update_group: Update(Group) to the followers)."""
    staff = await require_staff(request)
    found = await _own_group(request, staff)
    form = await read_form(request)
    values = _group_values(form)
    if "microblog_fanout" in form:  # the edit page's field (the new-group form has none)
        values["microblog_fanout"] = text(form, "microblog_fanout")
    try:
        await group_service.update_group(ctx_of(request), staff, found.username, values)
    except Forbidden:
        raise
    except AppError as exc:
        return await _group_page(request, staff, found, values=values,
                                 errors=_errors(request, exc), status=exc.status)
    return redirect(request, f"/admin/groups/{found.username}", flash="admin_saved")


@web_endpoint
async def change_moderator(request: Request) -> Response:
    """POST /admin/groups/{name}/moderators: ``action`` add or remove, ``actor`` a local
    name, ``name@host`` or an actor URL."""
    staff = await require_staff(request)
    found = await _own_group(request, staff)
    form = await read_form(request)
    action = text(form, "action")
    ref = text(form, "actor").strip()
    try:
        if action not in ("add", "remove"):
            raise ValidationFailed(UNKNOWN_ACTION, field="action")
        await group_service.set_moderator(ctx_of(request), staff, found.username, ref,
                                          appoint=action == "add")
    except Forbidden:
        raise
    except AppError as exc:
        return await _group_page(request, staff, found, moderator_errors=_errors(request, exc),
                                 moderator_value=ref, status=exc.status)
    return redirect(request, f"/admin/groups/{found.username}#moderators-heading",
                    flash="admin_saved")


# Deleting a group ----------------------------------------------------------------------------

@web_endpoint
async def delete_form(request: Request) -> Response:
    staff = await require_admin_viewer(request)
    found = await _own_group(request, staff)
    return await page(request, "admin_group_delete.html", {
        "group": found, "values": {}, "errors": {}})


@web_endpoint
async def delete(request: Request) -> Response:
    staff = await require_admin_viewer(request)
    found = await _own_group(request, staff)
    form = await read_form(request)
    reason = text(form, "reason")
    try:
        await group_service.delete_group(ctx_of(request), staff, found.username,
                                          reason=check_reason(reason))
    except Forbidden:
        raise
    except AppError as exc:
        return await page(request, "admin_group_delete.html", {
            "group": found, "values": {"reason": reason},
            "errors": _errors(request, exc)}, status=exc.status)
    return redirect(request, "/admin/groups", flash="group_deleted")
