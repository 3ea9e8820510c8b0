"""The admin area's page for a group's move to another instance (FEP-7628):
``/admin/groups/{name}/move`` shows the group's aliases and where it moved, adds or
removes an alias (the group that moves here), and moves the group away. Admins only;
every action calls :mod:`fedi.forum.group_move`, as ``/api/v1/admin/groups/{name}/aliases``
and ``.../move`` do."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Forbidden, ValidationFailed
from fedi.forum import group_move
from fedi.forum.staff import Staff
from fedi.web.admin_area_pages import require_admin_viewer
from fedi.web.admin_pages import UNKNOWN_ACTION
from fedi.web.common import ctx_of, field_errors, read_form, text, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import page, redirect, translate

ALIAS_MISSING = N_("The target group does not name this group as an alias yet: its "
                   "administrators must first add this group as an alias on their "
                   "instance.")


async def _page(request: Request, staff: Staff, *, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    found = await group_move.local_group(ctx_of(request), request.path_params["name"])
    return await page(request, "admin_group_move.html", {
        "group": found, "aliases": await group_move.aliases(ctx_of(request), staff,
                                                            found.username),
        "errors": errors or {}, "values": values or {}}, status=status)


@web_endpoint
async def move_page(request: Request) -> Response:
    staff = await require_admin_viewer(request)
    return await _page(request, staff)


@web_endpoint
async def change(request: Request) -> Response:
    """``action``: ``alias`` (add ``actor``), ``unalias`` (remove ``actor``) or ``move``
    (to ``target``)."""
    staff = await require_admin_viewer(request)
    name = request.path_params["name"]
    form = await read_form(request)
    action = text(form, "action")
    field = "target" if action == "move" else "actor"
    value = text(form, field).strip()
    ctx = ctx_of(request)
    try:
        if action == "alias":
            await group_move.add_alias(ctx, staff, name, value)
        elif action == "unalias":
            await group_move.remove_alias(ctx, staff, name, value)
        elif action == "move":
            await group_move.move_group(ctx, staff, name, value)
        else:
            raise ValidationFailed(UNKNOWN_ACTION, field="action")
    except Forbidden:
        raise
    except AppError as exc:
        errors = field_errors(request, exc)
        if exc.code == "alias_missing":
            errors = {"target": translate(request, ALIAS_MISSING)}
        elif "" in errors or exc.field not in (field, None):
            errors = {field: next(iter(errors.values()))}
        return await _page(request, staff, errors=errors, values={field: value},
                           status=exc.status)
    return redirect(request, f"/admin/groups/{name}/move", flash="admin_saved")
