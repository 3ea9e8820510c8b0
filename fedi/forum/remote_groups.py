"""Our users as members of groups: following and unfollowing (remote groups get a Follow
or an Undo(Follow) from the user; local ones just a row), and the backfill of a remote
group's recent threads when its first local member is accepted.

The backfill runs as a background task (bounded in items and time, failures logged):
it only fills in history, everything new arrives by the group's Announces anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from activitypub import vocab
from activitypub.errors import ProtocolError
from fedi.context import Context
from fedi.federation.documents import activity
from fedi.federation.remote import fetch, host_of
from fedi.outbox import enqueue_activity, new_activity_id
from storage import follows as follow_store
from storage import posts as post_store
from storage.actors import Actor
from storage.follows import Follow
from storage.posts import Post

log = logging.getLogger("fedi.remote_groups")

BACKFILL_THREADS = 20  # threads taken from the group's outbox
BACKFILL_OUTBOX_ITEMS = 100  # outbox items looked at, at most
BACKFILL_OUTBOX_PAGES = 5
BACKFILL_CONTEXT_ITEMS = 200  # replies taken from one thread's context collection
BACKFILL_CONTEXT_PAGES = 10
BACKFILL_SECONDS = 300.0

# Running backfills, referenced so they are not garbage-collected mid-way (asyncio keeps
# only weak references to tasks).
_backfills: set[asyncio.Task[None]] = set()


# --- following ------------------------------------------------------------------------


async def follow_group(ctx: Context, *, user: Actor, group: Actor) -> Follow:
    """``user`` joins ``group``. A local group needs no approval: the follow is accepted
    at once. A remote group gets a Follow signed by the user; the row stays pending until
    the group's Accept arrives. Following again while pending sends a fresh Follow (the
    first may have been lost); an accepted follow is left as it is."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        existing = await follow_store.get(conn, user.id, group.id)
        if group.local:
            return await follow_store.upsert(conn, follower_id=user.id, target_id=group.id,
                                             ap_id=None, state="accepted")
        if existing is not None and existing.state == "accepted":
            return existing
        follow_id = new_activity_id(ctx)
        follow = activity(follow_id, "Follow", user, group.ap_id, to=[group.ap_id], cc=[])
        row = await follow_store.upsert(conn, follower_id=user.id, target_id=group.id,
                                        ap_id=follow_id, state="pending")
        # The group's own inbox, as Mastodon does: some servers take Follows only there.
        inbox = group.inbox or group.shared_inbox
        await enqueue_activity(conn, ctx, actor=user, activity=follow,
                               inboxes=[inbox] if inbox else [])
    return row


async def unfollow_group(ctx: Context, *, user: Actor, group: Actor) -> bool:
    """``user`` leaves ``group``; False when they were no member. A remote group gets an
    Undo with the original Follow embedded (its id is how the group finds it)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        existing = await follow_store.get(conn, user.id, group.id)
        if existing is None:
            return False
        await follow_store.delete(conn, user.id, group.id)
        if not group.local:
            follow = {"id": existing.ap_id or f"{user.ap_id}#follows/{existing.id}",
                      "type": "Follow", "actor": user.ap_id, "object": group.ap_id}
            undo = activity(new_activity_id(ctx), "Undo", user, follow, to=[group.ap_id], cc=[])
            inbox = group.inbox or group.shared_inbox
            await enqueue_activity(conn, ctx, actor=user, activity=undo,
                                   inboxes=[inbox] if inbox else [])
    return True


async def local_member_count(conn: Any, group_id: int) -> int:
    """How many of our users follow the group (accepted)."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM follows f JOIN actors a ON a.id = f.follower_id"
        " WHERE f.target_id = $1 AND f.state = 'accepted' AND a.local", group_id))


# --- backfill -------------------------------------------------------------------------


@dataclass
class BackfillResult:
    threads: int = 0
    replies: int = 0
    errors: list[str] = field(default_factory=list)


def start_backfill(ctx: Context, group: Actor) -> asyncio.Task[None]:
    """Backfill ``group`` in the background (see :func:`backfill`)."""
    task = asyncio.create_task(_backfill_logged(ctx, group), name=f"backfill {group.handle}")
    _backfills.add(task)
    task.add_done_callback(_backfills.discard)
    return task


