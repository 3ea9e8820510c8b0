"""The search page (``/search``): the same service as ``GET /api/v1/search``
(fedi/forum/search.py), with its filters as form fields and paging by cursor."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from fedi.forum import search as search_service
from fedi.routes.api_common import decode_cursor, encode_cursor
from fedi.web.common import ctx_of, web_endpoint
from fedi.web.render import page
from storage import groups as group_store
from storage.search import Filters

STATE_LABELS = ("open", "answered", "unanswered", "solved")


@web_endpoint
async def search(request: Request) -> Response:
    ctx = ctx_of(request)
    params = request.query_params
    raw_query = " ".join(params.get("q", "").split())
    group_ref = params.get("group", "").strip()
    author_ref = params.get("author", "").strip()
    state = params.get("state", "").strip()
    async with ctx.pool.acquire() as conn:
        groups = await group_store.list_groups(conn)
        group = (await search_service.find_group(conn, group_ref, ctx.settings.host)
                 if group_ref else None)
        author = (await search_service.find_author(conn, author_ref, ctx.settings.host)
                  if author_ref else None)
    error = None
    found = None
    if raw_query:
        try:
            query = search_service.clean_query(raw_query)
            chosen = search_service.check_state(state)
        except search_service.InvalidQuery as exc:
            error = exc.field
        else:
            cursor = params.get("cursor")
            after = (search_service.Cursor(*decode_cursor(cursor, search_service.CURSOR_TYPES))
                     if cursor else None)
            found = await search_service.search(
                ctx, query, filters=Filters(group_id=group.id if group else None,
                                            author_id=author.id if author else None,
                                            state=chosen), after=after)
    next_url = None
    if found is not None and found.next is not None:
        kept = {k: v for k, v in (("q", raw_query), ("group", group_ref),
                                  ("author", author_ref), ("state", state)) if v}
        next_url = "/search?" + urlencode({**kept, "cursor": encode_cursor(found.next.key())})
    return await page(request, "search.html", {
        "query": raw_query, "group": group, "groups": groups, "author_ref": author_ref,
        "state": state, "states": STATE_LABELS, "found": found, "error": error,
        "first_page": not params.get("cursor"), "next_url": next_url,
        "max_query": search_service.MAX_QUERY,
        "result_path": search_service.thread_path,
    })


# Similar threads on the new-thread form ------------------------------------------------------

async def similar_context(request: Request, title: str) -> dict[str, object]:
    """What post_form.html needs to list the threads like ``title`` (the "Prüfen" step)."""
    return {"similar": await search_service.similar_threads(ctx_of(request), title),
            "result_path": search_service.thread_path}


@web_endpoint
async def similar_fragment(request: Request) -> Response:
    """The similar-threads list alone, for the new-thread form's script (similar.js)."""
    title = " ".join(request.query_params.get("title", "").split())[:search_service.MAX_QUERY]
    context = await similar_context(request, title) if title else {"similar": None}
    return await page(request, "similar_threads.html", context)
