"""One-click unsubscribe from notification e-mail (RFC 8058): ``List-Unsubscribe`` in
each mail points at ``/unsubscribe/{token}``.

``POST`` (what mail programs send, with the body ``List-Unsubscribe=One-Click``, and what
the page's button sends) switches the mails off: no log-in and no CSRF token, the signed
token is the authority (fedi/forum/notification_mail.py). ``GET`` only shows the button:
mail scanners follow links, and a link must not change anything.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError
from fedi.forum import notification_mail
from fedi.web.common import ctx_of, web_endpoint
from fedi.web.render import page

MAX_FORM_FIELDS = 5


async def _invalid(request: Request, status: int = 404) -> Response:
    return await page(request, "unsubscribe.html", {"valid": False}, status=status)


@web_endpoint
async def unsubscribe_form(request: Request) -> Response:
    token = request.path_params["token"]
    async with ctx_of(request).pool.acquire() as conn:
        found = await notification_mail.read_unsubscribe_token(conn, token)
    if found is None:
        return await _invalid(request)
    account, scope = found
    return await page(request, "unsubscribe.html", {
        "valid": True, "done": False, "token": token, "scope": scope,
        "username": account.username})


@web_endpoint
async def unsubscribe(request: Request) -> Response:
    # The body (List-Unsubscribe=One-Click) is read and not required: the token decides.
    await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    try:
        done = await notification_mail.unsubscribe(ctx_of(request),
                                                   request.path_params["token"])
    except AppError as exc:
        return await _invalid(request, exc.status)
    return await page(request, "unsubscribe.html", {
        "valid": True, "done": True, "scope": done.scope, "username": done.account.username})
