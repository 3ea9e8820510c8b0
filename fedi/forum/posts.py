"""Threads and replies by local users: write the rows and queue the activities, in one
transaction (see ARCHITECTURE.md, "How data flows")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import Forbidden, Gone, NotFound, ValidationFailed
from fedi.core.markup import scan_markdown
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.urls import Urls
from fedi.federation.documents import PUBLIC, activity, note_document
from fedi.federation.fanout import relay
from fedi.forum import media as media_service
from fedi.forum import mentions as mention_service
from fedi.forum import policy
from fedi.forum import polls as poll_service
from fedi.forum.policy import Action
from storage import actors as actor_store
from storage import groups as group_store
from storage import notification_events
from storage import notifications as notification_store
from storage import posts as post_store
from storage import tags as tag_store
from storage.actors import Actor
from storage.posts import Post

THREAD_TITLE_MAX = 200
KINDS = ("question", "discussion")
BODY_MAX = 20_000


def check_thread_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationFailed("title is required", field="title")
    value = " ".join(title.split())
    if len(value) > THREAD_TITLE_MAX:
        raise ValidationFailed(f"title must be at most {THREAD_TITLE_MAX} characters",
                               field="title")
    return value


def check_kind(kind: Any, default: str) -> str:
    """A thread's kind: "question" or "discussion" (None: the group's default)."""
    if kind is None or kind == "":
        return default
    if kind not in KINDS:
        raise ValidationFailed("kind must be \"question\" or \"discussion\"", field="kind")
    return str(kind)


def check_body(content: Any) -> str:
    if not isinstance(content, str) or not content.strip():
        raise ValidationFailed("content is required", field="content")
    if len(content) > BODY_MAX:
        raise ValidationFailed(f"content must be at most {BODY_MAX} characters", field="content")
    return content.strip()


def hashtags_of(markdown: str) -> list[str]:
    """The post's hashtags, lower case: those outside code and links, as they are linked."""
    return scan_markdown(markdown).hashtags


async def _publish(conn: Any, ctx: Context, *, author: Actor, group: Actor | None,
                   inner: dict[str, Any], post: Post, object_id: str | None,
                   direct: list[str] | None = None) -> None:
    """Store the author's activity (fetchable at its id) and send it on its way.

    In a local group the group relays it to its followers (FEP-1b12). In a remote group it
    goes to the group's inbox, and the group there relays it.
    """
    inboxes = list(direct or [])
    if group is not None and not group.local and group.delivery_inbox:
        inboxes.append(group.delivery_inbox)
    if group is not None and group.local:
        # No inbox is skipped: a server that follows the group needs the group's Announce
        # to file a reply there, even when it also gets the Create directly because the
        # parent's author lives there (both are idempotent by id).
        inboxes += await relay(conn, ctx, group=group, inner=inner, author=author,
                               object_id=object_id, post_id=post.id)
    await enqueue_activity(conn, ctx, actor=author, activity=inner, inboxes=inboxes,
                           post_id=post.id)


async def _context_of(conn: Any, post: Post) -> tuple[Actor, Actor | None, str | None]:
    author = await actor_store.get(conn, post.author_id)
    assert author is not None
    group = await actor_store.get(conn, post.group_id) if post.group_id else None
    parent = await post_store.get(conn, post.parent_id) if post.parent_id else None
    return author, group, parent.ap_id if parent else None


async def note_for(conn: Any, ctx: Context, post: Post) -> dict[str, Any]:
    author, group, parent_ap_id = await _context_of(conn, post)
    return await note_with(conn, Urls(ctx.settings.base_url), post, author=author,
                           group=group, parent_ap_id=parent_ap_id)


async def note_with(conn: Any, urls: Urls, post: Post, *, author: Actor,
                    group: Actor | None, parent_ap_id: str | None) -> dict[str, Any]:
    """A local post's document, its author, group and parent already at hand (as served
    at its id, in the featured collection and in Updates)."""
    accepted = (await post_store.get(conn, post.accepted_answer_id)
                if post.accepted_answer_id else None)
    note = note_document(post, author=author, group=group, parent_ap_id=parent_ap_id,
                         urls=urls, mentions=await tag_store.mentioned_actors(conn, post.id),
                         accepted=accepted)
    return await poll_service.question_for(conn, post, note)  # a poll is a Question


