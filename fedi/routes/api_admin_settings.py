"""Admin API for the moderation settings (``/api/v1/admin/settings/moderation``, admins
only): read and change ``allowlist_mode`` and ``modlog_show_moderators``; and for the
instance's own settings (``/api/v1/admin/settings/instance``); with its OpenAPI paths.
The settings are kept by fedi/forum/domains.py and fedi/forum/instance_settings.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.errors import ValidationFailed
from fedi.forum import instance_settings as instance_service
from fedi.forum.domains import moderation_settings, update_settings
from fedi.routes.api_admin_common import ADMINS_ONLY, admin, admin_op, ctx_of
from fedi.routes.api_common import optional_bool, read_json
from fedi.routes.api_schemas import ok


async def settings(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await admin(request)
    if request.method == "GET":
        async with ctx.pool.acquire() as conn:
            return JSONResponse(await moderation_settings(conn))
    body = await read_json(request)
    changes = {name: value for name in ("allowlist_mode", "modlog_show_moderators")
               if (value := optional_bool(body, name)) is not None}
    if not changes:
        raise ValidationFailed("give allowlist_mode and/or modlog_show_moderators",
                               field="allowlist_mode")
    return JSONResponse(await update_settings(ctx, who, changes))


async def instance(request: Request) -> JSONResponse:
    """The instance's name, description, start page text, contact, language and the
    registration and confirmation modes (fedi/forum/instance_settings.py)."""
    ctx = ctx_of(request)
    who = await admin(request)
    if request.method == "GET":
        async with ctx.pool.acquire() as conn:
            return JSONResponse(await instance_service.view(conn, ctx.settings.instance_name))
    body = await read_json(request)
    if not body:
        raise ValidationFailed("give at least one setting", field="name")
    return JSONResponse(await instance_service.update(ctx, who, body))


routes = [Route("/api/v1/admin/settings/moderation", settings, methods=["GET", "PUT"]),
          Route("/api/v1/admin/settings/instance", instance, methods=["GET", "PUT"])]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/settings/moderation": {
        "get": admin_op("getModerationSettings", "Moderation settings (admins)",
                        ok_=ok("the settings", "ModerationSettings"), errors=("403",),
                        texts=ADMINS_ONLY),
        "put": admin_op("setModerationSettings",
                        "Change allowlist_mode and modlog_show_moderators (admins)",
                        ok_=ok("the settings now", "ModerationSettings"),
                        body="ModerationSettingsRequest", errors=("403", "422"),
                        texts=ADMINS_ONLY),
    },
    "/api/v1/admin/settings/instance": {
        "get": admin_op("getInstanceSettings", "The instance's own settings (admins)",
                        ok_=ok("the settings", "InstanceSettings"), errors=("403",),
                        texts=ADMINS_ONLY),
        "put": admin_op("setInstanceSettings",
                        "Change the instance's name, description, start page text, "
                        "contact, default language, registration and confirmation modes "
                        "(admins; each change in the modlog)",
                        ok_=ok("the settings now", "InstanceSettings"),
                        body="InstanceSettingsRequest", errors=("403", "422"),
                        texts=ADMINS_ONLY),
    },
}
