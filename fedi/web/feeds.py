"""Atom feeds (RFC 4287) per group (its threads) and per thread (its posts).

Built with ElementTree so the output is well-formed whatever the content; the post HTML
(already sanitised) goes in as escaped ``type="html"`` content.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import Gone, NotFound
from fedi.forum import groups as group_service
from fedi.forum import posts as post_service
from fedi.forum.views import actors_for
from fedi.web.common import ctx_of, int_param, web_endpoint
from fedi.web.pages import group_path, thread_path
from fedi.web.render import finish
from fedi.web.tag_pages import tag_name, tag_path
from storage import posts as post_store
from storage import tags as tag_store
from storage.actors import Actor
from storage.posts import Post

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
FEED_ENTRIES = 50


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _feed(*, feed_id: str, title: str, page_url: str, self_url: str, updated: datetime,
          entries: list[Post], actors: dict[int, Actor], base: str,
          subtitle: str | None = None) -> bytes:
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    if subtitle:
        _sub(feed, "subtitle", subtitle)
    _sub(feed, "updated", updated.isoformat())
    _sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    _sub(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    _sub(feed, "generator", "dEMiSA")
    for post in entries:
        author = actors.get(post.author_id)
        entry = _sub(feed, "entry")
        _sub(entry, "id", post.ap_id)
        _sub(entry, "title", post.title or f"{author.name or author.username if author else ''}")
        _sub(entry, "link", rel="alternate", type="text/html", href=base + thread_path(post))
        _sub(entry, "published", post.published.isoformat())
        _sub(entry, "updated", (post.updated or post.published).isoformat())
        person = _sub(entry, "author")
        _sub(person, "name", (author.name or author.username) if author else "?")
        if author is not None:
            _sub(person, "uri", author.url or author.ap_id)
        _sub(entry, "content", post.content_html, type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _response(request: Request, body: bytes) -> Response:
    response = Response(body, media_type=ATOM_TYPE + "; charset=utf-8")
    finish(request, response)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@web_endpoint
async def group_feed(request: Request) -> Response:
    ctx = ctx_of(request)
    group = await group_service.find_group(ctx, request.path_params["name"])
    if not group.local:
        raise NotFound("This group does not exist here.")
    async with ctx.pool.acquire() as conn:
        # As on the page (pinned first); feed readers sort the entries by date anyway.
        threads = await post_store.threads_page(conn, group.id, limit=FEED_ENTRIES)
        actors = await actors_for(conn, threads)
    base = ctx.settings.base_url
    updated = max((t.last_activity_at for t in threads), default=group.updated_at)
    path = group_path(group)
    return _response(request, _feed(
        feed_id=group.ap_id, title=group.name or group.username, page_url=base + path,
        self_url=f"{base}{path}/feed.atom", updated=updated, entries=threads, actors=actors,
        base=base,
    ))


@web_endpoint
async def thread_feed(request: Request) -> Response:
    ctx = ctx_of(request)
    post_id = int_param(str(request.path_params["post_id"]))
    post = await post_service.get_post(ctx, post_id) if post_id is not None else None
    if post is None or post.parent_id is not None:
        raise NotFound("This thread does not exist.")
    if not post.visible:
        raise Gone("This thread was deleted or removed.")
    async with ctx.pool.acquire() as conn:
        posts = [p for p in await post_store.thread_posts(conn, post.id) if p.visible]
        actors = await actors_for(conn, posts)
    # The newest posts first, and the thread itself always (it names the discussion).
    entries = [post, *sorted(posts[1:], key=lambda p: p.id, reverse=True)[:FEED_ENTRIES - 1]]
    base = ctx.settings.base_url
    updated = max(((p.updated or p.published) for p in entries), default=post.published)
    return _response(request, _feed(
        feed_id=post.ap_id + "#feed", title=post.title or "", page_url=base + thread_path(post),
        self_url=f"{base}/posts/{post.id}/feed.atom", updated=updated, entries=entries,
        actors=actors, base=base,
    ))


@web_endpoint
async def tag_feed(request: Request) -> Response:
    """The threads carrying a hashtag (fedi/web/tag_pages.py), newest first."""
    ctx = ctx_of(request)
    name = tag_name(request)
    async with ctx.pool.acquire() as conn:
        threads = await tag_store.tag_threads_page(conn, name, limit=FEED_ENTRIES)
        actors = await actors_for(conn, threads)
    base = ctx.settings.base_url
    path = tag_path(name)
    updated = max(((t.updated or t.published) for t in threads),
                  default=datetime.fromtimestamp(0).astimezone())
    return _response(request, _feed(
        feed_id=base + path, title="#" + name, page_url=base + path,
        self_url=f"{base}{path}/feed.atom", updated=updated, entries=threads, actors=actors,
        base=base,
    ))
