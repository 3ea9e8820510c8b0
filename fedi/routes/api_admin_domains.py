"""Admin API for domain blocks and the allowlist (``/api/v1/admin/domains``, admins only):
list, block or unblock, allow or disallow, forget a domain; with its OpenAPI paths. The
services are in fedi/forum/domains.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.errors import ValidationFailed
from fedi.forum import domains
from fedi.forum.staff import check_reason
from fedi.routes.api_admin_common import (
    ADMINS_ONLY,
    DOMAIN,
    DONE,
    admin,
    admin_op,
    ctx_of,
    staff,
)
from fedi.routes.api_common import optional_bool, read_json
from fedi.routes.api_schemas import ok


async def put_domain(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    who = await admin(request)
    body = await read_json(request)
    blocked = optional_bool(body, "blocked")
    allowed = optional_bool(body, "allowed")
    if blocked is None and allowed is None:
        raise ValidationFailed("give blocked (true/false) and/or allowed (true/false)",
                               field="blocked")
    state = await domains.set_domain(ctx, who, request.path_params["domain"],
                                     blocked=blocked, allowed=allowed,
                                     reason=check_reason(body.get("reason")))
    return JSONResponse(state)


async def delete_domain(request: Request) -> Response:
    # The service checks the role before it looks at the domain.
    await domains.forget_domain(ctx_of(request), await staff(request),
                                request.path_params["domain"])
    return Response(status_code=204)


async def list_domains(request: Request) -> JSONResponse:
    items = await domains.list_domains(ctx_of(request), await staff(request))
    return JSONResponse({"items": items, "next": None})


routes = [
    Route("/api/v1/admin/domains", list_domains, methods=["GET"]),
    Route("/api/v1/admin/domains/{domain}", put_domain, methods=["PUT"]),
    Route("/api/v1/admin/domains/{domain}", delete_domain, methods=["DELETE"]),
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/domains": {"get": admin_op(
        "listDomains", "Blocked and allowed domains (admins)",
        ok_=ok("every domain with a block or allowlist entry", "DomainPolicyList"),
        errors=("403",), texts=ADMINS_ONLY)},
    "/api/v1/admin/domains/{domain}": {
        "put": admin_op("setDomainPolicy",
                        "Block/unblock a domain, put it on/off the allowlist (admins)",
                        ok_=ok("the domain's entry now", "DomainPolicy"), params=[DOMAIN],
                        body="DomainPolicyRequest", texts=ADMINS_ONLY),
        "delete": admin_op("forgetDomain",
                           "Forget a domain's block and allowlist entry (admins)",
                           ok_=DONE, status="204", params=[DOMAIN], texts=ADMINS_ONLY),
    },
}
