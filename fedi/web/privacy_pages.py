"""The page "Ihre Daten" (/settings/privacy): download a copy of one's data (DSGVO Art. 15
and 20) and delete the account (Art. 17), with a clear warning and the password as
confirmation. The work is the JSON API's (fedi/routes/api_privacy.py) and the services'
(fedi/forum/export.py, fedi/forum/erasure.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError
from fedi.forum.erasure import delete_own_account
from fedi.routes.api_privacy import EXPORT_LIMITED, zip_response
from fedi.web.common import ctx_of, field_errors, read_form, require_viewer, text, web_endpoint
from fedi.web.render import page, translate
from fedi.web.session import assume_anonymous, end_session

PATH = "/settings/privacy"


async def _page(request: Request, *, errors: dict[str, str] | None = None,
                keep_posts: bool = False, status: int = 200) -> Response:
    return await page(request, "privacy.html", {
        "errors": errors or {}, "values": {"keep_posts": keep_posts}}, status=status)


@web_endpoint
async def privacy(request: Request) -> Response:
    await require_viewer(request, PATH)
    return await _page(request)


@web_endpoint
async def export(request: Request) -> Response:
    viewer = await require_viewer(request, PATH)
    await read_form(request)
    answer = await zip_response(request, viewer.account)
    if answer.status_code == 429:
        return await _page(request, status=429, errors={
            "export": translate(request, EXPORT_LIMITED, 429)})
    return answer


@web_endpoint
async def delete_account(request: Request) -> Response:
    viewer = await require_viewer(request, PATH)
    form = await read_form(request)
    keep_posts = text(form, "keep_posts") == "yes"
    try:
        await delete_own_account(ctx_of(request), viewer.account,
                                 password=text(form, "password"), keep_posts=keep_posts)
    except AppError as exc:
        exc.field = "password"
        return await _page(request, errors=field_errors(request, exc), keep_posts=keep_posts,
                           status=exc.status)
    assume_anonymous(request)  # the session ended with the account
    response = await page(request, "account_deleted.html", {})
    await end_session(request, response)
    return response
