"""The page of a hashtag, ``/tags/{name}``: the threads that carry it (on the thread or
on one of its posts; local and remote), newest first, paged; its Atom feed is
``/tags/{name}/feed.atom`` (fedi/web/feeds.py). This is where the ``href`` of the
``Hashtag`` tags we send points (fedi/federation/documents.py).

Names are matched in lower case (posts store them so); a name nobody used yet shows an
empty page, and only a name that cannot be a hashtag at all is a 404.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import NotFound
from fedi.core.mention_markup import HASHTAG
from fedi.forum.views import actors_for
from fedi.web.common import ctx_of, time_id_cursor, web_endpoint
from fedi.web.pages import group_path
from fedi.web.render import page
from storage import polls as poll_store
from storage import tags as tag_store

THREADS_PER_PAGE = 25


def tag_name(request: Request) -> str:
    """The tag of the path, lower case; NotFound when no hashtag could be written so."""
    name = str(request.path_params["name"])
    match = HASHTAG.fullmatch("#" + name)
    if match is None:
        raise NotFound("This is not a hashtag.")
    return name.lower()


def tag_path(name: str) -> str:
    return "/tags/" + quote(name, safe="")



@web_endpoint
async def tag_page(request: Request) -> Response:
    name = tag_name(request)
    ctx = ctx_of(request)
    before = time_id_cursor(request.query_params.get("after"))
    async with ctx.pool.acquire() as conn:
        threads = await tag_store.tag_threads_page(conn, name, limit=THREADS_PER_PAGE + 1,
                                                   before=before)
        actors = await actors_for(conn, threads)
        total = await tag_store.count_tag_threads(conn, name)
        polls = await poll_store.with_polls(conn, [t.id for t in threads])
    older = None
    if len(threads) > THREADS_PER_PAGE:
        threads = threads[:THREADS_PER_PAGE]
        last = threads[-1]
        older = f"{tag_path(name)}?after={quote(f'{last.published.isoformat()}~{last.id}')}"
    groups = {t.id: actors.get(t.group_id) for t in threads if t.group_id}
    return await page(request, "tag.html", {
        "tag": name,
        "path": tag_path(name),
        "threads": threads,
        "actors": actors,
        "groups": {tid: (g, group_path(g)) for tid, g in groups.items() if g is not None},
        "total": total,
        "older": older,
        "newest": tag_path(name) if before is not None else None,
        "polls": polls,
    })
