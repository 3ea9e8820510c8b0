"""The terms of use and the privacy policy as pages, the page on which a logged-in person
accepts a new version, and the admin form that publishes a version of any legal document
(fedi/forum/terms.py; the Impressum, accessibility statement and Netiquette pages are
fedi/web/legal_pages.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError
from fedi.forum import legal, terms
from fedi.forum.staff import Staff, require_admin
from fedi.web.common import (
    ctx_of,
    field_errors,
    read_form,
    require_staff,
    require_viewer,
    text,
    web_endpoint,
)
from fedi.web.render import page, redirect, safe_next
from fedi.web.session import current_viewer

# The page of each document (linked from every page's footer and the sign-up form).
PAGES = {"terms": "/nutzungsbedingungen", "privacy": "/datenschutz"}
ACCEPT_PAGE = "/zustimmen"


async def _document(request: Request, kind: str) -> Response:
    viewer = await current_viewer(request)
    async with ctx_of(request).pool.acquire() as conn:
        document = await terms.current(conn, kind)
        due = [d.kind for d in await terms.due(conn, viewer.account)] if viewer else []
    return await page(request, "terms.html", {"document": document,
                                              "must_accept": kind in due})


@web_endpoint
async def terms_of_use(request: Request) -> Response:
    return await _document(request, "terms")


@web_endpoint
async def privacy_policy(request: Request) -> Response:
    return await _document(request, "privacy")


@web_endpoint
async def accept_form(request: Request) -> Response:
    viewer = await require_viewer(request)
    async with ctx_of(request).pool.acquire() as conn:
        due = await terms.due(conn, viewer.account)
    return await page(request, "terms_accept.html", {
        "due": due, "next": safe_next(request.query_params.get("next")), "errors": {}})


@web_endpoint
async def accept(request: Request) -> Response:
    """Accept the versions the form showed (hidden fields kind=version): a version
    published meanwhile is refused (409) and the page shows the new text."""
    viewer = await require_viewer(request)
    form = await read_form(request)
    next_path = safe_next(text(form, "next"))
    ctx = ctx_of(request)
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            for kind in terms.CONSENT_KINDS:
                shown = text(form, kind)
                if shown.isdigit() and len(shown) < 10:
                    await terms.accept(conn, viewer.account, kind, int(shown))
    except AppError as exc:
        async with ctx.pool.acquire() as conn:
            due = await terms.due(conn, viewer.account)
        return await page(request, "terms_accept.html", {
            "due": due, "next": next_path, "errors": field_errors(request, exc)},
            status=exc.status)
    return redirect(request, next_path, flash="terms_accepted")


# Admins ---------------------------------------------------------------------------------

async def _admin(request: Request) -> Staff:
    staff = await require_staff(request)
    require_admin(staff)
    return staff


@web_endpoint
async def admin_form(request: Request) -> Response:
    await _admin(request)
    kind = request.query_params.get("kind", "terms")
    kind = kind if kind in terms.KINDS else "terms"
    async with ctx_of(request).pool.acquire() as conn:
        versions = await terms.versions(conn, kind)
    # A document nobody published yet starts from its German template (never shown to
    # the public before an admin publishes it: fedi/forum/legal.py).
    return await page(request, "admin_terms.html", {
        "kind": kind, "kinds": terms.KINDS, "consent_kinds": terms.CONSENT_KINDS,
        "versions": versions,
        "value": versions[0].source if versions else legal.template(kind), "errors": {}})


@web_endpoint
async def admin_publish(request: Request) -> Response:
    staff = await _admin(request)
    form = await read_form(request)
    kind = text(form, "kind")
    kind = kind if kind in terms.KINDS else "terms"
    ctx = ctx_of(request)
    try:
        await terms.publish(ctx, staff, kind, text(form, "text"))
    except AppError as exc:
        async with ctx.pool.acquire() as conn:
            versions = await terms.versions(conn, kind)
        return await page(request, "admin_terms.html", {
            "kind": kind, "kinds": terms.KINDS, "consent_kinds": terms.CONSENT_KINDS,
            "versions": versions, "value": text(form, "text"),
            "errors": field_errors(request, exc)}, status=exc.status)
    return redirect(request, f"/admin/terms?kind={kind}", flash="terms_published")
