"""WebFinger, host-meta and NodeInfo: how other servers find our actors and our software.

WebFinger answers for users, groups (one namespace) and the instance actor, by
``acct:name@host`` or by actor URL; the bare host URL names the instance actor (FEP-2677).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import WebFingerError
from activitypub.nodeinfo import nodeinfo_content_type, nodeinfo_document, nodeinfo_index
from activitypub.webfinger import host_meta_xml, parse_handle, webfinger_document
from fedi import SOFTWARE_NAME, __version__
from fedi.core.actors import INSTANCE_ACTOR_NAME, instance_actor
from fedi.core.context import Context
from fedi.core.errors import AppError, Gone, NotFound
from fedi.forum import instance_settings, statistics
from fedi.forum.accounts import get_registration_mode
from storage import actors as actor_store
from storage.actors import Actor

# Discovery documents are read by browsers' JavaScript too (web clients, remote follow).
_CORS = {"Access-Control-Allow-Origin": "*"}
FEP_2677_REL = "https://www.w3.org/ns/activitystreams#Application"


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def webfinger(request: Request) -> Response:
    ctx = _ctx(request)
    resource = request.query_params.get("resource", "").strip()
    if not resource:
        raise AppError("the query parameter 'resource' is required", field="resource")
    actor = await _resolve(ctx, resource)
    subject = f"acct:{actor.username}@{ctx.settings.host}"
    aliases = [actor.ap_id] + ([actor.url] if actor.url and actor.url != actor.ap_id else [])
    document = webfinger_document(subject, actor.ap_id, profile_url=actor.url or actor.ap_id,
                                  aliases=aliases)
    return JSONResponse(document, media_type="application/jrd+json", headers=_CORS)


async def _resolve(ctx: Context, resource: str) -> Actor:
    """The local actor a WebFinger resource names; 400 when malformed, 404 when not ours."""
    host = ctx.settings.host
    if resource.lower().startswith(("http://", "https://")):
        return await _resolve_url(ctx, resource)
    try:
        name, resource_host = parse_handle(resource)
    except WebFingerError as exc:
        raise AppError(f"resource must be acct:name@host or an actor URL: {exc}",
                       field="resource") from None
    if resource_host != host.lower():
        raise NotFound(f"{resource_host} is not this server ({host})")
    if name.lower() == INSTANCE_ACTOR_NAME:
        return await instance_actor(ctx)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.by_handle(conn, name, host)
    if actor is None or not actor.local:
        raise NotFound(f"no user or group named {name!r} here")
    return _not_deleted(actor)


async def _resolve_url(ctx: Context, resource: str) -> Actor:
    parts = urlsplit(resource)
    if parts.netloc.lower() != ctx.settings.host.lower():
        raise NotFound(f"{parts.netloc} is not this server ({ctx.settings.host})")
    if parts.path in ("", "/"):
        # FEP-2677: the server itself is represented by its Application actor.
        return await instance_actor(ctx)
    ap_id = ctx.settings.base_url + parts.path
    if ap_id == ctx.url("/actor"):
        return await instance_actor(ctx)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.by_ap_id(conn, ap_id)
    if actor is None or not actor.local:
        raise NotFound(f"no actor at {ap_id}")
    return _not_deleted(actor)


def _not_deleted(actor: Actor) -> Actor:
    # 410 tells Mastodon the account is gone for good (it then deletes its copy).
    if actor.deleted_at is not None:
        raise Gone(f"{actor.username} has been deleted")
    return actor


async def host_meta(request: Request) -> Response:
    body = host_meta_xml(_ctx(request).settings.base_url)
    return Response(body, media_type="application/xrd+xml", headers=_CORS)


async def nodeinfo_links(request: Request) -> Response:
    ctx = _ctx(request)
    index = nodeinfo_index(ctx.settings.base_url)
    index["links"].append({"rel": FEP_2677_REL, "href": ctx.url("/actor")})
    return JSONResponse(index, headers=_CORS)


async def nodeinfo(request: Request) -> Response:
    version = request.path_params["version"]
    if version not in ("2.0", "2.1"):
        raise NotFound(f"no NodeInfo version {version!r}; try 2.1 or 2.0")
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        # The same counts as /statistik and /api/v1/statistics.
        counts = await statistics.collect(conn, datetime.now(UTC))
        registration = await get_registration_mode(conn)
        name = await instance_settings.instance_name(conn, ctx)
    document = nodeinfo_document(
        version, SOFTWARE_NAME, __version__,
        users_total=counts.accounts, users_active_month=counts.active_month,
        users_active_halfyear=counts.active_halfyear, local_posts=counts.local_posts,
        open_registrations=registration == "open",
        metadata={"nodeName": name},
    )
    return JSONResponse(document, media_type=nodeinfo_content_type(version), headers=_CORS)


routes = [
    Route("/.well-known/webfinger", webfinger, methods=["GET", "HEAD"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET", "HEAD"]),
    Route("/.well-known/nodeinfo", nodeinfo_links, methods=["GET", "HEAD"]),
    Route("/nodeinfo/{version}", nodeinfo, methods=["GET", "HEAD"]),
]
