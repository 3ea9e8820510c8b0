"""JSON API for the caller's own settings: ``GET/PATCH /api/v1/me`` (profile, language),
the password change, and "log out everywhere". The services are in
fedi/forum/profiles.py; the OpenAPI part is api_me_spec.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import email_change, notification_mail
from fedi.forum import profiles as service
from fedi.forum.accounts import EMAIL_MAX, PASSWORD_MAX
from fedi.forum.profiles import OwnProfile
from fedi.routes import auth
from fedi.routes.api_accounts import owner_view
from fedi.routes.api_common import read_json, require_str


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def me_view(own: OwnProfile, mail: notification_mail.MailPreferences) -> dict[str, Any]:
    """The caller's account with its profile and mail settings (schema OwnAccount)."""
    profile = own.profile
    return {
        **owner_view(own.account),
        "bio": profile.bio_source,
        "bio_html": own.actor.summary or "",
        "organisation": profile.organisation,
        "municipality": profile.municipality,
        "affiliation": profile.affiliation,
        "language": own.language,
        "official": ({"position": own.actor.official_position}
                     if own.actor.official_position else None),
        "email_notifications": mail.view(),
        "timezone": mail.timezone,
    }


async def get_me(request: Request) -> JSONResponse:
    account = await auth.require_account(request)
    async with _ctx(request).pool.acquire() as conn:
        own = await service.own_profile(conn, account)
        mail = await notification_mail.preferences(conn, account.id)
    return JSONResponse(me_view(own, mail))


async def patch_me(request: Request) -> JSONResponse:
    account = await auth.require_account(request)
    body = await read_json(request)
    # The mail settings are checked before the profile changes: a bad value changes
    # nothing.
    modes = body.pop("email_notifications", None)
    zone = body.pop("timezone", None)
    if modes is not None:
        notification_mail.check_modes(modes)
    if zone is not None:
        notification_mail.check_timezone(zone)
    # The profile fields and avatar_media_id (issue 19) change together or not at all.
    own = await service.update_profile(_ctx(request), account, body)
    async with _ctx(request).pool.acquire() as conn:
        if modes is not None or zone is not None:
            mail = await notification_mail.update_preferences(conn, account.id, modes=modes,
                                                              timezone=zone)
        else:
            mail = await notification_mail.preferences(conn, account.id)
    return JSONResponse(me_view(own, mail))


async def change_password(request: Request) -> Response:
    account = await auth.require_account(request)
    body = await read_json(request)
    current = require_str(body, "current_password", max_len=PASSWORD_MAX, strip=False,
                          allow_empty=True)
    new = require_str(body, "new_password", max_len=PASSWORD_MAX, strip=False)
    token = await auth.current_token(request)
    await service.change_password(_ctx(request), account, current=current, new=new,
                                  keep_token_id=token.id if token else None)
    return Response(status_code=204)


async def change_email(request: Request) -> JSONResponse:
    account = await auth.require_account(request)
    body = await read_json(request)
    password = require_str(body, "current_password", max_len=PASSWORD_MAX, strip=False,
                           allow_empty=True)
    address = require_str(body, "email", max_len=EMAIL_MAX * 2)
    pending = await email_change.request_email_change(_ctx(request), account,
                                                      password=password, new_email=address)
    return JSONResponse({"pending_email": pending}, status_code=202)


async def confirm_email(request: Request) -> Response:
    token = require_str(await read_json(request), "token", max_len=200)
    await email_change.confirm_email_change(_ctx(request), token)
    return Response(status_code=204)


async def log_out_everywhere(request: Request) -> Response:
    account = await auth.require_account(request)
    await service.log_out_everywhere(_ctx(request), account)
    return Response(status_code=204)


routes = [
    Route("/api/v1/me", get_me, methods=["GET"]),
    Route("/api/v1/me", patch_me, methods=["PATCH"]),
    Route("/api/v1/me/password", change_password, methods=["POST"]),
    Route("/api/v1/me/sessions", log_out_everywhere, methods=["DELETE"]),
    Route("/api/v1/me/email", change_email, methods=["POST"]),
    Route("/api/v1/auth/email-change/confirm", confirm_email, methods=["POST"]),
]
