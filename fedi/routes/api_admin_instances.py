"""Admin API for other servers (admins only): known instances and their delivery health
(``/api/v1/admin/instances``, reset or retry one) and the inbound activities the queue
gave up on (``/api/v1/admin/inbox/parked``, retry or discard one); with its OpenAPI paths.
The actions are in fedi/forum/domains.py; the lists read storage directly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi.core.times import iso
from fedi.forum import domains
from fedi.forum.staff import require_admin
from fedi.routes.api_admin_common import ADMINS_ONLY, DOMAIN, DONE, ID, admin_op, ctx_of, staff
from fedi.routes.api_common import page_request, page_response, path_int
from fedi.routes.api_schemas import PAGE_PARAMETERS, ok
from storage import inbox as inbox_store
from storage import moderation as moderation_store


async def list_instances(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    require_admin(await staff(request))
    page = page_request(request, (str,), default_limit=50, max_limit=200)
    async with ctx.pool.acquire() as conn:
        rows = await moderation_store.instances_overview(
            conn, limit=page.limit + 1, after_domain=page.after[0] if page.after else None)
    return JSONResponse(page_response(rows, page, key=lambda i: (i.domain,), render=lambda i: {
        "domain": i.domain, "software": i.software, "software_version": i.software_version,
        "blocked": i.blocked, "actors": i.actors,
        "deliveries": {"queued": i.queued, "failed": i.failed, "delivered": i.delivered,
                       "cancelled": i.cancelled},
        "failing_since": iso(i.failing_since), "last_success_at": iso(i.last_success_at),
        "unavailable": i.unavailable,
    }))


def _instance_action(action: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        changed = await domains.instance_action(
            ctx_of(request), await staff(request), request.path_params["domain"], action)
        return JSONResponse({"domain": request.path_params["domain"].lower(),
                             "action": action, "changed": changed})

    return endpoint


async def list_parked(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    require_admin(await staff(request))
    page = page_request(request, (int,))
    async with ctx.pool.acquire() as conn:
        rows = await inbox_store.parked(conn, limit=page.limit + 1,
                                        before_id=page.after[0] if page.after else None)
    return JSONResponse(page_response(rows, page, key=lambda r: (r.id,), render=lambda r: {
        "id": r.id, "ap_id": r.ap_id, "type": r.type, "actor": r.actor_ap_id,
        "attempts": r.attempts, "error": r.last_error, "received_at": iso(r.received_at),
        "activity": r.payload,
    }))


async def retry_parked(request: Request) -> Response:
    await domains.parked_action(ctx_of(request), await staff(request),
                                path_int(request, "id"), "retry")
    return Response(status_code=204)


async def discard_parked(request: Request) -> Response:
    await domains.parked_action(ctx_of(request), await staff(request),
                                path_int(request, "id"), "discard")
    return Response(status_code=204)


routes = [
    Route("/api/v1/admin/instances", list_instances, methods=["GET"]),
    Route("/api/v1/admin/instances/{domain}/reset", _instance_action("reset"),
          methods=["POST"]),
    Route("/api/v1/admin/instances/{domain}/retry", _instance_action("retry"),
          methods=["POST"]),
    Route("/api/v1/admin/inbox/parked", list_parked, methods=["GET"]),
    Route("/api/v1/admin/inbox/parked/{id}/retry", retry_parked, methods=["POST"]),
    Route("/api/v1/admin/inbox/parked/{id}", discard_parked, methods=["DELETE"]),
]

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/instances": {"get": admin_op(
        "listInstances", "Known instances: software and delivery health (admins)",
        ok_=ok("a page of instances by name", "InstancePage"), params=PAGE_PARAMETERS,
        errors=("403", "422"), texts=ADMINS_ONLY)},
    "/api/v1/admin/instances/{domain}/reset": {"post": admin_op(
        "resetInstance",
        "Forget an instance's delivery failures; its parked deliveries resume (admins)",
        ok_=ok("what changed", "InstanceActionResult"), params=[DOMAIN],
        texts=ADMINS_ONLY)},
    "/api/v1/admin/instances/{domain}/retry": {"post": admin_op(
        "retryInstance", "Queue an instance's failed deliveries again (admins)",
        ok_=ok("what changed", "InstanceActionResult"), params=[DOMAIN],
        texts=ADMINS_ONLY)},
    "/api/v1/admin/inbox/parked": {"get": admin_op(
        "listParkedActivities",
        "Inbound activities the queue gave up on, with their error (admins)",
        ok_=ok("a page of parked activities, newest first", "ParkedActivityPage"),
        params=PAGE_PARAMETERS, errors=("403", "422"), texts=ADMINS_ONLY)},
    "/api/v1/admin/inbox/parked/{id}/retry": {"post": admin_op(
        "retryParkedActivity", "Process a parked inbound activity again (admins)",
        ok_=DONE, status="204", params=[ID], texts=ADMINS_ONLY)},
    "/api/v1/admin/inbox/parked/{id}": {"delete": admin_op(
        "discardParkedActivity", "Discard a parked inbound activity (admins)", ok_=DONE,
        status="204", params=[ID], texts=ADMINS_ONLY)},
}
