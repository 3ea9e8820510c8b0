"""Questions that get solved: a thread's accepted answer (choose, change, withdraw), a
moderator's highlight of an official answer, the derived state of a thread, and the
order of its answers.

Who may choose is the policy's to say (``Action.ACCEPT_ANSWER``: the person who asked
and the group's moderators). The change, the modlog entry (when a moderator other than
the asker did it), the notification event and the federated ``Update`` are written in one
transaction. Federation (FEDERATION.md, "Accepted answers"): the instance that hosts the
thread object sends its author's ``Update`` with ``acceptedAnswer``; in a local group the
group relays it. A choice made here about a thread hosted elsewhere stays local (the
other side only accepts an Update of a Note from its author).
"""

from __future__ import annotations

from typing import Any

from fedi.core.context import Context
from fedi.core.errors import Conflict, NotFound, ValidationFailed
from fedi.forum import policy
from fedi.forum.policy import Action
from fedi.forum.posts import send_thread_update
from fedi.forum.staff import Staff, log, post_in_group, require_moderator
from storage import actors as actor_store
from storage import modlog as modlog_store
from storage import posts as post_store
from storage.actors import Actor
from storage.notification_events import enqueue_event
from storage.posts import Post

__all__ = ["SORTS", "accept", "apply_federated", "check_sort", "default_sort", "federated_fields",
           "highlight", "is_official", "sort_answers", "state_of", "withdraw"]

SORTS = ("best", "oldest", "newest")


def state_of(thread: Post) -> str:
    """``solved`` (an accepted answer), ``answered`` (replies) or ``open``."""
    if thread.accepted_answer_id is not None:
        return "solved"
    return "answered" if thread.reply_count > 0 else "open"


def default_sort(thread: Post) -> str:
    return "best" if thread.kind == "question" else "oldest"


def check_sort(value: Any, thread: Post) -> str:
    if value is None or value == "":
        return default_sort(thread)
    if value not in SORTS:
        raise ValidationFailed("sort must be best, oldest or newest", field="sort")
    return str(value)


def is_official(post: Post, author: Actor | None) -> bool:
    """A reply by an official account, or one a moderator highlighted."""
    return post.highlighted_at is not None or bool(author and author.official_position)


def sort_answers(replies: list[Post], thread: Post, sort: str,
                 actors: dict[int, Actor]) -> list[Post]:
    """Order sibling replies: ``best`` = the accepted answer, then official answers, then
    most liked, then oldest; ``oldest``/``newest`` by creation."""
    if sort == "newest":
        return sorted(replies, key=lambda p: -p.id)
    if sort == "oldest":
        return sorted(replies, key=lambda p: p.id)
    return sorted(replies, key=lambda p: (
        p.id != thread.accepted_answer_id,
        not is_official(p, actors.get(p.author_id)),
        -p.like_count,
        p.id,
    ))


async def _reply_and_thread(conn: Any, reply_id: int) -> tuple[Post, Post, Actor | None]:
    reply = await post_store.get(conn, reply_id)
    if reply is None:
        raise NotFound(f"no post {reply_id}")
    if reply.is_thread:
        raise ValidationFailed("a thread cannot be its own answer: give the id of a reply",
                               field="id", code="not_a_reply")
    thread = await post_store.get_for_update(conn, reply.thread_id or reply.id)
    if thread is None:
        raise NotFound(f"the thread of post {reply_id} is unknown")
    group = await actor_store.get(conn, thread.group_id) if thread.group_id else None
    return reply, thread, group


async def _record(conn: Any, ctx: Context, *, actor: Actor, thread: Post, group: Actor | None,
                  action: str, answer: Post | None) -> Post:
    """The modlog entry for a moderator's choice, and the Update of a thread hosted here."""
    if actor.id != thread.author_id:
        await modlog_store.insert(
            conn, action=action, group_id=group.id if group else None,
            moderator_id=actor.id, target_actor_id=thread.author_id,
            target_post_id=thread.id, reason="",
            details={"answer_id": answer.id if answer else None})
    if thread.local:
        thread = await post_store.touch_updated(conn, thread.id)
        await send_thread_update(conn, ctx, thread)
    return thread


