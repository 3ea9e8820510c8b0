"""The inbound queue for the worker: claim stored activities, make sure they are
trustworthy, run their handler, record the outcome on the row.

Outcomes are written in batches (:class:`fedi.core.queue.OutcomeBuffer`, one statement
for many rows): a worker that dies after a handler committed and before the outcome is
written leaves the activity to be processed again, which the handlers take (a Create of a
post stored already is a no-op, Likes and Follows are unique per actor and object,
Deletes and Undos of what is gone are ignored; an Accept of a Follow may be sent twice).

Outcomes: ``done``; ``ignored`` with the reason (not for us, refused, malformed, the
origin says it does not exist); retried with backoff when something that may recover
failed (a remote server down, a bug), and ``parked`` with the error after the last try.
An activity about something that has not arrived yet (``NotYet``) is retried with the
same backoff until :data:`NOT_YET_WINDOW` after its receipt, then ignored.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from activitypub import vocab
from activitypub.errors import FetchError, FetchStatusError, FetchTimeout, InvalidObject
from fedi.core.context import Context
from fedi.core.errors import AppError
from fedi.core.queue import LEASE, Backoff, OutcomeBuffer
from fedi.federation.remote import fetch, host_of
from fedi.inbound.dispatch import handler_for
from fedi.inbound.outcomes import Ignored, NotYet
from storage import actors as actor_store
from storage import inbox as inbox_store
from storage.inbox import InboxActivity, InboxState, Outcome

log = logging.getLogger("fedi.inbound")

Clock = Callable[[], datetime]

# Seconds before the n-th retry; after the last one the row is parked for an admin.
RETRY_DELAYS: tuple[float, ...] = (30, 300, 1800, 7200, 21600)
BACKOFF = Backoff(RETRY_DELAYS)
# How long an activity may wait for what it refers to (a Like for its post's Create):
# tries at about 30 s, 5.5 min and 10 min after receipt.
NOT_YET_WINDOW = timedelta(minutes=10)
# Fetch answers that will not change on a retry.
_PERMANENT_STATUS = frozenset({400, 401, 403, 404, 405, 406, 410, 422})


def utc_now() -> datetime:
    return datetime.now(UTC)


class InboundQueue:
    """The policy of the :class:`fedi.core.queue.LeasedQueue` over ``inbox_activities``."""

    table = inbox_store.TABLE

    def __init__(self, ctx: Context, *, clock: Clock = utc_now, lease: timedelta = LEASE
                 ) -> None:
        self.ctx = ctx
        self.clock = clock
        self.lease = lease
        self.outcomes: OutcomeBuffer[Outcome] = OutcomeBuffer(
            ctx.pool, inbox_store.record_outcomes, name="inbound outcomes")

    async def claim(self, conn: object, worker: uuid.UUID, limit: int
                    ) -> Sequence[InboxActivity]:
        return await inbox_store.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                       lease=self.lease)

    async def process(self, job: InboxActivity, stopping: asyncio.Event) -> bool:
        if stopping.is_set():
            return False
        try:
            activity = await trusted_activity(self.ctx, job)
            handler = handler_for(activity)
            if handler is None:
                raise Ignored(f"nothing handles {activity.type} of "
                              f"{activity.object_type or 'an id'}")
            await handler(self.ctx, activity, job)
        except Ignored as exc:
            await self._finish(job, ignored=exc.reason)
        except NotYet as exc:
            await self._wait(job, exc.reason)
        except (InvalidObject, AppError) as exc:
            reason = exc.reason if isinstance(exc, InvalidObject) else exc.message
            await self._finish(job, ignored=f"invalid: {reason}")
        except FetchError as exc:
            if _permanent(exc):
                await self._finish(job, ignored=f"could not fetch: {exc.reason}")
            else:
                await self._retry(job, f"fetch failed: {exc.reason}")
        except asyncpg.PostgresError as exc:
            log.warning("inbound %s: database error: %s", job.ap_id, exc)
            await self._retry(job, f"database error: {exc}")
        except Exception as exc:  # a handler bug must not lose the row: retry, then park
            log.exception("inbound %s failed", job.ap_id)
            await self._retry(job, f"{type(exc).__name__}: {exc}")
        else:
            await self._finish(job, ignored=None)
        return True

    async def _finish(self, job: InboxActivity, *, ignored: str | None) -> None:
        if ignored is None:
            self.outcomes.add(job.id, Outcome(job.id, InboxState.DONE))
        else:
            log.info("inbound %s %s ignored: %s", job.type, job.ap_id, ignored)
            self.outcomes.add(job.id, Outcome(job.id, InboxState.IGNORED, ignored[:2000]))

    async def _wait(self, job: InboxActivity, reason: str) -> None:
        """Try again later, by the deadline at the latest; after it, give up."""
        deadline = job.received_at + NOT_YET_WINDOW
        now = self.clock()
        if now >= deadline:
            minutes = NOT_YET_WINDOW.total_seconds() / 60
            await self._finish(job, ignored=f"{reason} (waited {minutes:.0f} min)")
            return
        delay = timedelta(seconds=RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS) - 1)])
        self.outcomes.add(job.id, Outcome(job.id, InboxState.QUEUED,
                                          f"waiting: {reason}"[:2000],
                                          min(now + delay, deadline)))

    async def _retry(self, job: InboxActivity, error: str) -> None:
        attempt = job.attempts + 1
        delay = BACKOFF.delay(attempt)
        if delay is None:
            log.warning("inbound %s parked after %d attempts: %s", job.ap_id, attempt, error)
            self.outcomes.add(job.id, Outcome(job.id, InboxState.PARKED, error[:2000]))
        else:
            at = self.clock() + timedelta(seconds=delay)
            self.outcomes.add(job.id, Outcome(job.id, InboxState.QUEUED, error[:2000], at))


def _permanent(exc: FetchError) -> bool:
    if isinstance(exc, FetchTimeout):
        return False
    if isinstance(exc, FetchStatusError):
        return exc.status in _PERMANENT_STATUS
    return True  # unsafe address, not ActivityPub, too large, wrong origin


async def trusted_activity(ctx: Context, job: InboxActivity) -> vocab.Activity:
    """The stored activity, parsed; re-fetched from its origin when it was relayed
    (signed by someone other than its actor)."""
    activity = vocab.parse(job.payload)
    if not isinstance(activity, vocab.Activity):
        raise InvalidObject(f"a {activity.type} is not an activity")
    if job.signer_key_id is None:
        return activity
    async with ctx.pool.acquire() as conn:
        signer = await actor_store.by_key_id(conn, job.signer_key_id)
    if signer is not None and signer.ap_id == activity.actor:
        return activity
    return await _from_origin(ctx, activity)


async def _from_origin(ctx: Context, activity: vocab.Activity) -> vocab.Activity:
    """A relayed activity, as its origin has it. A Create or Update keeps its envelope
    with the object fetched from the object's own host (activities themselves are often
    not fetchable); anything else is fetched by its id from the actor's host."""
    embedded = activity.object
    if activity.type in ("Create", "Update") and isinstance(embedded, vocab.APObject):
        assert embedded.id is not None
        if host_of(embedded.id) != host_of(activity.actor):
            raise InvalidObject(f"{embedded.id} is not on the host of {activity.actor}")
        fetched = vocab.parse(await fetch(ctx, embedded.id))
        if not isinstance(fetched, vocab.APObject) or activity.actor not in (
                fetched.attributed_to or (activity.actor,)):
            raise InvalidObject(f"{embedded.id} as fetched is not by {activity.actor}")
        payload: dict[str, Any] = copy.deepcopy(activity.raw)
        payload["object"] = fetched.to_json()
        rebuilt = vocab.parse(payload)
        assert isinstance(rebuilt, vocab.Activity)
        return rebuilt
    assert activity.id is not None
    if host_of(activity.id) != host_of(activity.actor):
        raise InvalidObject(f"a relayed {activity.type} whose id is not on its actor's host")
    fetched_activity = vocab.parse(await fetch(ctx, activity.id))
    if (not isinstance(fetched_activity, vocab.Activity)
            or fetched_activity.actor != activity.actor
            or fetched_activity.type != activity.type):
        raise InvalidObject(f"{activity.id} as fetched is not that {activity.type}")
    return fetched_activity
