"""``GET /api/v1/search``: threads and posts matching words (fedi/forum/search.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import search as search_service
from fedi.routes.api_common import encode_cursor, page_request
from fedi.routes.api_search_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec
from storage.search import Filters

MAX_LIMIT = 50


async def search(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    params = request.query_params
    query = search_service.clean_query(params.get("q", ""))
    state = search_service.check_state(params.get("state"))
    paging = page_request(request, search_service.CURSOR_TYPES,
                          default_limit=search_service.PAGE_SIZE, max_limit=MAX_LIMIT)
    after = search_service.Cursor(*paging.after) if paging.after else None
    group_id = author_id = None
    async with ctx.pool.acquire() as conn:
        if params.get("group", "").strip():
            group_id = (await search_service.find_group(
                conn, params["group"], ctx.settings.host)).id
        if params.get("author", "").strip():
            author_id = (await search_service.find_author(
                conn, params["author"], ctx.settings.host)).id
    found = await search_service.search(
        ctx, query, filters=Filters(group_id=group_id, author_id=author_id, state=state),
        after=after, limit=paging.limit)
    return JSONResponse({
        "items": [search_service.item_view(ctx, r, found.actors) for r in found.results],
        "next": encode_cursor(found.next.key()) if found.next else None,
    })


routes = [Route("/api/v1/search", search, methods=["GET"])]
