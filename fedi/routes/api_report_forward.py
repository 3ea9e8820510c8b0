"""``POST /api/v1/admin/reports/{id}/forward {"comment"?}``: a moderator forwards a
report about a remote author's post in one of our groups to the author's server (a Flag
by the instance actor; fedi/forum/report_forwarding.py); with its OpenAPI path."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.forum import report_forwarding
from fedi.routes.api_admin_common import ID, admin_op, ctx_of, moderator, optional_body
from fedi.routes.api_admin_reports import render_report
from fedi.routes.api_common import path_int
from fedi.routes.api_schemas import ok


async def forward_report(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await moderator(request)
    body = await optional_body(request)
    report = await report_forwarding.forward_report(ctx, who, path_int(request, "id"),
                                                    comment=body.get("comment"))
    return await render_report(ctx, report)


routes = [
    Route("/api/v1/admin/reports/{id}/forward", forward_report, methods=["POST"]),
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/reports/{id}/forward": {"post": admin_op(
        "forwardReport", "Forward a report about a post in one of our groups to its remote "
                         "author's server (a Flag by the instance actor; once)",
        ok_=ok("the report, with forwarded_to", "Report"), params=[ID],
        errors=("403", "404", "409", "422"), body="ForwardReportRequest",
        body_required=False)},
}
