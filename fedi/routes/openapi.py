"""``/api/v1/openapi.json``: assembled from the OPENAPI_PATHS of every API module."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi import __version__
from fedi.api_common import OPENAPI_SECURITY_SCHEMES


def api_modules() -> list[ModuleType]:
    from fedi.routes import api_accounts, api_admin, api_admin_groups, api_forum, api_modlog

    return [api_accounts, api_forum, api_admin_groups, api_admin, api_modlog]


def build_document(base_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
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
                           '`{"error": code, "message": text}`.',
        },
        "servers": [{"url": base_url}],
        "components": {"securitySchemes": OPENAPI_SECURITY_SCHEMES},
        "paths": dict(sorted(paths.items())),
    }


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(build_document(request.app.state.settings.base_url))


routes = [Route("/api/v1/openapi.json", openapi, methods=["GET"])]
