"""``GET /media/{name}``: uploaded files (fedi/core/media_store.py). Names are
content-addressed, so answers are cached for a year as immutable, with the name as ETag.
Images are served as their re-encoded type; documents only as downloads
(``Content-Disposition: attachment``), and everything with ``nosniff`` and a CSP that
lets nothing run, should a browser open it anyway."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.core.errors import NotFound
from fedi.core.media_store import media_store, valid_name
from storage import media as media_store_rows

__all__ = ["routes", "serve_media"]

CACHE = "public, max-age=31536000, immutable"
CSP = "default-src 'none'; sandbox"


def _disposition(filename: str | None, fallback: str) -> str:
    name = filename or fallback
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_"
                         for ch in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def serve_media(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    name = str(request.path_params["name"])
    if not valid_name(name):
        raise NotFound("There is no such file.")
    async with ctx.pool.acquire() as conn:
        media = await media_store_rows.serving(conn, name)
    if media is None:
        raise NotFound("There is no such file.")
    preview = name == media.preview_name
    media_type = "image/webp" if preview else media.media_type
    etag = f'"{name}"'
    headers = {"Cache-Control": CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": CSP, "Cross-Origin-Resource-Policy": "cross-origin"}
    if media.kind == "document":
        headers["Content-Disposition"] = _disposition(media.filename, name)
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    files = media_store(ctx.settings)
    path = files.local_path(name)
    if path is not None:
        return FileResponse(path, media_type=media_type, headers=headers)
    data = await files.read(name)
    if data is None:
        raise NotFound("There is no such file.")
    return Response(data, media_type=media_type, headers=headers)


routes = [Route("/media/{name}", serve_media, methods=["GET", "HEAD"])]
