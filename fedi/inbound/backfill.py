"""The backfill of a remote group's recent threads, when its first local member is
accepted.

The job is a durable row (storage/backfills.py, queued by accept.py in the transaction
that accepts the member) that the workers run with :class:`BackfillQueue`, bounded in
items and time. It only fills in history, everything new arrives by the group's
Announces anyway; an outbox that cannot be read is tried again with backoff. The group's
outbox is read the way its Announces are (announce.receive_relayed).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from activitypub import vocab
from activitypub.errors import ProtocolError
from fedi.core.context import Context
from fedi.core.queue import LEASE, Backoff
from fedi.federation.remote import fetch, host_of
from fedi.inbound.announce import receive_relayed
from fedi.inbound.outcomes import Ignored, NotYet
from storage import actors as actor_store
from storage import backfills as backfill_store
from storage import follows as follow_store
from storage import posts as post_store
from storage.actors import Actor
from storage.backfills import BackfillJob
from storage.posts import Post

log = logging.getLogger("fedi.inbound.backfill")

BACKFILL_THREADS = 20  # threads taken from the group's outbox
BACKFILL_OUTBOX_ITEMS = 100  # outbox items looked at, at most
BACKFILL_OUTBOX_PAGES = 5
BACKFILL_CONTEXT_ITEMS = 200  # replies taken from one thread's context collection
BACKFILL_CONTEXT_PAGES = 10
BACKFILL_SECONDS = 300.0
# Seconds before the n-th retry of a backfill whose outbox could not be read; after the
# last one the job is marked failed (with the error).
BACKFILL_RETRY_DELAYS: tuple[float, ...] = (60, 600, 3600, 21600)
BACKFILL_BACKOFF = Backoff(BACKFILL_RETRY_DELAYS)
# The worker renews the lease while the job runs (however long, up to BACKFILL_SECONDS).
BACKFILL_LEASE = LEASE


@dataclass
class BackfillResult:
    threads: int = 0
    replies: int = 0
    errors: list[str] = field(default_factory=list)


class BackfillQueue:
    """The policy of the :class:`fedi.core.queue.LeasedQueue` over ``backfill_jobs``."""

    table = backfill_store.TABLE

    def __init__(self, ctx: Context, *, clock: Callable[[], datetime] | None = None,
                 lease: timedelta = BACKFILL_LEASE) -> None:
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease

    async def claim(self, conn: object, worker: uuid.UUID, limit: int
                    ) -> Sequence[BackfillJob]:
        return await backfill_store.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                          lease=self.lease)

    async def process(self, job: BackfillJob, stopping: asyncio.Event) -> bool:
        if stopping.is_set():
            return False
        async with self.ctx.pool.acquire() as conn:
            group = await actor_store.get(conn, job.group_id)
            members = await follow_store.local_member_count(conn, job.group_id)
        if group is None or group.local or group.deleted_at is not None or members == 0:
            await self._done(job, BackfillResult(), "nobody here follows the group now")
            return True
        result = BackfillResult()
        try:
            async with asyncio.timeout(BACKFILL_SECONDS):
                await backfill(self.ctx, group, result)
        except TimeoutError:
            # Bounded on purpose: what was stored stays, the rest arrives as it is active.
            log.warning("backfill of %s stopped after %.0f s", group.handle, BACKFILL_SECONDS)
            await self._done(job, result, f"stopped after {BACKFILL_SECONDS:.0f} s")
        except ProtocolError as exc:
            await self._retry(job, group, exc.reason)
        except Exception as exc:  # a bug must not lose the job: retry, then fail
            log.exception("backfill of %s failed", group.handle)
            await self._retry(job, group, f"{type(exc).__name__}: {exc}")
        else:
            log.info("backfill of %s: %d threads, %d replies, %d errors", group.handle,
                     result.threads, result.replies, len(result.errors))
            await self._done(job, result, "; ".join(result.errors)[:2000] or None)
        return True

    async def _done(self, job: BackfillJob, result: BackfillResult, note: str | None
                    ) -> None:
        async with self.ctx.pool.acquire() as conn:
            await backfill_store.mark_done(conn, job.id, threads=result.threads,
                                           replies=result.replies, note=note)

    async def _retry(self, job: BackfillJob, group: Actor, error: str) -> None:
        attempt = job.attempts + 1
        delay = BACKFILL_BACKOFF.delay(attempt)
        async with self.ctx.pool.acquire() as conn:
            if delay is None:
                log.warning("backfill of %s failed after %d attempts: %s", group.handle,
                            attempt, error)
                await backfill_store.mark_failed(conn, job.id, error=error[:2000])
            else:
                at = self.clock() + timedelta(seconds=delay)
                await backfill_store.reschedule(conn, job.id, at=at, error=error[:2000])


async def backfill(ctx: Context, group: Actor, result: BackfillResult | None = None
                   ) -> BackfillResult:
    """Store the recent threads of a remote group from its outbox (the group vouches for
    them as in its Announces), then each thread's replies from its FEP-f228 context
    collection where the thread names one. Bounded by the BACKFILL_* limits. Raises
    ProtocolError when the outbox itself cannot be read (worth another try); errors
    further on are noted in the result."""
    result = result if result is not None else BackfillResult()
    threads: list[Post] = []
    if not group.outbox:
        return result
    async for item in _collection_items(ctx, group.outbox, max_items=BACKFILL_OUTBOX_ITEMS,
                                        max_pages=BACKFILL_OUTBOX_PAGES, result=result,
                                        required=True):
        if len(threads) >= BACKFILL_THREADS:
            break
        if (isinstance(item, vocab.Announce) and item.actor == group.ap_id
                and item.object is not None):
            item = item.object  # the group's outbox holds its Announces of what it relayed
        try:
            post = await receive_relayed(ctx, group, item, creates_only=True)
        except (Ignored, NotYet):
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
            except (Ignored, NotYet):
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
                            result: BackfillResult, required: bool = False
                            ) -> AsyncIterator[vocab.Ref]:
    """Items of a remote (ordered) collection, page by page, within the limits. A page
    that cannot be read ends the walk (noted in ``result``); with ``required``, the
    collection itself must be readable (its ProtocolError is raised)."""
    seen = 0
    try:
        doc = vocab.parse(await fetch(ctx, url))
    except ProtocolError as exc:
        if required:
            raise
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
