"""Our actors, posts, activities and collections as other servers read them.

Every document answers exactly 200 with ``application/activity+json`` and ``id`` equal to
its URL (mastodon-interop.md §3); deleted things answer 410 with a Tombstone. Actor and
post URLs are web pages too (content negotiation), and so are a group's moderators and
modlog collections for browsers (Accept: text/html); the other collections and activities
have no page and always answer JSON. Followers and following lists give only ``totalItems``:
like Mastodon's hidden lists, who follows whom is not published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedi.core.actors import instance_actor
from fedi.core.context import Context
from fedi.core.errors import Gone, NotFound
from fedi.core.times import iso
from fedi.core.urls import Urls
from fedi.federation.collections import collection_or_page, ordered_collection
from fedi.federation.documents import (
    actor_document,
    tombstone,
    with_context,
)
from fedi.federation.group_outbox import outbox_item, thread_announce
from fedi.forum import posts as post_service
from fedi.forum.profiles import person_extra
from fedi.routes.api_modlog import group_modlog_collection
from fedi.routes.negotiation import (
    VARY,
    activity_response,
    html_page_for,
    html_response,
    request_wants_activitypub,
)
from storage import activities as activity_store
from storage import actors as actor_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post

_MAX_BIGINT = 2**63 - 1
# URL segment -> (actor type, kind of web page)
_KINDS = {"users": ("Person", "user"), "groups": ("Group", "group")}

Endpoint = Callable[[Request], Awaitable[Response]]


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _urls(ctx: Context) -> Urls:
    return Urls(ctx.settings.base_url)


# Actors ----------------------------------------------------------------------------------

async def _find_actor(conn: Any, ctx: Context, segment: str, name: str) -> Actor:
    """The local actor at /users/{name} or /groups/{name}, deleted ones included."""
    ap_id = f"{ctx.settings.base_url}/{segment}/{name}"
    return _local_of(await actor_store.by_ap_id(conn, ap_id), segment, name)


def _local_of(actor: Actor | None, segment: str, name: str) -> Actor:
    type_, _ = _KINDS[segment]
    if actor is None or not actor.local or actor.type != type_:
        what = "group" if type_ == "Group" else "user"
        raise NotFound(f"no {what} named {name!r} here")
    return actor


async def _live_actor(conn: Any, ctx: Context, segment: str, name: str) -> Actor:
    actor = await _find_actor(conn, ctx, segment, name)
    if actor.deleted_at is not None:
        raise Gone(f"{name} has been deleted")
    return actor


async def _actor_json(conn: Any, actor: Actor,
                      row: actor_store.DocumentRow | None = None) -> dict[str, Any]:
    """The actor's document; ``row`` (read with the actor) saves the key and group reads."""
    if row is not None:
        ed25519, summary_source = row.ed25519_multibase, row.summary_source
    else:
        keys = await actor_store.keys_for(conn, actor.id)
        ed25519 = keys.ed25519_public_multibase if keys is not None else None
        summary_source = None
        if actor.type == "Group":
            group = await group_store.get(conn, actor.id)
            summary_source = group.summary_source if group is not None else None
    return actor_document(
        actor,
        ed25519_multibase=ed25519,
        summary_source=summary_source if actor.type == "Group" else None,
        # A person's profile fields and bio source (fedi/forum/profiles.py).
        extra=await person_extra(conn, actor) if actor.type == "Person" else None,
    )


def _actor_tombstone(actor: Actor) -> dict[str, Any]:
    return with_context({
        "id": actor.ap_id, "type": "Tombstone", "formerType": actor.type,
        "deleted": iso(actor.deleted_at),
    })


