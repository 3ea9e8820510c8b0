"""Administrators' pages: domain blocks, the health of known instances, pending sign-ups.

Actions go through :mod:`fedi.forum.domains` (``set_domain``, ``instance_action``) and
:mod:`fedi.forum.accounts_admin` (``account_action``), as ``/api/v1/admin/domains``,
``/instances`` and ``/accounts`` do; the two lists read the same storage functions as those
API endpoints, after the same ``require_admin``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Forbidden, ValidationFailed
from fedi.forum import domains as domain_service
from fedi.forum.accounts_admin import account_action
from fedi.forum.staff import Staff, check_reason, require_admin
from fedi.web.common import ctx_of, field_errors, read_form, require_staff, text, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import page, redirect
from storage import accounts as account_store
from storage import moderation as moderation_store

INSTANCES_PER_PAGE = 50
UNKNOWN_ACTION = N_("This action does not exist.")


# Domain blocks ----------------------------------------------------------------------------

async def _domains_page(request: Request, staff: Staff, *, values: dict[str, str],
                        errors: dict[str, str], status: int = 200) -> Response:
    domains = await domain_service.list_domains(ctx_of(request), staff)
    return await page(request, "admin_domains.html", {
        "domains": domains, "values": values, "errors": errors}, status=status)


@web_endpoint
async def domains(request: Request) -> Response:
    staff = await require_staff(request)
    return await _domains_page(request, staff, values={}, errors={})


@web_endpoint
async def change_domain(request: Request) -> Response:
    """POST /admin/domains: ``action`` block (with domain and reason) or unblock."""
    staff = await require_staff(request, "/admin/domains")
    form = await read_form(request)
    action = text(form, "action")
    values = {"domain": text(form, "domain"), "reason": text(form, "reason")}
    if action not in ("block", "unblock"):
        raise ValidationFailed(UNKNOWN_ACTION, field="action")
    try:
        await domain_service.set_domain(ctx_of(request), staff, values["domain"],
                                        blocked=action == "block", allowed=None,
                                        reason=check_reason(values["reason"]))
    except Forbidden:
        raise
    except AppError as exc:
        return await _domains_page(request, staff, values=values,
                                   errors=field_errors(request, exc), status=exc.status)
    return redirect(request, "/admin/domains",
                    flash="domain_blocked" if action == "block" else "domain_unblocked")


# Instances --------------------------------------------------------------------------------

@web_endpoint
async def instances(request: Request) -> Response:
    """GET /admin/instances?after=<domain>: every known host by name, with its health."""
    staff = await require_staff(request)
    require_admin(staff)
    after = request.query_params.get("after") or None
    async with ctx_of(request).pool.acquire() as conn:
        rows = await moderation_store.instances_overview(
            conn, limit=INSTANCES_PER_PAGE + 1, after_domain=after)
    older = None
    if len(rows) > INSTANCES_PER_PAGE:
        rows = rows[:INSTANCES_PER_PAGE]
        older = f"/admin/instances?after={rows[-1].domain}"
    return await page(request, "admin_instances.html", {
        "instances": rows, "older": older, "newest": "/admin/instances" if after else None})


@web_endpoint
async def reset_instance(request: Request) -> Response:
    staff = await require_staff(request, "/admin/instances")
    await read_form(request)
    await domain_service.instance_action(ctx_of(request), staff,
                                         request.path_params["domain"], "reset")
    return redirect(request, "/admin/instances", flash="instance_reset")


# Pending sign-ups -------------------------------------------------------------------------

@web_endpoint
async def signups(request: Request) -> Response:
    staff = await require_staff(request)
    require_admin(staff)
    async with ctx_of(request).pool.acquire() as conn:
        accounts = [a for a in await account_store.list_all(conn) if a.status == "pending"]
    return await page(request, "admin_signups.html", {"accounts": accounts})


@web_endpoint
async def decide_signup(request: Request) -> Response:
    """POST /admin/signups/{name}: ``action`` approve or reject."""
    staff = await require_staff(request, "/admin/signups")
    form = await read_form(request)
    action = text(form, "action")
    if action not in ("approve", "reject"):
        raise ValidationFailed(UNKNOWN_ACTION, field="action")
    await account_action(ctx_of(request), staff, request.path_params["name"], action,
                         reason=check_reason(text(form, "reason")))
    return redirect(request, "/admin/signups",
                    flash="approved" if action == "approve" else "rejected")
