"""The pages people read: start page, group, thread, profile (search: search_pages.py).

Group, thread and profile pages live at the ActivityPub ids (/groups/{name}, /posts/{id},
/users/{name}); ``fedi.routes.activitypub`` calls the renderers registered in
``app.state.html_pages`` for browsers (see :data:`HTML_PAGES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedi.core.errors import Gone, NotFound
from fedi.core.markup import html_to_text, render_markdown
from fedi.forum import answers, instance_settings, notifications, policy, polls, profiles
from fedi.forum import groups as group_service
from fedi.forum.policy import Action
from fedi.forum.staff import Staff
from fedi.forum.views import actors_for
from fedi.routes.negotiation import HtmlPage
from fedi.web import page_cache
from fedi.web.common import (
    ctx_of,
    may_moderate,
    refusal_of,
    row_page,
    time_id_cursor,
    web_endpoint,
)
from fedi.web.mention_hint import unknown_mentions
from fedi.web.render import language, page
from fedi.web.session import Viewer, current_viewer
from storage import accounts as account_store
from storage import actors as actor_store
from storage import events as event_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import notifications as notification_store
from storage import polls as poll_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post, ReplyRow

THREADS_PER_PAGE = 25
OPEN_QUESTIONS = 10  # unsolved questions across groups on the start page
NEXT_EVENTS = 5  # "Nächste Veranstaltungen" on the start page (event_pages.py)
DESCRIPTION_SETTING = "instance_description"


def group_path(group: Actor) -> str:
    return f"/groups/{group.username}" if group.local else f"/g/{group.handle}"


def thread_path(post: Post) -> str:
    thread_id = post.thread_id or post.id
    if post.parent_id is None:
        return f"/posts/{thread_id}"
    return f"/posts/{thread_id}#post-{post.id}"


def excerpt(content_html: str, length: int = 240) -> str:
    text = " ".join(html_to_text(content_html).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# Start page -------------------------------------------------------------------------------

@web_endpoint
async def start(request: Request) -> Response:
    return await start_page(request)


async def start_page(request: Request, *, values: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = ctx_of(request)
    async with ctx.pool.acquire() as conn:
        groups = await group_store.list_groups(conn)
        stats = await group_store.stats(conn, [g.id for g in groups])
        description = await account_store.get_setting(conn, DESCRIPTION_SETTING)
        # The lead text an admin wrote (/admin/settings), rendered and sanitised.
        lead = (await instance_settings.current(conn, ctx.settings.instance_name)
                ).lead_markdown
        open_questions = await post_store.open_questions(conn, limit=OPEN_QUESTIONS)
        next_events = await event_store.listing(conn, limit=NEXT_EVENTS)
        viewer = await current_viewer(request)
        # Per group, the threads with posts new to the viewer (issue 14).
        groups_new = (await notifications.unread_for_groups(conn, viewer.account,
                                                            [g.id for g in groups])
                      if viewer is not None else {})
    return await page(request, "index.html", {
        "groups_new": groups_new,
        "next_events": next_events,
        "open_questions": open_questions,
        "question_groups": {g.id: g for g in groups},
        "description": description if isinstance(description, str) else None,
        "lead_html": render_markdown(lead) if lead else None,
        "local_groups": [g for g in groups if g.local],
        "remote_groups": [g for g in groups if not g.local],
        "stats": stats,
        "group_path": group_path,
        "values": values or {},
        "errors": errors or {},
    }, status=status)


# Group page -------------------------------------------------------------------------------


async def group_page(request: Request, group: Actor) -> Response:
    ctx = ctx_of(request)
    if group.deleted_at is not None:
        raise Gone("This group has been deleted.")
    viewer = await current_viewer(request)
    before = time_id_cursor(request.query_params.get("after"))
    state = request.query_params.get("state") or ""
    state = state if state in post_store.STATE_FILTERS else ""
    async with ctx.pool.acquire() as conn:
        threads = await post_store.threads_page(conn, group.id, limit=THREADS_PER_PAGE + 1,
                                                before=before, state=state or None)
        actors = await actors_for(conn, threads)
        stats = (await group_store.stats(conn, [group.id])).get(group.id)
        details = await group_store.get(conn, group.id)
        follow = (await follow_store.get(conn, viewer.actor.id, group.id)
                  if viewer is not None else None)
        post_refusal = follow_refusal = None
        if viewer is not None:  # the rules the new-thread form and the service apply
            post_refusal = refusal_of(request, await policy.refusal(
                conn, Action.START_THREAD, viewer.actor, group=group))
            if follow is None:  # leaving is always possible; joining asks the policy
                follow_refusal = refusal_of(request, await policy.refusal(
                    conn, Action.FOLLOW, viewer.actor, group=group))
        may_post = viewer is not None and post_refusal is None
        moderators = await group_store.moderators(conn, group.id)
        # "n neu" per thread, and whether the viewer muted the group (issue 14).
        unread = (await notifications.unread_for_threads(conn, viewer.account,
                                                         [t.id for t in threads])
                  if viewer is not None else {})
        muted = (await notification_store.group_muted(conn, viewer.account.id, group.id)
                 if viewer is not None else False)
        polls = await poll_store.with_polls(conn, [t.id for t in threads])
    next_after = None
    if len(threads) > THREADS_PER_PAGE:
        threads = threads[:THREADS_PER_PAGE]
        last = threads[-1]
        next_after = f"{last.last_activity_at.isoformat()}~{last.id}"
    rules = render_markdown(details.rules_source) if details and details.rules_source else ""
    return await page(request, "group.html", {
        "group": group,
        "path": group_path(group),
        "threads": threads,
        "actors": actors,
        "stats": stats,
        "language": details.language if details else None,
        "rules_html": rules,
        "follow": follow,
        "may_post": may_post,
        "post_refusal": post_refusal,
        "follow_refusal": follow_refusal,
        "first_page": before is None,
        "state": state,
        "next_after": next_after,
        "moderators": moderators,
        "unread": unread,
        "group_muted": muted,
        "polls": polls,
    })


@web_endpoint
async def group_by_ref(request: Request) -> Response:
    """/g/{name@host}: any group we know, remote ones included."""
    ctx = ctx_of(request)
    name, host = group_service.split_ref(request.path_params["ref"], ctx.settings.host)
    # Only groups known here: a page view must not make us look up other servers.
    async with ctx.pool.acquire() as conn:
        group = await actor_store.by_handle(conn, name, host, "Group")
    if group is None or group.type != "Group":
        raise NotFound("This group does not exist here.")
    if group.local:
        return RedirectResponse(f"/groups/{group.username}", status_code=301)
    return await group_page(request, group)


# Thread page ------------------------------------------------------------------------------

class TreeItem(NamedTuple):
    """One step through the reply tree: open a reply (``post`` set) or close one."""

    post: Any  # a Post or the thread page's narrow post_store.ReplyRow
    children: int


_CLOSE_LEAF = TreeItem(None, 0)


def flatten_replies(posts: Sequence[Post | ReplyRow], root_id: int) -> list[TreeItem]:
    """The replies below ``root_id`` in display order, as open/close steps.

    Iterative on purpose: a chain of hundreds of replies must not hit Python's or
    Jinja's recursion limits, which a recursive macro would.
    """
    children: dict[int, list[Post | ReplyRow]] = {}
    for post in posts:
        parent = post.parent_id
        if parent is not None:
            if parent in children:
                children[parent].append(post)
            else:
                children[parent] = [post]
    items: list[TreeItem] = []
    # Replies still to open, and the closing steps of those opened (TreeItems).
    stack: list[Post | ReplyRow | TreeItem] = list(reversed(children.get(root_id, ())))
    while stack:
        entry = stack.pop()
        if type(entry) is TreeItem:
            items.append(entry)
            continue
        assert not isinstance(entry, TreeItem)
        kids = children.get(entry.id)
        if kids is None:  # most replies: open and close at once
            items.append(TreeItem(entry, 0))
            items.append(_CLOSE_LEAF)
            continue
        items.append(TreeItem(entry, len(kids)))
        stack.append(TreeItem(None, len(kids)))
        stack.extend(reversed(kids))
    return items


@dataclass(frozen=True)
class ThreadReading:
    """The viewer's first new post (before this visit) and watch level."""

    first_unread: int | None
    watch_level: str | None