def _actor_endpoint(segment: str) -> Endpoint:
    _, kind = _KINDS[segment]

    async def endpoint(request: Request) -> Response:
        ctx = _ctx(request)
        name = request.path_params["name"]
        async with ctx.pool.acquire() as conn:
            # One query for a group's document (actor, key, summary source).
            row = await actor_store.for_document(conn, f"{ctx.settings.base_url}/{segment}/{name}")
            actor = _local_of(row.actor if row is not None else None, segment, name)
            document = (None if actor.deleted_at is not None
                        else await _actor_json(conn, actor, row))
        title = actor.name or actor.username
        if (actor.moved_to and document is not None
                and not request_wants_activitypub(request)):
            # Moved (FEP-7628, fedi/forum/group_move.py): the pages are at the new
            # address; ActivityPub software reads the document and its movedTo.
            return RedirectResponse(actor.moved_to, status_code=301, headers=VARY)
        if request_wants_activitypub(request):
            if document is None:
                return activity_response(_actor_tombstone(actor), status=410)
            return activity_response(document)
        return await html_response(
            request, kind, actor, title=title if document else f"{title} (gelöscht)",
            text_html=actor.summary if document else None, alternate=actor.ap_id,
            status=200 if document else 410,
        )

    return endpoint


async def instance_actor_document(request: Request) -> Response:
    """``/actor``: the Application actor that signs our GETs (FEP-2677); JSON only."""
    ctx = _ctx(request)
    actor = await instance_actor(ctx)
    async with ctx.pool.acquire() as conn:
        return activity_response(await _actor_json(conn, actor))


# Actor collections -----------------------------------------------------------------------

def _outbox_endpoint(segment: str | None) -> Endpoint:
    """A group's outbox lists every visible thread as the group's Announce of it
    (fedi/federation/group_outbox.py), a user's the Creates they sent."""

    async def endpoint(request: Request) -> Response:
        ctx = _ctx(request)
        async with ctx.pool.acquire() as conn:
            actor = await _collection_owner(conn, ctx, request, segment)
            # The sizes come from the counter row (one indexed read, no count(*)).
            counts = await activity_store.outbox_counts(conn, actor.id)
            total = counts.threads if actor.type == "Group" else counts.creates

            async def fetch(before: int | None, after: int | None,
                            limit: int) -> Sequence[tuple[int, Any]]:
                if actor.type == "Group":
                    threads = await activity_store.group_outbox_page(
                        conn, actor.id, limit=limit, before_id=before, after_id=after)
                    return [(t.post_id, outbox_item(_urls(ctx), actor, t)) for t in threads]
                return await activity_store.post_activities_page(
                    conn, type_="Create", actor_id=actor.id, limit=limit, before_id=before,
                    after_id=after)

            document = await collection_or_page(
                actor.outbox or _urls(ctx).outbox(actor.ap_id),
                request.query_params.get("page"), fetch, total=total, newest_first=True,
            )
        return activity_response(document)

    return endpoint


def _count_endpoint(segment: str | None, which: str) -> Endpoint:
    """Followers or following: the number only (the lists stay private)."""

    async def endpoint(request: Request) -> Response:
        ctx = _ctx(request)
        async with ctx.pool.acquire() as conn:
            actor = await _collection_owner(conn, ctx, request, segment)
            if which == "followers":
                total = await follow_store.follower_count(conn, actor.id)
                url = actor.followers_url or _urls(ctx).followers(actor.ap_id)
            else:
                total = await follow_store.following_count(conn, actor.id)
                url = actor.following_url or _urls(ctx).following(actor.ap_id)
        return activity_response(ordered_collection(url, total, paged=False))

    return endpoint


async def _collection_owner(conn: Any, ctx: Context, request: Request,
                            segment: str | None) -> Actor:
    if segment is None:
        return await instance_actor(ctx)
    return await _live_actor(conn, ctx, segment, request.path_params["name"])


async def featured(request: Request) -> Response:
    """Pinned threads of a group, embedded as their documents (Mastodon shows them as
    pinned): the same as at their ids, so a poll is a Question here too."""
    ctx = _ctx(request)
    urls = _urls(ctx)
    async with ctx.pool.acquire() as conn:
        group = await _live_actor(conn, ctx, "groups", request.path_params["name"])
        notes = []
        for post in await post_store.pinned(conn, group.id):
            author = await actor_store.get(conn, post.author_id)
            if author is not None:
                notes.append(await post_service.note_with(
                    conn, urls, post, author=author, group=group, parent_ap_id=None))
    url = group.featured_url or urls.featured(group.ap_id)
    return activity_response(ordered_collection(url, len(notes), items=notes))


def _wants_page(request: Request, kind: str) -> bool:
    """A browser (text/html, no ActivityPub type) asking for a collection the forum shows
    as a page. Clients that send no Accept or ``*/*`` keep getting the JSON as before:
    these URLs were JSON-only, and ActivityPub software fetching them must not get HTML."""
    accept = request.headers.get("accept", "")
    return ("text/html" in accept and not request_wants_activitypub(request)
            and html_page_for(request, kind) is not None)


