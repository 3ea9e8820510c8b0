"""Content negotiation for URLs that are both ActivityPub ids and web pages.

A request gets ActivityPub JSON when its Accept header names an ActivityPub or JSON
type, and HTML otherwise (browsers). Every answer says ``Vary: Accept`` so caches keep
the two apart. HTML comes from the page renderer the web forum registers in
``app.state.html_pages`` (kind -> ``async (request, row) -> Response``; kinds "post",
"group", "user"), or from a minimal page until it does.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from fedi.core.markup import html_to_text

ACTIVITY_JSON = "application/activity+json"
# application/ld+json counts with or without the ActivityStreams profile; plain JSON too,
# since some clients ask for it and would otherwise get a page they cannot read.
_AP_MEDIA_TYPES = frozenset({ACTIVITY_JSON, "application/ld+json", "application/json"})
VARY = {"Vary": "Accept"}

HtmlPage = Callable[[Request, Any], Awaitable[Response]]


def wants_activitypub(accept: str | None) -> bool:
    """True when the Accept header asks for an ActivityPub (or JSON) document."""
    for part in (accept or "").split(","):
        media_type, *params = (p.strip() for p in part.split(";"))
        if media_type.lower() not in _AP_MEDIA_TYPES:
            continue
        if not any(_is_zero_quality(p) for p in params):
            return True
    return False


def _is_zero_quality(param: str) -> bool:
    name, _, value = param.partition("=")
    if name.strip().lower() != "q":
        return False
    try:
        return float(value.strip()) == 0.0
    except ValueError:
        return False


def request_wants_activitypub(request: Request) -> bool:
    return wants_activitypub(request.headers.get("accept"))


def activity_response(document: dict[str, Any], status: int = 200) -> Response:
    """An ActivityPub document: exactly this Content-Type (Mastodon checks it) and Vary."""
    return JSONResponse(document, status_code=status, media_type=ACTIVITY_JSON, headers=VARY)


def html_page_for(request: Request, kind: str) -> HtmlPage | None:
    """The forum's renderer for ``kind`` ("post", "group", "user"), if it registered one."""
    pages: dict[str, HtmlPage] | None = getattr(request.app.state, "html_pages", None)
    if pages is None:
        # Created lazily so the forum can register its renderers whenever it starts.
        pages = {}
        request.app.state.html_pages = pages
    return pages.get(kind)


async def html_response(
    request: Request, kind: str, row: Any, *, title: str, text_html: str | None,
    alternate: str, status: int = 200,
) -> Response:
    """The forum's page for ``row`` when it has one, else a minimal page; always Vary.

    The forum gets deleted rows too (``status`` 410 here): it may still show the thread
    around a deleted post; the minimal page answers with ``status``.
    """
    render = html_page_for(request, kind)
    if render is not None:
        response = await render(request, row)
    else:
        response = minimal_page(title=title, text_html=text_html, alternate=alternate,
                                status=status)
    _add_vary(response)
    return response


def minimal_page(*, title: str, text_html: str | None, alternate: str,
                 status: int = 200) -> HTMLResponse:
    """A small, safe German page: plain text only, and a link to the JSON document."""
    text = html_to_text(text_html) if text_html else ""
    paragraphs = "".join(
        f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip()
    )
    href = html.escape(alternate, quote=True)
    body = (
        "<!DOCTYPE html>\n"
        '<html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="alternate" type="{ACTIVITY_JSON}" href="{href}">'
        f"</head><body><main><h1>{html.escape(title)}</h1>{paragraphs}"
        f'<p><a href="{href}">ActivityPub-Dokument</a></p></main></body></html>\n'
    )
    return HTMLResponse(body, status_code=status, headers=VARY)


def _add_vary(response: Response) -> None:
    current = response.headers.get("vary")
    if current is None:
        response.headers["Vary"] = "Accept"
    elif "accept" not in {v.strip().lower() for v in current.split(",")}:
        response.headers["Vary"] = f"{current}, Accept"
