"""Sign-up, log-in, log-out and the language switch.

Sign-up and log-in are rate limited per client address (``app.state.web_limits``, a
:class:`~fedi.core.ratelimit.RateLimiter` per action, counting in PostgreSQL for every
process).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.actors import check_name
from fedi.core.errors import AppError, TooManyRequests, ValidationFailed
from fedi.core.i18n import LANGUAGES
from fedi.core.ratelimit import RateLimiter, rate_wait
from fedi.forum import accounts, terms
from fedi.web.common import ctx_of, field_errors, read_form, text, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import LANG_COOKIE, page, redirect, safe_next
from fedi.web.session import current_viewer, end_session, start_session

LOGIN_LIMIT = (10, 300.0)     # attempts per window (seconds) and address
SIGNUP_LIMIT = (5, 3600.0)
RESET_LIMIT = (10, 3600.0)  # reset requests per client address
RESET_EMAIL_LIMIT = (3, 3600.0)  # reset mails per e-mail address
RESEND_LIMIT = (3, 3600.0)  # confirmation mails sent again, per account
LANG_COOKIE_AGE = 365 * 24 * 3600


def default_limits() -> dict[str, RateLimiter]:
    limits = {"login": LOGIN_LIMIT, "signup": SIGNUP_LIMIT,
              # fedi/routes/api_auth_mail.py and fedi/web/email_pages.py (issue 13)
              "password_reset": RESET_LIMIT, "password_reset_email": RESET_EMAIL_LIMIT,
              "confirm_resend": RESEND_LIMIT}
    return {action: RateLimiter(action, *limit) for action, limit in limits.items()}


async def _rate_limited(request: Request, template: str, wait: float,
                        context: dict[str, object]) -> Response:
    error = TooManyRequests("Too many attempts. Please wait a few minutes and try again.")
    response = await page(request, template, {**context, "errors": field_errors(request, error)},
                          status=429)
    response.headers["Retry-After"] = str(int(wait))
    return response


# Sign-up ----------------------------------------------------------------------------------

_SIGNUP_FIELDS = ("username", "display_name", "email", "reason")
PASSWORDS_DIFFER = N_("The two passwords are not the same.")
TERMS_REQUIRED = N_("Please accept the terms of use and the privacy policy.")


async def signup_errors(request: Request, values: dict[str, str], password: str,
                        confirmation: str, accepted: bool = True) -> dict[str, str]:
    """Every field's error at once (the service stops at the first): its own checks of
    name, address, password and display name, the web form's repeated password and the
    box that accepts the terms."""
    known = {"username": values["username"].strip().lower(), "email": values["email"].strip()}
    checks: list[Callable[[], object]] = [
        lambda: check_name(values["username"]),
        lambda: accounts.check_email(values["email"]),
        lambda: accounts.check_display_name(values["display_name"], "name"),
    ]
    errors: dict[str, str] = {}
    for check in checks:
        try:
            check()
        except AppError as exc:
            errors.update(field_errors(request, exc))
    try:
        # Judging a password's strength takes CPU time: off the event loop, as register does.
        await asyncio.to_thread(accounts.check_password, password, **known)
    except AppError as exc:
        errors.update(field_errors(request, exc))
    if password != confirmation:
        errors.update(field_errors(request, ValidationFailed(PASSWORDS_DIFFER,
                                                             field="password_confirm")))
    if not accepted:
        errors.update(field_errors(request, ValidationFailed(TERMS_REQUIRED,
                                                             field="accept_terms")))
    return errors


@web_endpoint
async def signup_form(request: Request) -> Response:
    async with ctx_of(request).pool.acquire() as conn:
        mode = await accounts.get_registration_mode(conn)
    return await page(request, "signup.html", {"mode": mode, "values": {}, "errors": {}})


@web_endpoint
async def signup(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await read_form(request)
    values = {name: text(form, name) for name in _SIGNUP_FIELDS}
    async with ctx.pool.acquire() as conn:
        mode = await accounts.get_registration_mode(conn)
        wait = await rate_wait(request, "signup")
        if wait is not None:
            return await _rate_limited(request, "signup.html", wait,
                                       {"mode": mode, "values": values})
        password = text(form, "password")
        accepted = text(form, "accept_terms") == "yes"
        errors = (await signup_errors(request, values, password,
                                      text(form, "password_confirm"), accepted)
                  if mode != "closed" else {})
        if errors:
            return await page(request, "signup.html", {
                "mode": mode, "values": values, "errors": errors}, status=422)
        try:
            account = await terms.register(
                conn, ctx, accept_terms=accepted, username=values["username"],
                email=values["email"],
                password=password, display_name=values["display_name"],
                reason=values["reason"] or None,
            )
        except AppError as exc:
            return await page(request, "signup.html", {
                "mode": mode, "values": values, "errors": field_errors(request, exc),
            }, status=exc.status)
    if account.status != "active":
        return redirect(request, "/", flash="pending")
    # The page that says a confirmation mail is on its way (and can send it again).
    response = redirect(request, "/confirm", flash="signed_up")
    await start_session(request, response, account)
    return response


# Log-in and log-out -----------------------------------------------------------------------

@web_endpoint
async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    return await page(request, "login.html", {"next": next_path, "values": {}, "errors": {}})


@web_endpoint
async def login(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await read_form(request)
    values = {"username": text(form, "username")}
    next_path = safe_next(text(form, "next"))
    wait = await rate_wait(request, "login")
    if wait is not None:
        return await _rate_limited(request, "login.html", wait,
                                   {"next": next_path, "values": values})
    try:
        async with ctx.pool.acquire() as conn:
            account = await accounts.authenticate(conn, values["username"],
                                                  text(form, "password"))
    except AppError as exc:
        return await page(request, "login.html", {
            "next": next_path, "values": values, "errors": field_errors(request, exc),
        }, status=exc.status)
    response = redirect(request, next_path, flash="logged_in")
    await start_session(request, response, account)
    if account.locale in LANGUAGES:
        # The language chosen in the settings (fedi/web/settings_pages.py) follows the
        # person to every browser they log in with.
        response.set_cookie(LANG_COOKIE, account.locale, max_age=LANG_COOKIE_AGE,
                            httponly=True, secure=ctx.settings.https, samesite="lax",
                            path="/")
    return response


@web_endpoint
async def logout_form(request: Request) -> Response:
    """GET /logout (a typed or bookmarked address): the button, since logging out
    changes data and so needs the form's CSRF token."""
    return await page(request, "logout.html")


@web_endpoint
async def logout(request: Request) -> Response:
    await read_form(request)
    response = redirect(request, "/", flash="logged_out")
    if await current_viewer(request) is not None:
        await end_session(request, response)
    return response


# Language switch --------------------------------------------------------------------------

@web_endpoint
async def switch_language(request: Request) -> Response:
    """GET /language/{lang}?next=/path: a plain link, no form, so it works anywhere.

    Changing the language changes no data, so it needs no CSRF token.
    """
    lang = request.path_params["lang"]
    response = redirect(request, safe_next(request.query_params.get("next")))
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE, httponly=True,
                            secure=ctx_of(request).settings.https, samesite="lax", path="/")
    return response