async def _read_thread(conn: Any, viewer: Viewer, thread: Post,
                       posts: Sequence[Post | ReplyRow]) -> ThreadReading:
    """Where the viewer stopped reading, then the thread read up to its newest post
    shown (with its notices): the page links to the first new post."""
    first = await notifications.first_unread(conn, viewer.account, thread.id)
    await notifications.mark_thread_seen(conn, viewer.account, thread.id,
                                         max(p.id for p in posts) if posts else thread.id)
    level = await notification_store.watch_level(conn, viewer.account.id, thread.id)
    return ThreadReading(first, level or "none")


async def thread_page(request: Request, post: Post) -> Response:
    if post.parent_id is not None:
        # A reply's id opens its thread at the reply.
        return RedirectResponse(thread_path(post), status_code=303)
    ctx = ctx_of(request)
    viewer = await current_viewer(request)
    staff = Staff(viewer.account, viewer.actor) if viewer is not None else None
    async with ctx.pool.acquire() as conn:
        # Narrow rows for the replies (only the columns shown); the root is the row the
        # route read. The group comes with the authors (one query).
        replies = await post_store.thread_replies(conn, post.id)
        posts: list[Post | ReplyRow] = [post, *replies]
        actors = await actor_store.by_ids(
            conn, {p.author_id for p in posts} | ({post.group_id} if post.group_id else set()))
        group = actors.get(post.group_id) if post.group_id else None
        moderator = await may_moderate(conn, staff, group)
        if post.removed_at is not None and not moderator:
            # Its moderators still see it: to restore it, or to see what was removed.
            raise Gone("This thread was removed by the moderators.")
        liked = (await post_store.liked_by(conn, viewer.actor.id, [p.id for p in posts])
                 if viewer is not None else set())
        # Its poll (fedi/forum/polls.py), with the viewer's votes.
        poll = await polls.view_for(conn, post, viewer.actor.id if viewer else None)
        if poll is not None and poll["ends_at"]:
            poll["ends_at_value"] = datetime.fromisoformat(poll["ends_at"])
        reply_refusal = like_refusal = None
        may_accept = viewer is not None and await policy.refusal(
            conn, Action.ACCEPT_ANSWER, viewer.actor, group=group, thread=post,
            post=post) is None
        if viewer is not None:  # the services' rules, so the page offers only what they allow
            reply_refusal = refusal_of(request, await policy.refusal(
                conn, Action.REPLY, viewer.actor, group=group, thread=post, post=post))
            # Each post's own visibility is the template's: here the viewer and the group.
            like_refusal = refusal_of(request, await policy.refusal(
                conn, Action.LIKE, viewer.actor, group=group))
        reading = (await _read_thread(conn, viewer, post, posts)
                   if viewer is not None else ThreadReading(None, None))
    # Questions (fedi/forum/answers.py): the answers in the chosen order, the accepted
    # one shown under the question too, official answers marked.
    # The same page for every anonymous reader: cacheable, unless an open poll is on it
    # (its page changes when it ends, which no write marks).
    if viewer is None and (poll is None or poll["closed"]):
        page_cache.allow(request)
    sort = request.query_params.get("sort") or ""
    sort = sort if sort in answers.SORTS else answers.default_sort(post)
    # sort_answers reads id, author_id, like_count and highlighted_at: in the narrow rows.
    direct = answers.sort_answers(cast(list[Post], [p for p in replies if p.parent_id == post.id]),
                                  post, sort, actors)
    posts = [post, *direct, *(p for p in replies if p.parent_id != post.id)]
    return await page(request, "thread.html", {
        "sort": sort,
        "sorts": answers.SORTS,
        "accepted": next((p for p in posts if p.id == post.accepted_answer_id
                          and p.visible), None),
        "official_ids": {p.id for p in replies
                         if answers.is_official(cast(Post, p), actors.get(p.author_id))},
        "may_accept": may_accept,
        "may_moderate": moderator,
        "poll": poll,
        "root": post,
        "group": group,
        "group_path": group_path(group) if group else None,
        "items": flatten_replies(posts, post.id),
        "reply_count": len(posts) - 1,
        "actors": actors,
        "liked": liked,
        "may_reply": viewer is not None and reply_refusal is None,
        "reply_refusal": reply_refusal,
        "may_like": viewer is not None and like_refusal is None,
        # After a post whose mentions stayed text (fedi/web/mention_hint.py).
        "unknown_mentions": unknown_mentions(request) if viewer is not None else [],
        # Unread tracking and watching (fedi/forum/notifications.py).
        "first_unread": reading.first_unread,
        "watch_level": reading.watch_level,
    })


# Profile ----------------------------------------------------------------------------------

async def user_page(request: Request, actor: Actor) -> Response:
    if actor.deleted_at is not None:
        raise Gone("This account has been deleted.")
    ctx = ctx_of(request)
    async with ctx.pool.acquire() as conn:
        hits = await post_store.visible_by_author(conn, actor.id)
        account = await account_store.by_actor(conn, actor.id)
        fields = await profiles.shown_fields(conn, actor, language(request))
    return await page(request, "user.html", {
        "person": actor,
        "fields": fields,
        "joined": account.created_at if account else actor.created_at,
        "hits": hits,
        "excerpt": excerpt,
        "thread_path": thread_path,
    })


HTML_PAGES: dict[str, HtmlPage] = {
    "post": row_page(thread_page),
    "group": row_page(group_page),
    "user": row_page(user_page),
}
