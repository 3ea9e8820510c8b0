"""JSON API for the legal documents: read the current terms of use and privacy policy
(with whether the caller accepted them) or the current version of any document (also the
Impressum, the accessibility statement and the Netiquette), accept one, and, for admins,
list and publish versions. The rules are fedi/forum/terms.py's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.forum import terms
from fedi.routes import auth
from fedi.routes.api_admin_common import admin
from fedi.routes.api_common import read_json, require_str
from fedi.routes.api_terms_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from storage.terms import Document

# Where each document is read in the web forum (fedi/web/terms_pages.py).
PAGES = {"terms": "/nutzungsbedingungen", "privacy": "/datenschutz",
         "impressum": "/impressum", "accessibility": "/barrierefreiheit", "rules": "/regeln"}


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def document_view(ctx: Context, document: Document) -> dict[str, Any]:
    return {
        "kind": document.kind,
        "version": document.version,
        "published_at": document.created_at.isoformat(),
        "url": ctx.settings.base_url + PAGES[document.kind],
        "text": document.source,
        "html": document.html,
    }


def version_view(ctx: Context, document: Document) -> dict[str, Any]:
    return {**document_view(ctx, document), "published_by": document.created_by_name}


async def current_terms(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    account = await auth.current_account(request)
    async with ctx.pool.acquire() as conn:
        documents = await terms.current_all(conn)
        due = {d.kind for d in await terms.due(conn, account)} if account else set()
    items = [{**document_view(ctx, d), "accepted": (d.kind not in due) if account else None}
             for d in documents]
    return JSONResponse({"items": items, "next": None})


async def one_document(request: Request) -> JSONResponse:
    """The current version of one document (404 while none is published)."""
    ctx = _ctx(request)
    kind = terms.check_kind(request.path_params["kind"])
    account = await auth.current_account(request)
    async with ctx.pool.acquire() as conn:
        document = await terms.current(conn, kind)
        due = {d.kind for d in await terms.due(conn, account)} if account else set()
    consent = kind in terms.CONSENT_KINDS
    return JSONResponse({**document_view(ctx, document), "consent_required": consent,
                         "accepted": (kind not in due) if account and consent else None})


async def accept_terms(request: Request) -> Response:
    account = await auth.require_account(request)
    body = await read_json(request)
    kind = terms.check_kind(require_str(body, "kind", max_len=20))
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed("version must be an integer", field="version")
    async with _ctx(request).pool.acquire() as conn:
        await terms.accept(conn, account, kind, version)
    return Response(status_code=204)


async def admin_terms(request: Request) -> JSONResponse:
    who = await admin(request)  # the role before anything else
    ctx = _ctx(request)
    kind = terms.check_kind(request.path_params["kind"])
    if request.method == "PUT":
        text = require_str(await read_json(request), "text", max_len=terms.TEXT_MAX * 2,
                           strip=False)
        document = await terms.publish(ctx, who, kind, text)
        return JSONResponse(version_view(ctx, document), status_code=201)
    async with ctx.pool.acquire() as conn:
        documents = await terms.versions(conn, kind)
    return JSONResponse({"items": [version_view(ctx, d) for d in documents], "next": None})


routes = [
    Route("/api/v1/terms", current_terms, methods=["GET"]),
    Route("/api/v1/terms/accept", accept_terms, methods=["POST"]),
    Route("/api/v1/terms/{kind}", one_document, methods=["GET"]),
    Route("/api/v1/admin/terms/{kind}", admin_terms, methods=["GET", "PUT"]),
]