async def send_thread_update(conn: Any, ctx: Context, thread: Post) -> None:
    """Send the author's ``Update`` of a thread hosted here (its accepted answer
    changed): the group relays it to its followers, Mastodon gets it from the author.
    Call it in the caller's transaction, with ``updated`` already moved on."""
    author, group, _ = await _context_of(conn, thread)
    note = await note_for(conn, ctx, thread)
    update = activity(new_activity_id(ctx), "Update", author, note, **_addressing(note),
                      published=note.get("updated"))
    await _publish(conn, ctx, author=author, group=group, inner=update, post=thread,
                   object_id=thread.ap_id)


def _addressing(note: dict[str, Any]) -> dict[str, Any]:
    return {"to": note.get("to", [PUBLIC]), "cc": note.get("cc", []),
            "audience": note.get("audience")}


async def create_thread(ctx: Context, *, author: Actor, group: Actor, title: Any,
                        content: Any, kind: Any = None,
                        warnings: list[dict[str, str]] | None = None,
                        poll: Any = None, media_ids: Any = None) -> Post:
    """A new thread. ``warnings`` (when given) receives the mentions that stayed text;
    ``poll``: ``{"options", "multiple", "ends_at"}`` makes it a poll (forum/polls.py);
    ``media_ids``: the author's uploads to attach (forum/media.py)."""
    title = check_thread_title(title)
    body = check_body(content)
    check_kind(kind, "question")
    poll_spec = poll_service.check_poll(poll)
    urls = Urls(ctx.settings.base_url)
    # Resolved before the transaction: a WebFinger lookup must not hold a connection.
    found = await mention_service.resolve(ctx, body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await policy.require(conn, Action.START_THREAD, author, group=group)
        group_row = await group_store.get(conn, group.id)
        kind = check_kind(kind, group_row.default_kind if group_row else "question")
        files, attachments = await media_service.post_attachments(
            conn, ctx, owner=author, media_ids=media_ids or [], post_id=None)
        post_id = await post_store.next_id(conn)
        ap_id = urls.post(post_id)
        post = await post_store.insert(conn, {
            "ap_id": ap_id, "local": True, "group_id": group.id, "author_id": author.id,
            "parent_id": None, "depth": 0, "type": "Note", "title": title,
            "content_html": mention_service.render(body, found, urls.base), "source": body,
            "source_media_type": "text/markdown",
            "language": group_row.language if group_row else None,
            "url": ap_id, "context_url": urls.context(post_id), "hashtags": hashtags_of(body),
            "kind": kind, "attachments": attachments,
        }, post_id=post_id)
        await media_service.link_post(conn, post.id, files)
        # The asker watches their thread; the notification worker tells who should know.
        await notification_store.auto_watch(conn, author.id, post.id)
        await notification_events.enqueue_event(conn, "post", {"post_id": post.id})
        await mention_service.record(conn, post.id, found.actors)
        note = note_document(post, author=author, group=group, parent_ap_id=None, urls=urls,
                             mentions=found.actors)
        if poll_spec is not None:
            await poll_service.store_poll(conn, post.id, poll_spec)
            note = await poll_service.question_for(conn, post, note)
        create = activity(new_activity_id(ctx), "Create", author, note, **_addressing(note),
                          published=note["published"])
        await _publish(conn, ctx, author=author, group=group, inner=create, post=post,
                       object_id=ap_id, direct=found.remote_inboxes)
    if warnings is not None:
        warnings.extend(found.warnings)
    return post


async def create_reply(ctx: Context, *, author: Actor, parent: Post, content: Any,
                       warnings: list[dict[str, str]] | None = None,
                       media_ids: Any = None) -> Post:
    """A reply to ``parent``; ``warnings`` and ``media_ids`` as for :func:`create_thread`."""
    body = check_body(content)
    urls = Urls(ctx.settings.base_url)
    found = await mention_service.resolve(ctx, body)
    async with ctx.pool.acquire() as conn, conn.transaction():
        # Lock the thread row so a concurrent lock or removal is seen.
        thread = (await post_store.get_for_update(conn, parent.thread_id)
                  if parent.thread_id is not None else None)
        group = await actor_store.get(conn, parent.group_id) if parent.group_id else None
        await policy.require(conn, Action.REPLY, author, group=group, thread=thread,
                             post=parent)
        parent_author = await actor_store.get(conn, parent.author_id)
        files, attachments = await media_service.post_attachments(
            conn, ctx, owner=author, media_ids=media_ids or [], post_id=None)
        post_id = await post_store.next_id(conn)
        ap_id = urls.post(post_id)
        post = await post_store.insert(conn, {
            "ap_id": ap_id, "local": True, "group_id": parent.group_id, "author_id": author.id,
            "thread_id": parent.thread_id, "parent_id": parent.id, "depth": parent.depth + 1,
            "type": "Note", "content_html": mention_service.render(body, found, urls.base),
            "source": body,
            "source_media_type": "text/markdown", "language": parent.language,
            "url": ap_id, "context_url": parent.context_url or urls.context(parent.thread_id
                                                                            or parent.id),
            "hashtags": hashtags_of(body), "attachments": attachments,
        }, post_id=post_id)
        await media_service.link_post(conn, post.id, files)
        await notification_events.enqueue_event(conn, "post", {"post_id": post.id})
        await mention_service.record(conn, post.id, found.actors)
        extra_cc: list[str] = []
        direct: list[str] = found.remote_inboxes
        if parent_author is not None and parent_author.id != author.id:
            extra_cc.append(parent_author.ap_id)
            # The parent's author hears of the reply even if they do not follow the group.
            if not parent_author.local and parent_author.delivery_inbox:
                direct.append(parent_author.delivery_inbox)
        note = note_document(post, author=author, group=group, parent_ap_id=parent.ap_id,
                             urls=urls, extra_cc=extra_cc, mentions=found.actors)
        create = activity(new_activity_id(ctx), "Create", author, note, **_addressing(note),
                          published=note["published"])
        await _publish(conn, ctx, author=author, group=group, inner=create, post=post,
                       object_id=ap_id, direct=direct)
    if warnings is not None:
        warnings.extend(found.warnings)
    return post


def check_may_change(post: Post, actor: Actor) -> None:
    """Only the author edits or deletes a post, and only while it is there: a post the
    moderators removed stays as it was (its text is evidence, hidden from everyone else).
    The edit and delete forms call this before they show the post."""
    if post.deleted_at is not None:
        raise Gone("this post was deleted")
    if post.removed_at is not None:
        raise Gone("this post was removed by the moderators")
    if post.author_id != actor.id:
        raise Forbidden("only the author may change this post")


async def edit_post(ctx: Context, *, actor: Actor, post: Post, title: Any = None,
                    content: Any = None, warnings: list[dict[str, str]] | None = None,
                    media_ids: Any = None) -> Post:
    """Change a post's title or text; a new text's mentions are resolved again.
    ``media_ids`` (a list) replaces the attached uploads; None keeps them."""
    check_may_change(post, actor)
    found: mention_service.Mentions | None = None
    changes: dict[str, Any] = {}
    if title is not None:
        if not post.is_thread:
            raise ValidationFailed("only a thread has a title", field="title")
        changes["title"] = check_thread_title(title)
    if content is not None:
        body = check_body(content)
        found = await mention_service.resolve(ctx, body)
        changes.update(content_html=mention_service.render(body, found, ctx.settings.base_url),
                       source=body, hashtags=hashtags_of(body))
    if not changes and media_ids is None:
        raise ValidationFailed("nothing to change: give title or content", field="content")
    changes["updated"] = datetime.now(UTC)
    released: list[int] = []
    async with ctx.pool.acquire() as conn, conn.transaction():
        if media_ids is not None:
            files, changes["attachments"] = await media_service.post_attachments(
                conn, ctx, owner=actor, media_ids=media_ids, post_id=post.id)
            released = await media_service.link_post(conn, post.id, files)
        updated = await post_store.update_content(conn, post.id, **changes)
        # Those mentioned before the edit hear of it too (their notice shows the new text).
        direct = await _mention_inboxes(conn, post.id)
        if found is not None:
            await mention_service.record(conn, post.id, found.actors)
            direct += found.remote_inboxes
        _, group, _ = await _context_of(conn, updated)
        note = await note_for(conn, ctx, updated)
        update = activity(new_activity_id(ctx), "Update", actor, note, **_addressing(note),
                          published=note.get("updated"))
        await _publish(conn, ctx, author=actor, group=group, inner=update, post=updated,
                       object_id=updated.ap_id, direct=direct)
    if released:
        await media_service.delete_unused(ctx, released)
    if warnings is not None and found is not None:
        warnings.extend(found.warnings)
    return updated


async def _mention_inboxes(conn: Any, post_id: int) -> list[str]:
    """The inboxes of the remote actors a post mentions (its Update and Delete reach
    them as its Create did)."""
    return [a.delivery_inbox for a in await tag_store.mentioned_actors(conn, post_id)
            if not a.local and a.delivery_inbox]


async def delete_post(ctx: Context, *, actor: Actor, post: Post) -> None:
    check_may_change(post, actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        _, group, _ = await _context_of(conn, post)
        note = await note_for(conn, ctx, post)
        await post_store.mark_deleted(conn, post.id)
        released = await media_service.release_post(conn, post.id)
        tomb = {"id": post.ap_id, "type": "Tombstone"}
        delete = activity(new_activity_id(ctx), "Delete", actor, tomb, **_addressing(note))
        await _publish(conn, ctx, author=actor, group=group, inner=delete, post=post,
                       object_id=post.ap_id, direct=await _mention_inboxes(conn, post.id))
    # Its files go too, unless another post or an actor uses them.
    await media_service.delete_unused(ctx, released)


async def send_updates_for_media(conn: Any, ctx: Context, *, actor: Actor,
                                 media_id: int) -> None:
    """After ``actor`` changed the alt text of upload ``media_id`` (in ``conn``'s
    transaction): an Update of every visible post showing it
    (:mod:`fedi.forum.media_alt`)."""
    for post_id in await media_service.posts_using(conn, media_id):
        post = await post_store.get(conn, post_id)
        if post is None or not post.visible:
            continue
        _, group, _ = await _context_of(conn, post)
        note = await note_for(conn, ctx, post)
        update = activity(new_activity_id(ctx), "Update", actor, note,
                          **_addressing(note), published=note.get("updated"))
        await _publish(conn, ctx, author=actor, group=group, inner=update, post=post,
                       object_id=post.ap_id, direct=await _mention_inboxes(conn, post.id))


async def like_post(ctx: Context, *, actor: Actor, post: Post) -> bool:
    """Like a post; False when it was liked already (nothing is sent again)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        author, group, _ = await _context_of(conn, post)
        # A ban covers likes as well as posts (the ban page says so).
        await policy.require(conn, Action.LIKE, actor, group=group, post=post)
        like_id = new_activity_id(ctx)
        if not await post_store.add_like(conn, post.id, actor.id, ap_id=like_id):
            return False
        await notification_events.enqueue_event(conn, "like", {"post_id": post.id,
                                                               "actor_id": actor.id})
        like = activity(like_id, "Like", actor, post.ap_id, to=[author.ap_id],
                        cc=[group.ap_id] if group else [],
                        audience=group.ap_id if group else None)
        direct = [author.delivery_inbox] if not author.local and author.delivery_inbox else []
        await _publish(conn, ctx, author=actor, group=group, inner=like, post=post,
                       object_id=post.ap_id, direct=direct)
    return True


async def unlike_post(ctx: Context, *, actor: Actor, post: Post) -> bool:
    async with ctx.pool.acquire() as conn, conn.transaction():
        like_id = await post_store.remove_like(conn, post.id, actor.id)
        if like_id is None:
            return False
        author, group, _ = await _context_of(conn, post)
        like = {"id": like_id or f"{actor.ap_id}#likes/{post.id}", "type": "Like",
                "actor": actor.ap_id, "object": post.ap_id}
        undo = activity(new_activity_id(ctx), "Undo", actor, like, to=[author.ap_id],
                        cc=[group.ap_id] if group else [],
                        audience=group.ap_id if group else None)
        direct = [author.delivery_inbox] if not author.local and author.delivery_inbox else []
        await _publish(conn, ctx, author=actor, group=group, inner=undo, post=post,
                       object_id=post.ap_id, direct=direct)
    return True


async def get_post(ctx: Context, post_id: int) -> Post:
    async with ctx.pool.acquire() as conn:
        post = await post_store.get(conn, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    return post
