"""The inbound queue: raw activities as received, processed later by the workers.

The inbox stores a row and answers 202; a replay of the same activity id is a no-op
(``ON CONFLICT (ap_id) DO NOTHING``). Workers claim and lease due ``queued`` rows with
the shared statements of storage/queue.py. The outcome ends the lease: ``done``,
``ignored`` (with the reason), ``queued`` again later after a failure, or ``parked``
with the error after the last attempt, for an admin to retry or discard.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage import queue
from storage.queue import FINISHED
from storage.rows import maybe_row, to_row

CHANNEL = queue.INBOX.channel  # NOTIFY channel: an activity was stored
TABLE = queue.INBOX


class InboxState(StrEnum):
    """The CHECK on ``inbox_activities.state`` (tests/test_queue.py compares them)."""

    QUEUED = "queued"
    DONE = "done"
    IGNORED = "ignored"
    PARKED = "parked"


STATES = tuple(state.value for state in InboxState)


@dataclass(frozen=True)
class InboxActivity:
    id: int
    ap_id: str
    type: str
    actor_ap_id: str
    signer_key_id: str | None
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    received_at: datetime
    processed_at: datetime | None


# Who the key belongs to and whether a domain is refused, as SQL shared by the preflight
# and the one-statement accept below (one definition, so the two cannot drift apart).
_KEY_OF = """
    SELECT ap_id, public_key_pem, deleted_at FROM actors
    WHERE public_key_id = $1 AND public_key_pem IS NOT NULL
    ORDER BY local DESC LIMIT 1
"""
_BLOCKED = """
    (EXISTS (SELECT 1 FROM domain_blocks WHERE domain = ANY ($3::text[]))
     OR (coalesce((SELECT value = 'true'::jsonb FROM instance_settings
                   WHERE key = 'federation_allowlist'), false)
         AND NOT EXISTS (SELECT 1 FROM domain_allows WHERE domain = ANY ($3::text[]))))
"""
_RECIPIENT_EXISTS = """
    ($4::text IS NULL OR EXISTS (
        SELECT 1 FROM actors WHERE ap_id = $4 AND local AND deleted_at IS NULL))
"""
_FAILING = """
    EXISTS (SELECT 1 FROM instances WHERE domain = $10
            AND (unavailable OR failing_since IS NOT NULL OR cardinality(failure_days) > 0))