async def _backfill_logged(ctx: Context, group: Actor) -> None:
    try:
        async with asyncio.timeout(BACKFILL_SECONDS):
            result = await backfill(ctx, group)
    except TimeoutError:
        log.warning("backfill of %s stopped after %.0f s", group.handle, BACKFILL_SECONDS)
    except Exception:
        # A background task has nobody to raise to; the group still works without history.
        log.exception("backfill of %s failed", group.handle)
    else:
        log.info("backfill of %s: %d threads, %d replies, %d errors", group.handle,
                 result.threads, result.replies, len(result.errors))


async def backfill(ctx: Context, group: Actor) -> BackfillResult:
    """Store the recent threads of a remote group from its outbox (the group vouches for
    them as in its Announces), then each thread's replies from its FEP-f228 context
    collection where the thread names one. Bounded by the BACKFILL_* limits."""
    from fedi.federation.inbound.announce import receive_relayed
    from fedi.federation.inbound.outcomes import Ignored

    result = BackfillResult()
    threads: list[Post] = []
    if not group.outbox:
        return result
    async for item in _collection_items(ctx, group.outbox, max_items=BACKFILL_OUTBOX_ITEMS,
                                        max_pages=BACKFILL_OUTBOX_PAGES, result=result):
        if len(threads) >= BACKFILL_THREADS:
            break
        if (isinstance(item, vocab.Announce) and item.actor == group.ap_id
                and item.object is not None):
            item = item.object  # the group's outbox holds its Announces of what it relayed
        try:
            post = await receive_relayed(ctx, group, item, creates_only=True)
        except Ignored:
            continue
        except ProtocolError as exc:
            result.errors.append(exc.reason)
            continue
        if post is None:
            continue
        if post.parent_id is None:
            threads.append(post)
            result.threads += 1
        else:
            result.replies += 1
    for thread in threads:
        context = _context_of(thread)
        if context is None:
            continue
        async for item in _collection_items(ctx, context, max_items=BACKFILL_CONTEXT_ITEMS,
                                            max_pages=BACKFILL_CONTEXT_PAGES, result=result):
            item_id = vocab.object_id(item)
            if item_id is None or item_id == thread.ap_id:
                continue
            async with ctx.pool.acquire() as conn:
                if await post_store.by_ap_id(conn, item_id) is not None:
                    continue
            try:
                # By id, never the embedded copy: the context may be kept by the group's
                # host, while each reply belongs to its author's.
                post = await receive_relayed(ctx, group, item_id, creates_only=True)
            except Ignored:
                continue
            except ProtocolError as exc:
                result.errors.append(exc.reason)
                continue
            if post is not None:
                result.replies += 1
    return result


def _context_of(thread: Post) -> str | None:
    """The thread's context collection (FEP-f228), when its own server keeps one: a
    context elsewhere may be partial, and Mastodon's ``tag:`` conversations are no URLs."""
    context = thread.context_url
    if not context or not context.startswith(("https://", "http://")):
        return None
    return context if host_of(context) == host_of(thread.ap_id) else None


async def _collection_items(ctx: Context, url: str, *, max_items: int, max_pages: int,
                            result: BackfillResult) -> AsyncIterator[vocab.Ref]:
    """Items of a remote (ordered) collection, page by page, within the limits. A page
    that cannot be read ends the walk (noted in ``result``)."""
    seen = 0
    try:
        doc = vocab.parse(await fetch(ctx, url))
    except ProtocolError as exc:
        result.errors.append(f"{url}: {exc.reason}")
        return
    if not isinstance(doc, vocab.Collection):
        result.errors.append(f"{url} is a {doc.type}, not a collection")
        return
    page: vocab.Collection | None = doc
    next_ref: Any = doc.first
    pages = 0
    visited = {url}
    while page is not None and seen < max_items:
        for item in page.items:
            if seen >= max_items:
                return
            seen += 1
            yield item
        if next_ref is None or pages >= max_pages:
            return
        pages += 1
        if isinstance(next_ref, vocab.Collection):
            page = next_ref  # an embedded page (Mastodon embeds the first one)
        else:
            next_url = vocab.object_id(next_ref)
            if next_url is None or next_url in visited or host_of(next_url) != host_of(url):
                return
            visited.add(next_url)
            try:
                fetched = vocab.parse(await fetch(ctx, next_url))
            except ProtocolError as exc:
                result.errors.append(f"{next_url}: {exc.reason}")
                return
            page = fetched if isinstance(fetched, vocab.Collection) else None
        next_ref = page.next if page is not None else None
