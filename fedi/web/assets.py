"""The favicon, at the root where browsers ask for it (/favicon.ico even when a page links
none), cached for a week: it changes with a release, if ever."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

STATIC = Path(__file__).resolve().parent / "static"
ICONS = {"/favicon.ico": ("favicon.ico", "image/vnd.microsoft.icon"),
         "/favicon.svg": ("favicon.svg", "image/svg+xml")}
CACHE_CONTROL = "public, max-age=604800"
# An SVG opened on its own is a document: no scripts, nothing from elsewhere.
ICON_HEADERS = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


async def favicon(request: Request) -> Response:
    """GET /favicon.ico, /favicon.svg (304 when the browser's copy is current)."""
    name, media_type = ICONS[request.url.path]
    path = STATIC / name
    response = FileResponse(path, media_type=media_type, headers=ICON_HEADERS,
                            stat_result=path.stat())
    etag = response.headers["etag"]
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={**ICON_HEADERS, "ETag": etag})
    return response
