"""``/api/v1/openapi.json``: the paths of every API module's spec (``api_*_spec.py``) and
the named schemas and responses of fedi/routes/api_schemas.py."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi import __version__
from fedi.routes import (
    api_accounts_spec,
    api_admin_group_move_spec,
    api_admin_groups_spec,
    api_admin_officials,
    api_admin_spec,
    api_answers_spec,
    api_auth_mail_spec,
    api_events_spec,
    api_forum_spec,
    api_instance_spec,
    api_me_spec,
    api_media_spec,
    api_modlog_spec,
    api_notifications_spec,
    api_polls_spec,
    api_privacy_spec,
    api_report_forward,
    api_search_spec,
    api_statistics_spec,
    api_terms_spec,
)
from fedi.routes.api_schemas import components, ok, operation

TAGS = [
    {"name": "accounts", "description": "sign-up and the caller's account"},
    {"name": "auth", "description": "API tokens"},
    {"name": "groups", "description": "topic groups and membership"},
    {"name": "posts", "description": "threads, replies and likes"},
    {"name": "events", "description": "events of groups, registration"},
    {"name": "notifications", "description": "notifications, watching, unread tracking"},
    {"name": "moderation", "description": "moderators' and admins' tools, reports, modlog"},
    {"name": "admin", "description": "instance settings"},
    {"name": "meta", "description": "this document"},
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {"get": operation(
        "getOpenApi", "This OpenAPI document", "meta",
        responses={"200": ok("the document", "OpenApiDocument")})},
}


def api_modules() -> list[ModuleType]:
    return [api_accounts_spec, api_forum_spec, api_admin_groups_spec,
            api_admin_group_move_spec, api_admin_spec,
            api_auth_mail_spec, api_modlog_spec, api_me_spec, api_terms_spec, api_privacy_spec,
            api_admin_officials, api_answers_spec, api_notifications_spec,
            api_search_spec, api_events_spec, api_statistics_spec, api_instance_spec,
            api_polls_spec, api_media_spec, api_report_forward]


def build_document(base_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = dict(OPENAPI_PATHS)
    for module in api_modules():
        for path, item in module.OPENAPI_PATHS.items():
            paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dEMiSA API",
            "version": __version__,
            "description": "JSON API of a dEMiSA instance: accounts, topic groups, threads, "
                           "replies, likes, and administration. Errors are "
                           '`{"error": code, "message": text}` (schema `Error`); lists are '
                           '`{"items": [...], "next": cursor or null}`.',
        },
        "servers": [{"url": base_url}],
        "tags": TAGS,
        "components": components(),
        "paths": dict(sorted(paths.items())),
    }


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(build_document(request.app.state.settings.base_url))


routes = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
