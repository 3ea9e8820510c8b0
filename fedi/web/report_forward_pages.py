"""The moderators' choice on /mod/reports to forward a report about a remote author's
post in one of our groups to the author's server (fedi/forum/report_forwarding.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import NotFound
from fedi.forum import report_forwarding
from fedi.web.common import (
    ctx_of,
    int_param,
    read_form,
    require_staff,
    text,
    web_endpoint,
)
from fedi.web.render import redirect, safe_next


@web_endpoint
async def forward_report(request: Request) -> Response:
    staff = await require_staff(request, "/mod/reports")
    report_id = int_param(str(request.path_params["report_id"]))
    if report_id is None:
        raise NotFound("This report does not exist.")
    form = await read_form(request)
    await report_forwarding.forward_report(ctx_of(request), staff, report_id,
                                           comment=text(form, "comment"))
    return redirect(request, safe_next(text(form, "next"), f"/mod/reports#report-{report_id}"))
