"""The admin area's start page (``/admin``) and the instance settings (``/admin/settings``).

The settings form calls the services the admin API calls, after the same role check:
:mod:`fedi.forum.instance_settings` (name, description, start page text, contact,
language, registration and confirmation modes; ``PUT /api/v1/admin/settings/instance``)
and :mod:`fedi.forum.domains` (allowlist mode and the allowed domains;
``/api/v1/admin/settings/moderation`` and ``/api/v1/admin/domains``). Every service writes
its modlog entry.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Forbidden, ValidationFailed
from fedi.forum import accounts as account_service
from fedi.forum import confirmation
from fedi.forum import domains as domain_service
from fedi.forum import instance_settings as instance_service
from fedi.forum.legal import missing_required_documents
from fedi.forum.staff import Staff, require_admin
from fedi.web.common import ctx_of, field_errors, read_form, require_staff, text, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import page, redirect
from storage import moderation as moderation_store

# The fields of the settings form that fedi.forum.instance_settings keeps.
INSTANCE_FIELDS = ("name", "description", "lead_markdown", "contact_email",
                   "default_language", "registration_mode", "email_confirmation")
MAX_ALLOWED_DOMAINS = 500
TOO_MANY_DOMAINS = N_("Please enter at most 500 domains.")
# A required page that has no published version (§ 5 DDG, Art. 13 DSGVO, BITV 2.0).
MISSING_DOCUMENT = {
    "impressum": N_("The Impressum is not published yet."),
    "privacy": N_("The privacy policy is still the built-in draft."),
    "accessibility": N_("The accessibility statement is not published yet."),
}


async def require_admin_viewer(request: Request, next_path: str | None = None) -> Staff:
    """The logged-in admin (log-in page for visitors, 403 for everyone else)."""
    staff = await require_staff(request, next_path)
    require_admin(staff)
    return staff


# Start page -------------------------------------------------------------------------------

@web_endpoint
async def start(request: Request) -> Response:
    """GET /admin: the sections, and what needs the admins' attention."""
    await require_admin_viewer(request)
    # What needs attention, each a sentence (a message id, translated by the template).
    async with ctx_of(request).pool.acquire() as conn:
        missing = await missing_required_documents(conn)
    # (sentence, the form that fixes it)
    warnings = [(MISSING_DOCUMENT[kind], f"/admin/terms?kind={kind}") for kind in missing
                if kind in MISSING_DOCUMENT]
    return await page(request, "admin_start.html", {"warnings": warnings})


# Instance settings ------------------------------------------------------------------------

async def _current(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    async with ctx.pool.acquire() as conn:
        values = await instance_service.view(conn, ctx.settings.instance_name)
        moderation = await domain_service.moderation_settings(conn)
        allows = await moderation_store.domain_allows(conn)
    values["allowlist_mode"] = moderation["allowlist_mode"]
    values["allowed_domains"] = "\n".join(sorted(a.domain for a in allows))
    return values


async def _settings_page(request: Request, values: dict[str, Any], errors: dict[str, str],
                         status: int = 200) -> Response:
    return await page(request, "admin_settings.html", {
        "values": values, "errors": errors,
        "registration_modes": account_service.REGISTRATION_MODES,
        "confirmation_modes": confirmation.CONFIRMATION_MODES,
    }, status=status)


@web_endpoint
async def settings(request: Request) -> Response:
    await require_admin_viewer(request)
    return await _settings_page(request, await _current(request), {})


def _domain_lines(request: Request, raw: str) -> list[str]:
    """The allowed domains, one a line (commas and spaces separate too), each checked
    as the domain service checks it."""
    names = [part for line in raw.replace(",", "\n").splitlines()
             for part in line.split() if part]
    if len(names) > MAX_ALLOWED_DOMAINS:
        raise ValidationFailed(TOO_MANY_DOMAINS, field="allowed_domains")
    checked: list[str] = []
    for name in names:
        try:
            domain = domain_service.check_domain(ctx_of(request), name)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, field="allowed_domains") from None
        if domain not in checked:
            checked.append(domain)
    return checked


def _form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name) for name in INSTANCE_FIELDS}
    values["allowlist_mode"] = text(form, "allowlist_mode") == "on"
    values["allowed_domains"] = text(form, "allowed_domains")
    return values


@web_endpoint
async def save_settings(request: Request) -> Response:
    """POST /admin/settings: everything checked first, then each service changes its
    part (and writes its modlog entry); nothing is written when any field is wrong."""
    staff = await require_admin_viewer(request, "/admin/settings")
    form = await read_form(request)
    values = _form_values(form)
    ctx = ctx_of(request)
    try:
        changes = instance_service.check_changes(
            {name: values[name] for name in INSTANCE_FIELDS})
        wanted = set(_domain_lines(request, values["allowed_domains"]))
    except Forbidden:
        raise
    except AppError as exc:
        return await _settings_page(request, values, field_errors(request, exc), exc.status)
    before = await _current(request)
    await instance_service.update(ctx, staff, changes)
    if values["allowlist_mode"] != before["allowlist_mode"]:
        await domain_service.update_settings(ctx, staff,
                                             {"allowlist_mode": values["allowlist_mode"]})
    had = set(before["allowed_domains"].split())
    for domain in sorted(wanted - had):
        await domain_service.set_domain(ctx, staff, domain, blocked=None, allowed=True,
                                        reason="")
    for domain in sorted(had - wanted):
        await domain_service.set_domain(ctx, staff, domain, blocked=None, allowed=False,
                                        reason="")
    return redirect(request, "/admin/settings", flash="admin_saved")
