"""The backfill of a remote group's history, when its first local member is accepted.

The job is a durable row (storage/backfills.py, queued by accept.py in the transaction
that accepts the member) that the workers run with :class:`BackfillQueue`. It takes every
thread of the group's outbox, oldest pages last, each with its replies (the thread's
FEP-f228 ``context`` collection, else its ``replies``) and its locked and pinned state (the
thread's current document: ``locked`` / ``commentsEnabled: false``, ``stickied``; then the
group's ``featured`` collection). A run is bounded (threads, outbox pages, time); one that
reaches its bound stores the outbox page it was on and is queued again a little later, and
the next run goes on from that page (threads already here are passed over). An outbox that
cannot be read is tried again with backoff. The group's outbox is read the way its
Announces are (announce.receive_relayed).

Entry points: :func:`backfill` (one bounded run, also usable outside the queue, e.g. to copy
a moved group's history) and :func:`backfill_all` (runs until the history is complete).
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

BACKFILL_THREADS_PER_RUN = 50  # new threads taken in one run
BACKFILL_PAGES_PER_RUN = 25  # outbox pages read in one run
BACKFILL_PAUSE = 10.0  # seconds between two runs of one job
BACKFILL_CONTEXT_ITEMS = 500  # replies taken from one thread's context collection
BACKFILL_CONTEXT_PAGES = 25
BACKFILL_FEATURED_ITEMS = 50
BACKFILL_SECONDS = 300.0  # one run
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
    pinned: int = 0
    locked: int = 0
    errors: list[str] = field(default_factory=list)
    # Set when the run stopped at a bound: the outbox page the next run starts from.
    resume_url: str | None = None


class BackfillQueue:
    """The policy of the :class:`fedi.core.queue.LeasedQueue` over ``backfill_jobs``."""

    table = backfill_store.TABLE

    def __init__(self, ctx: Context, *, clock: Callable[[], datetime] | None = None,
                 lease: timedelta = BACKFILL_LEASE,
                 threads_per_run: int = BACKFILL_THREADS_PER_RUN,
                 pause: float = BACKFILL_PAUSE) -> None:
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lease = lease
        self.threads_per_run = threads_per_run
        self.pause = pause

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
        # The counts go on from the runs before.
        result = BackfillResult(threads=job.threads, replies=job.replies)
        try:
            async with asyncio.timeout(BACKFILL_SECONDS):
                await backfill(self.ctx, group, result, start_url=job.resume_url,
                               max_threads=self.threads_per_run)
        except TimeoutError:
            log.info("backfill of %s paused after %.0f s", group.handle, BACKFILL_SECONDS)
            await self._finish(job, result, f"run stopped after {BACKFILL_SECONDS:.0f} s")
        except ProtocolError as exc:
            await self._retry(job, group, exc.reason)
        except Exception as exc:  # a bug must not lose the job: retry, then fail
            log.exception("backfill of %s failed", group.handle)
            await self._retry(job, group, f"{type(exc).__name__}: {exc}")
        else:
            log.info("backfill of %s: %d threads, %d replies, %d errors%s", group.handle,
                     result.threads, result.replies, len(result.errors),
                     ", to be continued" if result.resume_url else "")
            await self._finish(job, result, "; ".join(result.errors)[:2000] or None)
        return True

    async def _finish(self, job: BackfillJob, result: BackfillResult, note: str | None
                      ) -> None:
        """Done, or (stopped at a bound) queued again to go on where it stopped."""
        if result.resume_url is None:
            await self._done(job, result, note)
            return
        async with self.ctx.pool.acquire() as conn:
            await backfill_store.pause(
                conn, job.id, at=self.clock() + timedelta(seconds=self.pause),
                resume_url=result.resume_url, threads=result.threads,
                replies=result.replies, note=note)

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


async def backfill(ctx: Context, group: Actor, result: BackfillResult | None = None, *,
                   start_url: str | None = None,
                   max_threads: int = BACKFILL_THREADS_PER_RUN,
                   max_pages: int = BACKFILL_PAGES_PER_RUN) -> BackfillResult:
    """One bounded run over the outbox of the remote ``group``, from its start or from
    ``start_url`` (a page a run before stopped at): each new thread (the group vouches for
    it as in its Announces) with its replies and its locked and pinned state. After the
    last page, the group's ``featured`` collection pins what it lists. When the run stops
    at ``max_threads`` new threads or ``max_pages`` pages, ``result.resume_url`` is the
    page to go on from (pass it as ``start_url``); else it is None. Raises ProtocolError
    when the outbox itself cannot be read (worth another try); errors further on are noted
    in the result."""
    result = result if result is not None else BackfillResult()
    result.resume_url = None
    new_threads = 0
    if group.outbox:
        start = start_url or group.outbox
        async for page_url, items, next_url in _pages(ctx, start, result, required=True,
                                                      max_pages=max_pages):
            result.resume_url = page_url  # stopped within this page: read it again
            for item in items:
                if new_threads >= max_threads:
                    return result
                if await _take_thread(ctx, group, item, result):
                    new_threads += 1
            result.resume_url = next_url
        if result.resume_url is not None:
            return result  # the run's pages are used up
    await _take_featured(ctx, group, result)
    return result


async def backfill_all(ctx: Context, group: Actor, *, max_runs: int = 100
                       ) -> BackfillResult:
    """The whole history of ``group``, run after run in this task (no job, no pause):
    for a caller that needs it now. Stops after ``max_runs`` runs (``resume_url`` set)."""
    result = BackfillResult()
    start: str | None = None
    for _ in range(max_runs):
        await backfill(ctx, group, result, start_url=start)
        if result.resume_url is None:
            break
        start = result.resume_url
    return result


def _thread_ref(group: Actor, item: vocab.Ref) -> vocab.Ref | None:
    """What an outbox item stands for: the group's Announce of a Create (or of a bare
    object id) unwrapped, a Create or an object as it is."""
    if isinstance(item, vocab.Announce) and item.actor == group.ap_id:
        return item.object
    return item


def _object_id_of(ref: vocab.Ref) -> str | None:
    if isinstance(ref, vocab.Activity):
        return ref.object_id if ref.type == "Create" else None
    return vocab.object_id(ref)


async def _known(ctx: Context, ap_id: str | None) -> Post | None:
    if ap_id is None:
        return None
    async with ctx.pool.acquire() as conn:
        return await post_store.by_ap_id(conn, ap_id)


async def _receive(ctx: Context, group: Actor, ref: Any, result: BackfillResult
                   ) -> Post | None:
    """A thread or reply of the group's history stored as if the group had announced it;
    None when it is not taken (a refusal is noted in ``result``, a skip is not)."""
    try:
        return await receive_relayed(ctx, group, ref, creates_only=True)
    except (Ignored, NotYet):
        return None
    except ProtocolError as exc:
        result.errors.append(exc.reason)
        return None


async def _take_thread(ctx: Context, group: Actor, item: vocab.Ref,
                       result: BackfillResult) -> bool:
    """Store one outbox item's thread with its replies and state; True for a new thread.
    A thread we hold already is passed over (a run before took it, or it came by the
    group's Announce since the follow)."""
    ref = _thread_ref(group, item)
    if ref is None or await _known(ctx, _object_id_of(ref)) is not None:
        return False
    post = await _receive(ctx, group, ref, result)
    if post is None:
        return False
    if post.parent_id is not None:
        result.replies += 1
        return False
    result.threads += 1
    await _thread_history(ctx, group, post, result)
    return True


async def _thread_history(ctx: Context, group: Actor, thread: Post,
                          result: BackfillResult) -> None:
    """The replies of a new thread, then its locked and pinned state, from the thread's
    current document (the outbox may hold the Create as it was first sent)."""
    doc: dict[str, Any] | None = None
    try:
        doc = await fetch(ctx, thread.ap_id)
    except ProtocolError as exc:
        result.errors.append(f"{thread.ap_id}: {exc.reason}")
    collection = _context_of(thread) or _replies_of(thread, doc)
    if collection is not None:
        async for item in _collection_items(ctx, collection, max_items=BACKFILL_CONTEXT_ITEMS,
                                            max_pages=BACKFILL_CONTEXT_PAGES, result=result):
            item_id = vocab.object_id(item)
            if item_id is None or item_id == thread.ap_id or await _known(ctx, item_id):
                continue
            # By id, never the embedded copy: the context may be kept by the group's host,
            # while each reply belongs to its author's.
            if await _receive(ctx, group, item_id, result) is not None:
                result.replies += 1
    if doc is None or doc.get("id") != thread.ap_id:
        return
    # Lemmy's (and our) ``locked``, Mbin's and PieFed's ``commentsEnabled: false``.
    locked = doc.get("locked") is True or doc.get("commentsEnabled") is False
    async with ctx.pool.acquire() as conn:
        if locked and await post_store.set_locked(conn, thread.id, True) is not None:
            result.locked += 1
        if doc.get("stickied") is True and await post_store.set_pinned(
                conn, thread.id, True) is not None:
            result.pinned += 1


async def _take_featured(ctx: Context, group: Actor, result: BackfillResult) -> None:
    """Pin the threads the group's ``featured`` collection lists (taking any we lack)."""
    if not group.featured_url:
        return
    async for item in _collection_items(ctx, group.featured_url,
                                        max_items=BACKFILL_FEATURED_ITEMS, max_pages=2,
                                        result=result):
        item_id = vocab.object_id(item)
        if item_id is None:
            continue
        post = await _known(ctx, item_id)
        if post is None:
            post = await _receive(ctx, group, item_id, result)
            if post is None or post.parent_id is not None:
                continue
            result.threads += 1
            await _thread_history(ctx, group, post, result)
        if post.group_id != group.id or post.parent_id is not None:
            continue
        async with ctx.pool.acquire() as conn:
            if await post_store.set_pinned(conn, post.id, True) is not None:
                result.pinned += 1


def _context_of(thread: Post) -> str | None:
    """The thread's context collection (FEP-f228), when its own server keeps one: a
    context elsewhere may be partial, and Mastodon's ``tag:`` conversations are no URLs."""
    context = thread.context_url
    if not context or not context.startswith(("https://", "http://")):
        return None
    return context if host_of(context) == host_of(thread.ap_id) else None


def _replies_of(thread: Post, doc: dict[str, Any] | None) -> str | None:
    """The thread's ``replies`` collection on its own host (its direct replies), for
    software without a context collection."""
    replies = doc.get("replies") if doc is not None else None
    url = vocab.object_id(replies) if replies is not None else None
    if not url or not url.startswith(("https://", "http://")):
        return None
    return url if host_of(url) == host_of(thread.ap_id) else None


async def _pages(ctx: Context, url: str, result: BackfillResult, *, max_pages: int,
                 required: bool = False
                 ) -> AsyncIterator[tuple[str, tuple[vocab.Ref, ...], str | None]]:
    """The pages of a remote (ordered) collection as (page URL, items, next page URL),
    from ``url`` (the collection, or one of its pages), at most ``max_pages`` of them. A
    page that cannot be read ends the walk (noted in ``result``); with ``required``, the
    first document must be readable (its ProtocolError is raised). An embedded page
    without an id is named by the URL it came from."""
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
    page: vocab.Collection = doc
    page_url = url
    if not doc.items and doc.first is not None:
        first = doc.first
        if isinstance(first, vocab.Collection):
            page = first  # an embedded page (Mastodon embeds the first one)
            page_url = first.id or url
        else:
            first_url = vocab.object_id(first)
            if first_url is None or host_of(first_url) != host_of(url):
                return
            fetched = await _page(ctx, first_url, result)
            if fetched is None:
                return
            page, page_url = fetched, first_url
    visited = {url, page_url}
    for _ in range(max_pages):
        next_ref = page.next
        next_url = None
        if next_ref is not None:
            next_url = next_ref.id if isinstance(next_ref, vocab.Collection) else \
                vocab.object_id(next_ref)
            if next_url is not None and (next_url in visited
                                         or host_of(next_url) != host_of(url)):
                next_url = None
        yield page_url, page.items, next_url
        if next_ref is None or (next_url is None and not isinstance(next_ref, vocab.Collection)):
            return
        if isinstance(next_ref, vocab.Collection):
            page, page_url = next_ref, next_url or page_url
        else:
            assert next_url is not None
            visited.add(next_url)
            fetched = await _page(ctx, next_url, result)
            if fetched is None:
                return
            page, page_url = fetched, next_url


async def _page(ctx: Context, url: str, result: BackfillResult) -> vocab.Collection | None:
    try:
        fetched = vocab.parse(await fetch(ctx, url))
    except ProtocolError as exc:
        result.errors.append(f"{url}: {exc.reason}")
        return None
    return fetched if isinstance(fetched, vocab.Collection) else None


async def _collection_items(ctx: Context, url: str, *, max_items: int, max_pages: int,
                            result: BackfillResult) -> AsyncIterator[vocab.Ref]:
    """Items of a remote (ordered) collection, page by page, within the limits."""
    seen = 0
    async for _, items, _ in _pages(ctx, url, result, max_pages=max_pages):
        for item in items:
            if seen >= max_items:
                return
            seen += 1
            yield item
