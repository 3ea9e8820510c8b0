"""The notification worker: :class:`NotificationQueue`, the leased-queue policy over
``notification_events`` (storage/notification_events.py has the kinds and payloads).

Services only queue an event in the transaction that stores the post, like or decision;
this worker decides who hears of it, after the commit, so neither a web request nor the
inbox does that work. One event is one transaction: the notices, N2's mail hook
(:func:`fedi.forum.notification_mail.notifications_created`) and the event's outcome.

Who is told (Discourse's rules, kept simple):

- ``post``: the parent's and the thread's authors (``reply``), the local accounts the post
  mentions (``mention``), the thread's watchers (``watched_post``; the asker watches
  their thread from the start) and, for a new thread, the local followers of the group
  that did not mute it (``new_thread``). One notice per person and post, in that order
  of precedence (the dedupe key ``post:<id>``). A muted thread tells its muter nothing
  but mentions. Nobody hears of their own post; a post removed or deleted before the
  worker came to it tells nobody.
- ``like``: the author of the post, one notice per post for all its likes.
- ``moderation``: the local account whose content or account it is, with action and
  reason; ``report``: the local moderators of the report's group (admins when it has
  none); ``signup``: the admins; ``accepted_answer``: the asker and the answer's author
  (not the person who accepted).

A replayed event inserts nothing (dedupe keys); an unknown kind is marked done and
logged, so a newer writer does not block an older worker.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fedi.core.context import Context
from fedi.core.queue import LEASE, Backoff
from fedi.forum.notification_mail import notifications_created
from storage import accounts as account_store
from storage import notification_events as events
from storage import notifications as store
from storage import posts as post_store
from storage import reports as report_store
from storage.notification_events import NotificationEvent
from storage.notifications import Recipient
from storage.posts import Post

__all__ = ["BACKOFF", "NotificationQueue", "notify"]

log = logging.getLogger("fedi.notifications")

BACKOFF = Backoff((5, 30, 120, 600, 3600), jitter=0.1)
Handler = Callable[[Any, NotificationEvent], Awaitable[list[int]]]


def _int(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Notices:
    """The notices one event creates, one per account at most."""

    def __init__(self, conn: Any, event: NotificationEvent) -> None:
        self.conn = conn
        self.at = event.created_at
        self.ids: list[int] = []
        self.seen: set[int] = set()

    async def add(self, recipient: Recipient | None, type_: str, key: str, *,
                  skip_actor: int | None = None, **fields: Any) -> None:
        if recipient is None or recipient.account_id in self.seen:
            return
        if skip_actor is not None and recipient.actor_id == skip_actor:
            return
        self.seen.add(recipient.account_id)
        created = await store.insert(self.conn, account_id=recipient.account_id,
                                     type_=type_, dedupe_key=key, at=self.at, **fields)
        if created is not None:
            self.ids.append(created)


async def _thread_of(conn: Any, post: Post) -> Post | None:
    if post.is_thread:
        return post
    return await post_store.get(conn, post.thread_id) if post.thread_id else None


async def _post(conn: Any, event: NotificationEvent) -> list[int]:
    post_id = _int(event.payload, "post_id")
    post = await post_store.get(conn, post_id) if post_id is not None else None
    if post is None or not post.visible:
        return []
    thread = await _thread_of(conn, post)
    if thread is None or not thread.visible:
        return []
    muted = await store.thread_mutes(conn, thread.id)
    notices = _Notices(conn, event)
    fields = {"actor_id": post.author_id, "post_id": post.id, "thread_id": thread.id,
              "group_id": post.group_id}
    key = f"post:{post.id}"
    author = post.author_id

    async def add(recipient: Recipient | None, type_: str, *, mention: bool = False) -> None:
        if recipient is not None and recipient.account_id in muted and not mention:
            return
        await notices.add(recipient, type_, key, skip_actor=author, **fields)

    if not post.is_thread:
        parent = await post_store.get(conn, post.parent_id) if post.parent_id else None
        if parent is not None:
            await add(await store.account_of_actor(conn, parent.author_id), "reply")
        await add(await store.account_of_actor(conn, thread.author_id), "reply")
    for recipient in await store.mentioned(conn, post.id):
        await add(recipient, "mention", mention=True)
    if not post.is_thread:
        for recipient in await store.thread_watchers(conn, thread.id):
            await add(recipient, "watched_post")
    elif post.group_id is not None:
        for recipient in await store.group_followers(conn, post.group_id,
                                                     since=post.published):
            await add(recipient, "new_thread")
    return notices.ids


async def _like(conn: Any, event: NotificationEvent) -> list[int]:
    post_id = _int(event.payload, "post_id")
    liker = _int(event.payload, "actor_id")
    post = await post_store.get(conn, post_id) if post_id is not None else None
    if post is None or liker is None or not post.visible or liker == post.author_id:
        return []
    still = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM likes WHERE post_id = $1"
                                " AND actor_id = $2 AND kind = 'like')", post.id, liker)
    owner = await store.account_of_actor(conn, post.author_id)
    if not still or owner is None:
        return []
    created = await store.add_like(conn, account_id=owner.account_id, post_id=post.id,
                                   thread_id=post.thread_id, group_id=post.group_id,
                                   actor_id=liker, at=event.created_at)
    return [created] if created is not None else []


async def _moderation(conn: Any, event: NotificationEvent) -> list[int]:
    payload = event.payload
    target = await store.account_of_actor(conn, _int(payload, "target_actor_id"))
    post_id = _int(payload, "post_id")
    post = await post_store.get(conn, post_id) if post_id is not None else None
    thread = await _thread_of(conn, post) if post is not None else None
    group_id = _int(payload, "group_id") or (post.group_id if post is not None else None)
    data = {"action": str(payload.get("action") or ""),
            "reason": str(payload.get("reason") or "")}
    notices = _Notices(conn, event)
    await notices.add(target, "moderation", f"moderation:{event.id}",
                      skip_actor=_int(payload, "actor_id"), actor_id=_int(payload, "actor_id"),
                      post_id=post.id if post else None,
                      thread_id=thread.id if thread else None, group_id=group_id, data=data)
    return notices.ids


async def _report(conn: Any, event: NotificationEvent) -> list[int]:
    report_id = _int(event.payload, "report_id")
    report = await report_store.get(conn, report_id) if report_id is not None else None
    if report is None:
        return []
    recipients = (await store.group_moderators(conn, report.group_id)
                  if report.group_id is not None else await store.admins(conn))
    post = await post_store.get(conn, report.post_ids[0]) if report.post_ids else None
    thread = await _thread_of(conn, post) if post is not None else None
    notices = _Notices(conn, event)
    for recipient in recipients:
        await notices.add(recipient, "report", f"report:{report.id}",
                          skip_actor=report.reporter_id, actor_id=report.reporter_id,
                          post_id=post.id if post else None,
                          thread_id=thread.id if thread else None, group_id=report.group_id,
                          data={"report_id": report.id, "reason": report.reason[:500]})
    return notices.ids


async def _signup(conn: Any, event: NotificationEvent) -> list[int]:
    account_id = _int(event.payload, "account_id")
    account = await account_store.get(conn, account_id) if account_id is not None else None
    if account is None or account.status != "pending":
        return []
    notices = _Notices(conn, event)
    for recipient in await store.admins(conn):
        await notices.add(recipient, "signup", f"signup:{account.id}",
                          actor_id=account.actor_id, data={"username": account.username})
    return notices.ids


async def _accepted_answer(conn: Any, event: NotificationEvent) -> list[int]:
    payload = event.payload
    thread_id, answer_id = _int(payload, "thread_id"), _int(payload, "answer_id")
    thread = await post_store.get(conn, thread_id) if thread_id is not None else None
    answer = await post_store.get(conn, answer_id) if answer_id is not None else None
    if thread is None or answer is None:
        return []
    acting = _int(payload, "actor_id")
    notices = _Notices(conn, event)
    fields = {"actor_id": acting, "post_id": answer.id, "thread_id": thread.id,
              "group_id": thread.group_id}
    for author in (thread.author_id, answer.author_id):
        await notices.add(await store.account_of_actor(conn, author), "accepted_answer",
                          f"accepted:{answer.id}", skip_actor=acting, **fields)
    return notices.ids


HANDLERS: dict[str, Handler] = {
    "post": _post, "like": _like, "moderation": _moderation, "report": _report,
    "signup": _signup, "accepted_answer": _accepted_answer,
}


async def notify(conn: Any, ctx: Context, event: NotificationEvent) -> list[int]:
    """Create the event's notices and hand them to the mail hook, in ``conn``'s
    transaction; the ids of the notices created (or, for likes, renewed)."""
    handler = HANDLERS.get(event.kind)
    if handler is None:
        log.warning("notification event %d has an unknown kind %r: skipped", event.id,
                    event.kind)
        return []
    ids = await handler(conn, event)
    if ids:
        await notifications_created(conn, ctx, ids)
    return ids


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NotificationQueue:
    """The :class:`fedi.core.queue.LeasedQueue` over ``notification_events``."""

    table = events.TABLE

    def __init__(self, ctx: Context, *, clock: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or _utc_now
        self.lease = LEASE

    async def claim(self, conn: object, worker: uuid.UUID, limit: int
                    ) -> list[NotificationEvent]:
        return await events.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                  lease=self.lease)

    async def process(self, job: NotificationEvent, stopping: asyncio.Event) -> bool:
        if stopping.is_set():
            return False
        try:
            async with self.ctx.pool.acquire() as conn, conn.transaction():
                await notify(conn, self.ctx, job)
                note = None if job.kind in HANDLERS else f"unknown kind {job.kind!r}"
                await events.mark_done(conn, job.id, note=note)
        except Exception as exc:  # a bug or the database away: try again later
            log.exception("notification event %d (%s) failed", job.id, job.kind)
            await self._retry(job, f"{type(exc).__name__}: {exc}"[:2000])
        return True

    async def _retry(self, job: NotificationEvent, error: str) -> None:
        delay = BACKOFF.delay(job.attempts + 1)
        async with self.ctx.pool.acquire() as conn:
            if delay is None:
                await events.mark_failed(conn, job.id, error=error)
            else:
                await events.reschedule(conn, job.id,
                                        at=self.clock() + timedelta(seconds=delay),
                                        error=error)