async def accept(ctx: Context, *, actor: Actor, reply_id: int) -> Post:
    """Make ``reply_id`` its thread's accepted answer (replacing another); returns the
    thread. Choosing the accepted answer again changes nothing."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        reply, thread, group = await _reply_and_thread(conn, reply_id)
        await policy.require(conn, Action.ACCEPT_ANSWER, actor, group=group, thread=thread,
                             post=reply)
        if thread.accepted_answer_id == reply.id:
            return thread
        thread = await post_store.set_accepted(conn, thread.id, reply.id, by=actor.id)
        await enqueue_event(conn, "accepted_answer", {
            "thread_id": thread.id, "answer_id": reply.id, "actor_id": actor.id})
        return await _record(conn, ctx, actor=actor, thread=thread, group=group,
                             action="answer_accept", answer=reply)


async def withdraw(ctx: Context, *, actor: Actor, reply_id: int) -> Post:
    """Take back the accepted answer ``reply_id``; 409 when it is not the accepted one."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        reply, thread, group = await _reply_and_thread(conn, reply_id)
        # The reply may be gone by now: withdrawing needs only the thread and the role.
        await policy.require(conn, Action.ACCEPT_ANSWER, actor, group=group, thread=thread)
        if thread.accepted_answer_id != reply.id:
            raise Conflict("this reply is not the accepted answer", code="not_accepted")
        thread = await post_store.set_accepted(conn, thread.id, None, by=None)
        return await _record(conn, ctx, actor=actor, thread=thread, group=group,
                             action="answer_withdraw", answer=reply)


async def highlight(ctx: Context, staff: Staff, post_id: int, *, highlighted: bool) -> Post:
    """A moderator marks a reply as the official answer (or takes that back)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, group = await post_in_group(conn, post_id)
        await require_moderator(conn, staff, group)
        if post.is_thread:
            raise ValidationFailed("only a reply can be an official answer: give a reply's id",
                                   field="id", code="not_a_reply")
        if highlighted and not post.visible:
            raise Conflict("a deleted or removed reply cannot be highlighted",
                           code="not_visible")
        changed = await post_store.set_highlighted(
            conn, post.id, staff.actor.id if highlighted else None)
        if changed is None:
            raise Conflict(f"this reply is {'highlighted' if highlighted else 'not highlighted'}"
                           " already", code="unchanged")
        author = await actor_store.get(conn, post.author_id)
        await log(conn, "answer_highlight" if highlighted else "answer_unhighlight",
                  staff=staff, group=group, target=author, post=post)
    return changed


# --- inbound ------------------------------------------------------------------------------

_ACCEPTED_KEYS = ("acceptedAnswer", "schema:acceptedAnswer",
                  "http://schema.org#acceptedAnswer", "https://schema.org/acceptedAnswer",
                  "http://schema.org/acceptedAnswer")
_COUNT_KEYS = ("answerCount", "schema:answerCount", "http://schema.org#answerCount",
               "https://schema.org/answerCount", "http://schema.org/answerCount")


def _ref(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("id") or value.get("@id")
    return value if isinstance(value, str) and value else None


def federated_fields(doc: dict[str, Any]) -> tuple[bool, str | None]:
    """(speaks the extension, the accepted answer's id) of a thread object: a document
    with ``answerCount`` or ``acceptedAnswer`` is a question."""
    speaks = any(k in doc for k in _ACCEPTED_KEYS + _COUNT_KEYS)
    accepted = next((_ref(doc[k]) for k in _ACCEPTED_KEYS if k in doc), None)
    return speaks, accepted


async def apply_federated(conn: Any, thread: Post, doc: dict[str, Any], *,
                          by: Actor) -> Post:
    """Take a thread object's accepted answer as its author (``by``) sent it in an Update.

    Without ``answerCount``/``acceptedAnswer`` the sender does not know the extension and
    nothing changes; with ``answerCount`` alone the accepted answer is withdrawn. An answer
    we do not hold, or one of another thread, is ignored (it is not ours to place)."""
    speaks, accepted_id = federated_fields(doc)
    if not thread.is_thread or not speaks:
        return thread
    answer = await post_store.by_ap_id(conn, accepted_id) if accepted_id else None
    if answer is not None and (answer.thread_id != thread.id or answer.is_thread):
        answer = None
    if accepted_id and answer is None:
        return thread
    if (answer.id if answer else None) == thread.accepted_answer_id:
        if thread.kind != "question":
            await post_store.set_kind(conn, thread.id, "question")
        return thread
    changed = await post_store.set_accepted(conn, thread.id, answer.id if answer else None,
                                            by=by.id, kind="question")
    if answer is not None:
        await enqueue_event(conn, "accepted_answer", {
            "thread_id": thread.id, "answer_id": answer.id, "actor_id": by.id})
    return changed