async def _collection_page(request: Request, kind: str, group: Actor, url: str) -> Response:
    return await html_response(request, kind, group, title=group.name or group.username,
                               text_html=None, alternate=url)


async def moderators(request: Request) -> Response:
    """Lemmy's moderators collection: the ids of the group's moderators; a page for
    browsers."""
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        group = await _live_actor(conn, ctx, "groups", request.path_params["name"])
        if _wants_page(request, "moderators"):
            url = group.moderators_url or _urls(ctx).moderators(group.ap_id)
            return await _collection_page(request, "moderators", group, url)
        ids = [m.ap_id for m in await group_store.moderators(conn, group.id)]
    url = group.moderators_url or _urls(ctx).moderators(group.ap_id)
    return activity_response(ordered_collection(url, len(ids), items=ids))


async def group_modlog(request: Request) -> Response:
    """``/groups/{name}/modlog``: the modlog page of the group for browsers, else the
    OrderedCollection."""
    if _wants_page(request, "modlog"):
        ctx = _ctx(request)
        async with ctx.pool.acquire() as conn:
            group = await _live_actor(conn, ctx, "groups", request.path_params["name"])
        return await _collection_page(request, "modlog", group, f"{group.ap_id}/modlog")
    return await group_modlog_collection(request)


# Posts, contexts, activities -------------------------------------------------------------

async def _get_post(conn: Any, request: Request) -> Post:
    post_id: int = request.path_params["post_id"]
    post = await post_store.get(conn, post_id) if post_id <= _MAX_BIGINT else None
    if post is None:
        raise NotFound(f"no post {post_id} here")
    return post


async def post_document(request: Request) -> Response:
    ctx = _ctx(request)
    wants_ap = request_wants_activitypub(request)
    async with ctx.pool.acquire() as conn:
        post = await _get_post(conn, request)
        if not post.local:
            # A copy of a remote post: its id (and so its document) lives elsewhere.
            if wants_ap:
                raise NotFound(f"post {post.id} is a copy of {post.ap_id}; fetch it there")
            if html_page_for(request, "post") is None:
                return RedirectResponse(post.url or post.ap_id, status_code=302, headers=VARY)
            return await html_response(request, "post", post, title=_title(post),
                                       text_html=post.content_html, alternate=post.ap_id)
        document = None
        # The forum's page reads what it shows itself: no document to build for it.
        forum_page = None if wants_ap else html_page_for(request, "post")
        if post.visible and forum_page is None:
            author = await actor_store.get(conn, post.author_id)
            group = await actor_store.get(conn, post.group_id) if post.group_id else None
            parent = await post_store.get(conn, post.parent_id) if post.parent_id else None
            if author is None:
                raise NotFound(f"the author of post {post.id} is unknown")
            document = await post_service.note_with(
                conn, _urls(ctx), post, author=author, group=group,
                parent_ap_id=parent.ap_id if parent else None)
    if wants_ap:
        if document is None:
            return activity_response(tombstone(post), status=410)
        return activity_response(document)
    if forum_page is not None:
        return await html_response(request, "post", post, title=_title(post),
                                   text_html=post.content_html, alternate=post.ap_id)
    if document is None:
        return await html_response(request, "post", post, title="Beitrag gelöscht",
                                   text_html=None, alternate=post.ap_id, status=410)
    return await html_response(request, "post", post, title=_title(post),
                               text_html=post.content_html, alternate=post.ap_id)


def _title(post: Post) -> str:
    return post.title or f"Beitrag {post.id}"


async def context_collection(request: Request) -> Response:
    """FEP-f228/7888: every object of a thread, oldest first, owned by its group."""
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        root = await _get_post(conn, request)
        url = _urls(ctx).context(root.id)
        # Served only where our own documents point: a thread root whose context is ours.
        if root.parent_id is not None or (root.context_url not in (None, url)):
            raise NotFound(f"post {root.id} has no context collection here")
        group = await actor_store.get(conn, root.group_id) if root.group_id else None
        total = await post_store.count_thread_posts(conn, root.id)

        async def fetch(before: int | None, after: int | None,
                        limit: int) -> Sequence[tuple[int, Any]]:
            return await post_store.thread_ap_ids_page(conn, root.id, limit=limit,
                                                       before_id=before, after_id=after)

        extra = {"attributedTo": group.ap_id, "audience": group.ap_id} if group else None
        document = await collection_or_page(url, request.query_params.get("page"), fetch,
                                            total=total, newest_first=False, extra=extra)
    return activity_response(document)


