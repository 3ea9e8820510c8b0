"""Admin API for the reports queue (``/api/v1/admin/reports``): list the reports the caller
moderates, assign one, resolve one; with its OpenAPI paths. The services are in
fedi/forum/reports.py; users report through ``POST /api/v1/reports`` (api_modlog.py),
which answers with :func:`render_report` too."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.core.times import iso
from fedi.forum import reports
from fedi.forum.staff import REASON_MAX, check_reason
from fedi.routes.api_admin_common import (
    ID,
    actors_by_id,
    admin_op,
    ctx_of,
    handle_of,
    moderator,
    optional_body,
)
from fedi.routes.api_common import optional_str, page_request, page_response, path_int
from fedi.routes.api_schemas import PAGE_PARAMETERS, ok, query_param
from storage.actors import Actor
from storage.reports import Report


def report_view(report: Report, actors: dict[int, Actor]) -> dict[str, Any]:
    return {
        "id": report.id,
        "state": report.state,
        "remote": report.remote,
        "reporter": handle_of(actors, report.reporter_id),
        "actor": handle_of(actors, report.target_actor_id),
        "post_ids": report.post_ids,
        "group": handle_of(actors, report.group_id),
        "reason": report.reason,
        "assigned_to": handle_of(actors, report.assigned_to),
        "resolved_by": handle_of(actors, report.resolved_by),
        "resolved_at": iso(report.resolved_at),
        "resolution": report.resolution,
        "forwarded_to": report.forwarded_to,
        "ap_id": report.ap_id,
        "created_at": iso(report.created_at),
    }


async def render_report(ctx: Context, report: Report, status: int = 200) -> JSONResponse:
    actors = await actors_by_id(ctx, {report.reporter_id, report.target_actor_id,
                                      report.group_id, report.assigned_to,
                                      report.resolved_by})
    return JSONResponse(report_view(report, actors), status_code=status)


async def list_reports(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    page = page_request(request, (int,))
    state = request.query_params.get("state", "open")
    if state not in ("open", "resolved", "all"):
        raise ValidationFailed("state must be open, resolved or all", field="state")
    rows = await reports.list_reports(
        ctx, who, state=None if state == "all" else state, limit=page.limit + 1,
        before_id=page.after[0] if page.after else None)
    ids = {i for r in rows for i in (r.reporter_id, r.target_actor_id, r.group_id,
                                     r.assigned_to, r.resolved_by)}
    actors = await actors_by_id(ctx, ids)
    return JSONResponse(page_response(rows, page, key=lambda r: (r.id,),
                                      render=lambda r: report_view(r, actors)))


async def assign_report(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    body = await optional_body(request)
    report = await reports.assign_report(
        ctx, who, path_int(request, "id"),
        assignee_ref=optional_str(body, "assignee", max_len=200))
    return await render_report(ctx, report)


async def resolve_report(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    body = await optional_body(request)
    text = optional_str(body, "resolution", max_len=REASON_MAX)
    if text is None:
        text = check_reason(body.get("reason"))
    report = await reports.resolve_report(ctx, who, path_int(request, "id"),
                                          resolution=text)
    return await render_report(ctx, report)


routes = [
    Route("/api/v1/admin/reports", list_reports, methods=["GET"]),
    Route("/api/v1/admin/reports/{id}/assign", assign_report, methods=["POST"]),
    Route("/api/v1/admin/reports/{id}/resolve", resolve_report, methods=["POST"]),
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/reports": {"get": admin_op(
        "listReports", "Reports the caller moderates (?state=open|resolved|all)",
        ok_=ok("a page of reports, newest first", "ReportPage"), errors=("403", "422"),
        params=[*PAGE_PARAMETERS, query_param("state", "which reports; default open",
                                              enum=["open", "resolved", "all"])])},
    "/api/v1/admin/reports/{id}/assign": {"post": admin_op(
        "assignReport", "Assign a report (to oneself, or {assignee: username})",
        ok_=ok("the report", "Report"), params=[ID], body="AssignReportRequest",
        body_required=False)},
    "/api/v1/admin/reports/{id}/resolve": {"post": admin_op(
        "resolveReport", "Resolve a report (a remote reporter hears of it as Resolve)",
        ok_=ok("the report", "Report"), params=[ID], errors=("403", "404", "409", "422"),
        body="ResolveReportRequest", body_required=False)},
}
