"""The settings page (/settings): profile and language, password, and the list of
sessions and tokens with "log out everywhere". Plain forms (CSRF, no JavaScript needed);
the services are fedi/forum/profiles.py, the same the JSON API calls."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, ValidationFailed
from fedi.core.i18n import LANGUAGES
from fedi.forum import email_change, notification_mail, profiles
from fedi.web.common import ctx_of, field_errors, read_form, require_viewer, text, web_endpoint
from fedi.web.messages import N_
from fedi.web.render import LANG_COOKIE, page, redirect
from fedi.web.session import SESSION_COOKIE, Viewer, cookie_options
from storage import accounts as account_store

LANG_COOKIE_AGE = 365 * 24 * 3600
PASSWORDS_DIFFER = N_("The two passwords are not the same.")
# The notification e-mail fieldset: the types (English msgids) and the modes.
MAIL_TYPES = (
    ("reply", N_("Replies to your threads and posts")),
    ("mention", N_("Mentions of you")),
    ("like", N_("Likes of your posts")),
    ("accepted_answer", N_("Accepted answers")),
    ("moderation", N_("Moderation decisions about your content")),
    ("watched_post", N_("New posts in threads you watch")),
    ("new_thread", N_("New threads in groups you follow")),
    ("report", N_("New reports (moderators)")),
    ("signup", N_("Sign-ups waiting for approval (administrators)")),
)
MAIL_MODES = (("immediate", N_("Immediately")), ("daily", N_("Daily digest")),
              ("weekly", N_("Weekly digest")), ("off", N_("Off")))


async def _page(request: Request, viewer: Viewer, *, values: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    async with ctx_of(request).pool.acquire() as conn:
        own = await profiles.own_profile(conn, viewer.account)
        tokens = await account_store.list_tokens(conn, viewer.account.id, limit=200)
        mail = await notification_mail.preferences(conn, viewer.account.id)
    current = {
        "display_name": own.actor.name or "", "bio": own.profile.bio_source,
        "organisation": own.profile.organisation, "municipality": own.profile.municipality,
        "affiliation": own.profile.affiliation or "", "language": own.language or "",
    }
    return await page(request, "settings.html", {
        "own": own, "values": {**current, **(values or {})}, "errors": errors or {},
        "affiliations": profiles.AFFILIATION_LABELS, "languages": LANGUAGES,
        "tokens": tokens, "current_token": viewer.token_id,
        "bio_max": profiles.BIO_MAX, "text_max": profiles.TEXT_MAX,
        "mail_modes": {**mail.modes, "default": mail.modes.get(
            "default", notification_mail.DEFAULT_MODE)},
        "mail_timezone": (values or {}).get("timezone", mail.timezone),
        "mail_types": MAIL_TYPES, "mail_mode_labels": MAIL_MODES,
    }, status=status)


@web_endpoint
async def settings(request: Request) -> Response:
    return await _page(request, await require_viewer(request))


@web_endpoint
async def save_profile(request: Request) -> Response:
    viewer = await require_viewer(request, "/settings")
    form = await read_form(request)
    values = {name: text(form, name) for name in profiles.PROFILE_FIELDS}
    try:
        own = await profiles.update_profile(ctx_of(request), viewer.account, values)
    except AppError as exc:
        return await _page(request, viewer, values=values, errors=field_errors(request, exc),
                           status=exc.status)
    response = redirect(request, "/settings", flash="settings_saved")
    if own.language is not None:
        # The chosen language from now on, in this browser too.
        response.set_cookie(LANG_COOKIE, own.language, max_age=LANG_COOKIE_AGE, httponly=True,
                            secure=ctx_of(request).settings.https, samesite="lax", path="/")
    return response


@web_endpoint
async def save_notifications(request: Request) -> Response:
    """The notification e-mail fieldset: a mode for every type ("" follows the default)
    and the time zone of the digests."""
    viewer = await require_viewer(request, "/settings")
    form = await read_form(request)
    modes: dict[str, str | None] = {"default": text(form, "mail_default") or None}
    for key, _label in MAIL_TYPES:
        modes[key] = text(form, f"mail_{key}") or None
    zone = text(form, "timezone")
    try:
        async with ctx_of(request).pool.acquire() as conn:
            await notification_mail.update_preferences(conn, viewer.account.id, modes=modes,
                                                       timezone=zone)
    except AppError as exc:
        return await _page(request, viewer, errors=field_errors(request, exc),
                           values={"timezone": zone}, status=exc.status)
    return redirect(request, "/settings", flash="settings_saved")


@web_endpoint
async def change_password(request: Request) -> Response:
    viewer = await require_viewer(request, "/settings")
    form = await read_form(request)
    new = text(form, "new_password")
    try:
        if new != text(form, "new_password_confirm"):
            raise ValidationFailed(PASSWORDS_DIFFER, field="new_password_confirm")
        await profiles.change_password(ctx_of(request), viewer.account,
                                       current=text(form, "current_password"), new=new,
                                       keep_token_id=viewer.token_id)
    except AppError as exc:
        errors = field_errors(request, exc)
        # The service names the policy's field "password"; here it is the new one.
        if "password" in errors:
            errors["new_password"] = errors.pop("password")
        return await _page(request, viewer, errors=errors, status=exc.status)
    return redirect(request, "/settings", flash="password_changed")


@web_endpoint
async def change_email(request: Request) -> Response:
    viewer = await require_viewer(request, "/settings")
    form = await read_form(request)
    try:
        await email_change.request_email_change(
            ctx_of(request), viewer.account, password=text(form, "email_password"),
            new_email=text(form, "email"))
    except AppError as exc:
        errors = field_errors(request, exc)
        if "current_password" in errors:
            errors["email_password"] = errors.pop("current_password")
        return await _page(request, viewer, errors=errors, status=exc.status,
                           values={"email": text(form, "email")})
    return redirect(request, "/settings", flash="email_change_sent")


@web_endpoint
async def confirm_email_form(request: Request) -> Response:
    """GET /email/confirm/{token}: the button (mail scanners follow GET links, so only
    the POST changes the address)."""
    token = request.path_params["token"]
    async with ctx_of(request).pool.acquire() as conn:
        address = await email_change.pending_address(conn, token)
    return await page(request, "settings_email_confirm.html",
                      {"token": token, "address": address}, status=200 if address else 400)


@web_endpoint
async def confirm_email(request: Request) -> Response:
    await read_form(request)
    try:
        await email_change.confirm_email_change(ctx_of(request),
                                                request.path_params["token"])
    except AppError as exc:
        return await page(request, "settings_email_confirm.html", {
            "token": "", "address": None, "error": field_errors(request, exc)},
            status=exc.status)
    return redirect(request, "/", flash="email_changed")


@web_endpoint
async def log_out_everywhere(request: Request) -> Response:
    viewer = await require_viewer(request, "/settings")
    await read_form(request)
    await profiles.log_out_everywhere(ctx_of(request), viewer.account)
    response = redirect(request, "/", flash="logged_out_everywhere")
    options = cookie_options(request, None)
    del options["max_age"]
    response.delete_cookie(SESSION_COOKIE, **options)
    return response