"""


@dataclass(frozen=True)
class Preflight:
    """What the inbox needs to know before verifying, read in one round trip."""

    key_owner: str | None       # the actor whose key this is, when cached
    key_pem: str | None
    owner_deleted: bool
    actor_known: bool           # the activity's actor is in the actors table
    blocked: bool               # one of the domains is blocked
    recipient_exists: bool      # the local actor of a personal inbox (True for the shared one)


async def preflight(conn: Any, *, key_id: str, actor_ap_id: str, domains: Sequence[str],
                    recipient_ap_id: str | None) -> Preflight:
    """``domains``: every name a domain block (or allow entry) could be recorded under
    (see storage.moderation.domain_candidates). ``blocked`` is also true in allowlist
    mode for a domain no allow entry covers."""
    row = await conn.fetchrow(
        f"""
        SELECT k.ap_id AS key_owner, k.public_key_pem AS key_pem,
               k.deleted_at IS NOT NULL AS owner_deleted,
               EXISTS (SELECT 1 FROM actors WHERE ap_id = $2) AS actor_known,
               {_BLOCKED} AS blocked,
               {_RECIPIENT_EXISTS} AS recipient_exists
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL ({_KEY_OF}) k ON true
        """,
        key_id, actor_ap_id, list(domains), recipient_ap_id,
    )
    return Preflight(
        key_owner=row["key_owner"], key_pem=row["key_pem"],
        owner_deleted=bool(row["owner_deleted"]), actor_known=bool(row["actor_known"]),
        blocked=bool(row["blocked"]), recipient_exists=bool(row["recipient_exists"]),
    )


@dataclass(frozen=True)
class Accepted:
    """What :func:`accept` found and did."""

    key_current: bool       # the cached key is still the signer's key in the actors table
    blocked: bool
    recipient_exists: bool
    new: bool               # a row was inserted (False also for a replay)
    failing: bool           # the sender's instance is marked failing

    @property
    def stored(self) -> bool:
        """The checks passed (the row is there now, new or replayed)."""
        return self.key_current and not self.blocked and self.recipient_exists


async def accept(conn: Any, *, key_id: str, key_owner: str, key_pem: str,
                 domains: Sequence[str], recipient_ap_id: str | None, ap_id: str,
                 type_: str, actor_ap_id: str, payload_json: str, domain: str) -> Accepted:
    """The inbox's fast path in one round trip: for a signature already verified with a
    key the process had cached (``key_owner``'s ``key_pem`` under ``key_id``), check
    that this is still the key the actors table has for that id (a rotated, removed or
    re-owned key makes ``key_current`` false and nothing is stored: the caller verifies
    afresh), that no domain is blocked and the recipient exists (as :func:`preflight`),
    and insert the row (a replay is a no-op). ``payload_json``: the activity as JSON
    text (the body as received), parsed by jsonb. Does not wake the workers
    (:func:`wake`).
    """
    row = await conn.fetchrow(
        f"""
        WITH facts AS (
            SELECT EXISTS (SELECT 1 FROM ({_KEY_OF}) k
                           WHERE k.ap_id = $2 AND k.public_key_pem = $5) AS key_current,
                   {_BLOCKED} AS blocked,
                   {_RECIPIENT_EXISTS} AS recipient_exists
        ), ins AS (
            INSERT INTO inbox_activities (ap_id, type, actor_ap_id, signer_key_id, payload)
            SELECT $6, $7, $8, $1, $9::text::jsonb FROM facts
            WHERE key_current AND NOT blocked AND recipient_exists
            ON CONFLICT (ap_id) DO NOTHING
            RETURNING id
        )
        SELECT facts.*, EXISTS (SELECT 1 FROM ins) AS new, {_FAILING} AS failing
        FROM facts
        """,
        key_id, key_owner, list(domains), recipient_ap_id, key_pem, ap_id, type_,
        actor_ap_id, payload_json, domain,
    )
    return Accepted(key_current=row["key_current"], blocked=row["blocked"],
                    recipient_exists=row["recipient_exists"], new=row["new"],
                    failing=row["failing"])


async def insert(conn: Any, *, ap_id: str, type_: str, actor_ap_id: str,
                 signer_key_id: str | None, payload: dict[str, Any],
                 domain: str) -> tuple[bool, bool]:
    """Store a received activity (a replay is a no-op).

    Returns (new, the sender's instance is marked failing), in one round trip: the
    caller clears a failing mark only when there is one, and wakes the workers for a
    new row (:func:`wake`, once for many rows).
    """
    row = await conn.fetchrow(
        """
        WITH ins AS (
            INSERT INTO inbox_activities (ap_id, type, actor_ap_id, signer_key_id, payload)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (ap_id) DO NOTHING
            RETURNING id
        )
        SELECT EXISTS (SELECT 1 FROM ins) AS new,
               EXISTS (SELECT 1 FROM instances WHERE domain = $6
                       AND (unavailable OR failing_since IS NOT NULL
                            OR cardinality(failure_days) > 0)) AS failing
        """,
        ap_id, type_, actor_ap_id, signer_key_id, payload, domain,
    )
    return bool(row["new"]), bool(row["failing"])


async def wake(conn: Any) -> None:
    """Wake the inbound workers (LISTEN on CHANNEL) for rows committed before this.

    Its own statement, so a process sends one notification for many inserted rows: every
    NOTIFY takes a database-wide lock at commit (it orders the notification queue) that
    it holds through the commit's WAL flush, so one per inserted row serialises the
    inbox's commits.
    """
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


async def get(conn: Any, row_id: int) -> InboxActivity | None:
    return maybe_row(InboxActivity, await conn.fetchrow(
        "SELECT * FROM inbox_activities WHERE id = $1", row_id))


async def by_ap_id(conn: Any, ap_id: str) -> InboxActivity | None:
    return maybe_row(InboxActivity, await conn.fetchrow(
        "SELECT * FROM inbox_activities WHERE ap_id = $1", ap_id))


async def claim(conn: Any, *, worker: uuid.UUID, now: datetime, limit: int,
                lease: timedelta) -> list[InboxActivity]:
    """Claim up to ``limit`` due rows for ``worker``, oldest first, leased until
    ``now + lease``."""
    rows = await queue.claim(conn, TABLE, worker=worker, now=now, limit=limit, lease=lease)
    return [to_row(InboxActivity, r) for r in rows]


async def mark_done(conn: Any, row_id: int) -> None:
    await conn.execute(
        "UPDATE inbox_activities SET state = 'done', attempts = attempts + 1,"
        f" last_error = NULL, processed_at = now(), {FINISHED} WHERE id = $1", row_id)


async def mark_ignored(conn: Any, row_id: int, *, reason: str) -> None:
    await conn.execute(
        "UPDATE inbox_activities SET state = 'ignored', attempts = attempts + 1,"
        f" last_error = $2, processed_at = now(), {FINISHED} WHERE id = $1", row_id, reason)


async def reschedule(conn: Any, row_id: int, *, at: datetime, error: str) -> None:
    await conn.execute(
        "UPDATE inbox_activities SET attempts = attempts + 1, next_attempt_at = $2,"
        f" last_error = $3, {FINISHED} WHERE id = $1", row_id, at, error)


async def park(conn: Any, row_id: int, *, error: str) -> None:
    """Give up after the last attempt; kept with its error for an admin."""
    await conn.execute(
        "UPDATE inbox_activities SET state = 'parked', attempts = attempts + 1,"
        f" last_error = $2, processed_at = now(), {FINISHED} WHERE id = $1", row_id, error)


@dataclass(frozen=True)
class Outcome:
    """One processed row's outcome: ``done``, ``ignored`` or ``parked`` (with ``error``,
    the reason), or ``queued`` again at ``at`` with ``error`` (a retry)."""

    id: int
    state: str
    error: str | None = None
    at: datetime | None = None


async def record_outcomes(conn: Any, outcomes: Sequence[Outcome]) -> None:
    """Many outcomes in one statement (the worker's batches); each ends its claim as
    :func:`mark_done`, :func:`mark_ignored`, :func:`reschedule` and :func:`park` do."""
    if not outcomes:
        return
    await conn.execute(
        "UPDATE inbox_activities t SET state = o.state, attempts = t.attempts + 1,"
        " last_error = o.error, next_attempt_at = coalesce(o.at, t.next_attempt_at),"
        " processed_at = CASE WHEN o.state = 'queued' THEN t.processed_at ELSE now() END,"
        f" {FINISHED}"
        " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])"
        " AS o(id, state, error, at) WHERE t.id = o.id",
        [o.id for o in outcomes], [o.state for o in outcomes], [o.error for o in outcomes],
        [o.at for o in outcomes])


async def parked(conn: Any, *, limit: int = 100,
                 before_id: int | None = None) -> list[InboxActivity]:
    rows = await conn.fetch(
        "SELECT * FROM inbox_activities WHERE state = 'parked'"
        " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $1", limit, before_id)
    return [to_row(InboxActivity, r) for r in rows]


async def retry_parked(conn: Any, row_id: int) -> bool:
    """An admin's retry: due again now, with a fresh count of attempts."""
    status: str = await conn.execute(
        "UPDATE inbox_activities SET state = 'queued', attempts = 0, next_attempt_at = now(),"
        " processed_at = NULL WHERE id = $1 AND state = 'parked'", row_id)
    if status.endswith(" 1"):
        await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
        return True
    return False


async def discard_parked(conn: Any, row_id: int) -> bool:
    status: str = await conn.execute(
        "UPDATE inbox_activities SET state = 'ignored',"
        " last_error = 'discarded by an admin: ' || coalesce(last_error, '')"
        " WHERE id = $1 AND state = 'parked'", row_id)
    return status.endswith(" 1")


async def state_counts(conn: Any) -> dict[str, int]:
    rows = await conn.fetch("SELECT state, count(*) AS n FROM inbox_activities GROUP BY state")
    counts = dict.fromkeys(STATES, 0)
    counts.update({r["state"]: int(r["n"]) for r in rows})
    return counts


async def processed(conn: Any, ap_id: str) -> bool:
    """Whether the activity was received and has an outcome (done, ignored, parked):
    what it would have created exists by now, or never will."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM inbox_activities WHERE ap_id = $1"
        " AND state <> 'queued')", ap_id))


# --- objects deleted before they arrived ------------------------------------------------


async def lock_object(conn: Any, object_ap_id: str) -> None:
    """Serialise the storing and the early deleting of one object until the end of the
    transaction, so a Create and a Delete processed at once cannot miss each other."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", object_ap_id)


async def remember_delete(conn: Any, object_ap_id: str, *, actor_ap_id: str,
                          until: datetime, now: datetime) -> None:
    """Remember a Delete of an object we do not have yet (until ``until``)."""
    await conn.execute("DELETE FROM early_deletes WHERE expires_at <= $1", now)
    await conn.execute(
        "INSERT INTO early_deletes (object_ap_id, actor_ap_id, expires_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (object_ap_id) DO UPDATE SET actor_ap_id = EXCLUDED.actor_ap_id,"
        " expires_at = greatest(early_deletes.expires_at, EXCLUDED.expires_at)",
        object_ap_id, actor_ap_id, until)


async def deleted_early(conn: Any, object_ap_id: str, *, actor_ap_id: str,
                        now: datetime) -> bool:
    """Whether ``actor_ap_id`` deleted the object before it arrived (and that is
    still remembered at ``now``)."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM early_deletes WHERE object_ap_id = $1"
        " AND actor_ap_id = $2 AND expires_at > $3)", object_ap_id, actor_ap_id, now))
