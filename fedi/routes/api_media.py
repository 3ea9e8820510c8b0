"""JSON API for uploads (issue 19): ``POST /api/v1/media`` (multipart: ``file``, ``alt``)
and ``PATCH /api/v1/media/{id}`` (the alt text). The service is fedi/forum/media.py; the
posts take ``media_ids`` (api_forum.py), avatars and group pictures take the ids through
``PATCH /api/v1/me`` and ``PATCH /api/v1/admin/groups/{name}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.forum import media as media_service
from fedi.forum import media_alt
from fedi.routes.api_common import path_int, read_json
from fedi.routes.api_forum import actor_of
from fedi.routes.api_media_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from fedi.routes.auth import require_account
from fedi.routes.uploads import read_multipart, read_upload
from storage.media import Media


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def media_view(ctx: Context, media: Media) -> dict[str, Any]:
    """An upload as the API shows it (schema Media)."""
    return {
        "id": media.id,
        "url": media_service.media_url(ctx, media.stored_name),
        "preview_url": (media_service.media_url(ctx, media.preview_name)
                        if media.preview_name else None),
        "media_type": media.media_type,
        "alt": media.alt,
        "kind": media.kind,
        "size": media.size,
        "width": media.width,
        "height": media.height,
        "blurhash": media.blurhash,
        "filename": media.filename,
    }


async def upload(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    account = await require_account(request)  # before the body is read
    owner = await actor_of(ctx, account)
    assert owner is not None
    form = await read_multipart(request, ctx, max_files=1)
    try:
        found = await read_upload(form.get("file"), ctx)
        if found is None:
            raise ValidationFailed("choose a file (the multipart field file)", field="file")
        alt = form.get("alt")
        media = await media_service.upload(
            ctx, owner=owner, data=found[0], filename=found[1],
            alt=alt if isinstance(alt, str) else None)
    finally:
        await form.close()
    return JSONResponse(media_view(ctx, media), status_code=201)


async def change_alt(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    account = await require_account(request)
    actor = await actor_of(ctx, account)
    assert actor is not None
    body = await read_json(request)
    if "alt" not in body:
        raise ValidationFailed("alt is required", field="alt")
    media = await media_alt.change_media_alt(ctx, actor=actor,
                                             media_id=path_int(request, "id"),
                                             alt=body["alt"])
    return JSONResponse(media_view(ctx, media))


routes = [
    Route("/api/v1/media", upload, methods=["POST"]),
    Route("/api/v1/media/{id}", change_alt, methods=["PATCH"]),
]
