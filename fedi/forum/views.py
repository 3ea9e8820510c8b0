"""Posts, groups and actors as the JSON API shows them (the web pages reuse these)."""

from __future__ import annotations

from typing import Any

from fedi.core.context import Context
from fedi.core.times import iso
from fedi.forum import answers, polls
from storage import actors as actor_store
from storage import groups as group_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post

DELETED_ACCOUNT = "gelöschtes Konto"


def actor_view(actor: Actor) -> dict[str, Any]:
    return {
        "ap_id": actor.ap_id,
        "handle": actor.handle,
        "username": actor.username,
        "domain": actor.domain,
        # An erased account (fedi/forum/erasure.py) whose posts were kept has no name.
        "display_name": (DELETED_ACCOUNT if actor.deleted_at and actor.type == "Person"
                         else actor.name or actor.username),
        "url": actor.url or actor.ap_id,
        "local": actor.local,
        "type": actor.type,
        # An official voice's position (fedi/forum/officials.py): what the badge says.
        "official": ({"position": actor.official_position} if actor.official_position
                     else None),
    }


def group_view(group: Actor, stats: group_store.GroupStats | None = None,
               details: group_store.Group | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": group.username,
        "handle": group.handle,
        "title": group.name or group.username,
        "summary": group.summary or "",
        "ap_id": group.ap_id,
        "url": group.url or group.ap_id,
        "local": group.local,
        "posting_restricted_to_mods": group.posting_restricted_to_mods,
    }
    if details is not None:
        view["summary_source"] = details.summary_source
        view["rules"] = details.rules_source
        view["language"] = details.language
        view["microblog_fanout"] = details.microblog_fanout
    if stats is not None:
        view["thread_count"] = stats.thread_count
        view["post_count"] = stats.post_count
        view["follower_count"] = stats.follower_count
        view["last_activity_at"] = iso(stats.last_activity_at)
    return view


def post_view(post: Post, *, actors: dict[int, Actor], viewer: Actor | None = None,
              liked: set[int] | None = None, parent_ids: dict[int, int] | None = None
              ) -> dict[str, Any]:
    author = actors.get(post.author_id)
    group = actors.get(post.group_id) if post.group_id else None
    hidden = post.deleted_at is not None or post.removed_at is not None
    view: dict[str, Any] = {
        "id": post.id,
        "ap_id": post.ap_id,
        "url": post.url or post.ap_id,
        "thread_id": post.thread_id,
        "in_reply_to": post.parent_id,
        "title": post.title if post.is_thread else None,
        "content": "" if hidden else post.content_html,
        "summary": post.summary,
        "sensitive": post.sensitive,
        "language": post.language,
        "author": actor_view(author) if author else None,
        "group": group_view(group) if group else None,
        "published": iso(post.published),
        "updated": iso(post.updated),
        "like_count": post.like_count,
        "dislike_count": post.dislike_count,
        "reply_count": post.reply_count,
        "locked": post.locked,
        "pinned": post.pinned_at is not None,
        "deleted": post.deleted_at is not None,
        "removed": post.removed_at is not None,
        "hashtags": post.hashtags,
        "attachments": post.attachments,
        "last_activity_at": iso(post.last_activity_at) if post.is_thread else None,
        # Questions (fedi/forum/answers.py): a reply by an official account or one a
        # moderator highlighted is an official answer.
        "official_answer": (not post.is_thread and not hidden
                            and answers.is_official(post, author)),
        "highlighted": post.highlighted_at is not None,
    }
    if post.is_thread:
        view["kind"] = post.kind
        view["state"] = answers.state_of(post)
        view["accepted_answer_id"] = post.accepted_answer_id
    if viewer is not None and viewer.id == post.author_id and not hidden:
        view["source"] = post.source
    if liked is not None:
        view["liked"] = post.id in liked
    return view


async def actors_for(conn: Any, posts: list[Post]) -> dict[int, Actor]:
    """The authors and groups of ``posts``, by id."""
    ids = {p.author_id for p in posts} | {p.group_id for p in posts if p.group_id}
    return await actor_store.by_ids(conn, ids)


def reply_tree(posts: list[Post], root_id: int, render: Any,
               order: Any = None) -> list[dict[str, Any]]:
    """Nest the replies below ``root_id``; each reply carries its own ``replies``.
    ``order`` sorts the direct replies of ``root_id`` (the answers; fedi/forum/answers.py)."""
    children: dict[int, list[Post]] = {}
    for post in posts:
        if post.parent_id is not None:
            children.setdefault(post.parent_id, []).append(post)
    if order is not None and root_id in children:
        children[root_id] = order(children[root_id])

    def build(parent_id: int) -> list[dict[str, Any]]:
        out = []
        for child in children.get(parent_id, []):
            item = render(child)
            item["replies"] = build(child.id)
            out.append(item)
        return out

    return build(root_id)


async def post_with_replies(ctx: Context, post: Post, viewer: Actor | None,
                            sort: str | None = None) -> dict[str, Any]:
    """A post with its reply tree (a thread: the whole discussion). A thread's answers
    are in ``sort`` order (best, oldest, newest; default by its kind)."""
    async with ctx.pool.acquire() as conn:
        posts = await post_store.thread_posts(conn, post.thread_id or post.id)
        actors = await actors_for(conn, posts)
        liked = (await post_store.liked_by(conn, viewer.id, [p.id for p in posts])
                 if viewer else None)

    def render(p: Post) -> dict[str, Any]:
        return post_view(p, actors=actors, viewer=viewer, liked=liked)

    view = render(post)
    order = None
    if post.is_thread:  # its poll, with the caller's votes (fedi/forum/polls.py)
        async with ctx.pool.acquire() as conn:
            view["poll"] = await polls.view_for(conn, post, viewer.id if viewer else None)
        sort = sort or answers.default_sort(post)
        view["sort"] = sort

        def order(replies: list[Post]) -> list[Post]:
            return answers.sort_answers(replies, post, sort or "oldest", actors)

    view["replies"] = reply_tree(posts, post.id, render, order)
    return view