async def thread_announce_document(request: Request) -> Response:
    """``/posts/{id}/announce``: the group's Announce of a thread, as its outbox lists it
    when the group never announced the thread (fedi/federation/group_outbox.py)."""
    ctx = _ctx(request)
    async with ctx.pool.acquire() as conn:
        post = await _get_post(conn, request)
        group = await actor_store.get(conn, post.group_id) if post.group_id else None
        if (post.parent_id is not None or group is None or not group.local
                or group.deleted_at is not None):
            raise NotFound(f"post {post.id} is no thread of a group here")
        if not post.visible:
            gone = {"id": f"{_urls(ctx).post(post.id)}/announce", "type": "Tombstone",
                    "formerType": "Announce"}
            return activity_response(with_context(gone), status=410)
        found = await activity_store.group_outbox_page(conn, group.id, limit=1,
                                                       before_id=post.id + 1)
    if not found or found[0].post_id != post.id:
        raise NotFound(f"post {post.id} is no thread of a group here")
    return activity_response(with_context(thread_announce(_urls(ctx), group, found[0])))


# Activities addressed to a few actors that are still not served at their ids: a report
# (and its Resolve, which embeds it) names the reporter and stays between the servers
# concerned. Every other activity we send answers at its id (FEDERATION.md, "Activities
# we send"): also the non-public ones (Accept, Reject, Join, Leave ...), whose random ids
# only their recipients know.
_UNSERVED_TYPES = frozenset({"Flag", "Resolve"})


async def activity_document(request: Request) -> Response:
    """An activity we sent, as stored; no report, and none about a deleted post."""
    ctx = _ctx(request)
    ap_id = _urls(ctx).activity(request.path_params["token"])
    async with ctx.pool.acquire() as conn:
        activity = await activity_store.by_ap_id(conn, ap_id)
        if activity is None or (not activity.public and activity.type in _UNSERVED_TYPES):
            raise NotFound(f"no activity at {ap_id}")
        post = await post_store.get(conn, activity.post_id) if activity.post_id else None
    if post is not None and not post.visible:
        # The Create would still carry the deleted text.
        gone = {"id": ap_id, "type": "Tombstone", "formerType": activity.type}
        return activity_response(with_context(gone), status=410)
    payload = activity.payload
    if "@context" not in payload:
        payload = with_context(payload)
    return activity_response(payload)


def _actor_routes(segment: str) -> list[Route]:
    base = f"/{segment}/{{name}}"
    return [
        Route(base, _actor_endpoint(segment), methods=["GET", "HEAD"]),
        Route(f"{base}/outbox", _outbox_endpoint(segment), methods=["GET", "HEAD"]),
        Route(f"{base}/followers", _count_endpoint(segment, "followers"),
              methods=["GET", "HEAD"]),
        Route(f"{base}/following", _count_endpoint(segment, "following"),
              methods=["GET", "HEAD"]),
    ]


routes = [
    Route("/actor", instance_actor_document, methods=["GET", "HEAD"]),
    Route("/actor/outbox", _outbox_endpoint(None), methods=["GET", "HEAD"]),
    Route("/actor/followers", _count_endpoint(None, "followers"), methods=["GET", "HEAD"]),
    *_actor_routes("users"),
    *_actor_routes("groups"),
    Route("/groups/{name}/featured", featured, methods=["GET", "HEAD"]),
    Route("/groups/{name}/moderators", moderators, methods=["GET", "HEAD"]),
    Route("/groups/{name}/modlog", group_modlog, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}", post_document, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/context", context_collection, methods=["GET", "HEAD"]),
    Route("/posts/{post_id:int}/announce", thread_announce_document, methods=["GET", "HEAD"]),
    Route("/activities/{token:path}", activity_document, methods=["GET", "HEAD"]),
]
