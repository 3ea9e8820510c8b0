"""The outbound delivery queue: one row per (activity, inbox), as states on rows.

``queued`` rows are due when ``next_attempt_at <= now``. Workers claim and lease them with
the shared statements of storage/queue.py (at most a few per host per claim); the outcome
ends the lease: ``delivered``, ``failed``, ``gone`` (final) or ``queued`` again with a
later ``next_attempt_at``. ``cancelled`` rows were stopped by a moderator (a blocked
domain). A worker that dies mid-send leaves its rows to be reclaimed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from storage import queue
from storage.queue import FINISHED, claim_sql
from storage.rows import to_row

CHANNEL = queue.DELIVERIES.channel  # NOTIFY channel: a new delivery is queued
TABLE = queue.DELIVERIES


class DeliveryState(StrEnum):
    """The CHECK on ``deliveries.state`` (tests/test_queue.py compares them)."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    GONE = "gone"
    CANCELLED = "cancelled"


STATES = tuple(state.value for state in DeliveryState)
# next_attempt_at of rows parked while their host is unavailable (not 'infinity':
# asyncpg reads that back as a naive datetime.max).
PARKED = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class ClaimedDelivery:
    """A claimed row with what sending it needs."""

    id: int
    activity_id: int
    inbox_url: str
    domain: str
    attempts: int
    created_at: datetime
    actor_id: int
    activity_ap_id: str
    # The activity as JSON text, sent as it is: a fan-out sends one activity to many
    # inboxes, and decoding it from jsonb and encoding it again per delivery was a good
    # part of a delivery's CPU.
    body: str
    signature_scheme: str | None  # the scheme remembered for the host


@dataclass(frozen=True)
class Delivery:
    id: int
    activity_id: int
    inbox_url: str
    domain: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DomainCounts:
    domain: str
    queued: int
    delivered: int
    failed: int
    gone: int


async def insert_many(
    conn: Any, activity_id: int, targets: Sequence[tuple[str, str]]
) -> int:
    """Queue ``(inbox_url, domain)`` pairs for an activity; returns how many were new.
    When some of them are due, the same statement wakes the workers (one ``pg_notify``
    for the batch, delivered at commit): no second round trip.

    Rows for a host that is unavailable are queued parked (see :func:`park_domain`).
    """
    if not targets:
        return 0
    row = await conn.fetchrow(
        "WITH ins AS (INSERT INTO deliveries (activity_id, inbox_url, domain, next_attempt_at)"
        " SELECT $1, t.inbox, t.domain, CASE WHEN i.unavailable THEN $4 ELSE now() END"
        " FROM unnest($2::text[], $3::text[]) AS t(inbox, domain)"
        " LEFT JOIN instances i ON i.domain = t.domain"
        " ON CONFLICT (activity_id, inbox_url) DO NOTHING RETURNING next_attempt_at < $4 AS due),"
        " n AS (SELECT count(*) AS n, coalesce(bool_or(due), false) AS due FROM ins)"
        " SELECT n.n, CASE WHEN n.due THEN pg_notify($5, '')::text END AS woke FROM n",
        activity_id, [t[0] for t in targets], [t[1] for t in targets], PARKED, CHANNEL,
    )
    return int(row["n"])


async def shared_inboxes_of(conn: Any, inboxes: Sequence[str]) -> dict[str, str]:
    """Personal inbox -> the shared inbox of its actor, for the given inboxes whose actor
    names one (actors_inbox_shared of migration 0030)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (inbox) inbox, shared_inbox FROM actors"
        " WHERE inbox = ANY($1::text[]) AND shared_inbox IS NOT NULL ORDER BY inbox, id",
        list(inboxes))
    return {r["inbox"]: r["shared_inbox"] for r in rows if r["shared_inbox"] != r["inbox"]}


async def notify(conn: Any) -> None:
    """Wake the workers; PostgreSQL delivers it when the transaction commits."""
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


# Not the rows of hosts this worker already sends to at its limit ($6), nor of hosts that
# are unavailable; at most $5 of one host per claim.
_CLAIM = claim_sql(
    TABLE,
    where="AND NOT (t.domain = ANY ($6::text[]))"
          " AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.domain = t.domain"
          " AND i.unavailable)",
    partition="domain", partition_cap="$5",
    select="""SELECT c.id, c.activity_id, c.inbox_url, c.domain, c.attempts, c.created_at,
       a.actor_id, a.ap_id AS activity_ap_id, a.payload::text AS body, i.signature_scheme
FROM claimed c
JOIN activities a ON a.id = c.activity_id
LEFT JOIN instances i ON i.domain = c.domain
ORDER BY c.id""",
)


async def claim(
    conn: Any,
    *,
    worker: uuid.UUID,
    now: datetime,
    limit: int,
    per_domain: int,
    lease: timedelta,
    skip_domains: Sequence[str] = (),
) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due rows for ``worker`` (at most ``per_domain`` per host,
    none of ``skip_domains`` nor of unavailable hosts), leased until ``now + lease``."""
    if limit <= 0:
        return []
    rows = await conn.fetch(_CLAIM, now, limit, lease, worker, per_domain,
                            list(skip_domains))
    return [to_row(ClaimedDelivery, row) for row in rows]


async def mark_delivered(conn: Any, delivery_id: int, *, status: int | None) -> None:
    await conn.execute(
        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,"
        f" last_status = $2, last_error = NULL, updated_at = now(), {FINISHED} WHERE id = $1",
        delivery_id, status,
    )


async def mark_delivered_many(conn: Any, delivered: Sequence[tuple[int, int | None]]
                              ) -> None:
    """:func:`mark_delivered` for many ``(id, status)`` pairs in one statement."""
    if not delivered:
        return
    await conn.execute(
        "UPDATE deliveries t SET state = 'delivered', attempts = t.attempts + 1,"
        f" last_status = o.status, last_error = NULL, updated_at = now(), {FINISHED}"
        " FROM unnest($1::bigint[], $2::int[]) AS o(id, status) WHERE t.id = o.id",
        [d[0] for d in delivered], [d[1] for d in delivered],
    )


async def mark_final(
    conn: Any, delivery_id: int, *, state: str, status: int | None, error: str
) -> None:
    """End a delivery for good: ``failed``, ``gone`` or ``cancelled``."""
    if state not in (DeliveryState.FAILED, DeliveryState.GONE, DeliveryState.CANCELLED):
        raise ValueError(f"not a final failure state: {state!r}")
    await conn.execute(
        "UPDATE deliveries SET state = $2, attempts = attempts + 1, last_status = $3,"
        f" last_error = $4, updated_at = now(), {FINISHED} WHERE id = $1",
        delivery_id, state, status, error,
    )


async def reschedule(
    conn: Any, delivery_id: int, *, at: datetime, status: int | None, error: str
) -> None:
    """One more failed attempt; try again at ``at``."""
    await conn.execute(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $2,"
        f" last_status = $3, last_error = $4, updated_at = now(), {FINISHED} WHERE id = $1",
        delivery_id, at, status, error,
    )


async def park_domain(conn: Any, domain: str) -> int:
    """Take a host's queued rows out of the due index's way while the host is
    unavailable (claims would otherwise scan past them every time)."""
    result: str = await conn.execute(
        "UPDATE deliveries SET next_attempt_at = $2, updated_at = now()"
        " WHERE domain = $1 AND state = 'queued'",
        domain, PARKED,
    )
    return int(result.rsplit(" ", 1)[-1])


async def for_activity(conn: Any, activity_id: int) -> list[Delivery]:
    rows = await conn.fetch(
        "SELECT * FROM deliveries WHERE activity_id = $1 ORDER BY id", activity_id
    )
    return [to_row(Delivery, row) for row in rows]


async def state_counts(conn: Any) -> dict[str, int]:
    """Rows per state (every state present, zero when none)."""
    rows = await conn.fetch("SELECT state, count(*) AS n FROM deliveries GROUP BY state")
    counts = dict.fromkeys(STATES, 0)
    counts.update({row["state"]: int(row["n"]) for row in rows})
    return counts


async def domain_counts(conn: Any, *, limit: int = 100) -> list[DomainCounts]:
    """Per-host counts for health pages, hosts with the most queued rows first."""
    rows = await conn.fetch(
        "SELECT domain,"
        " count(*) FILTER (WHERE state = 'queued') AS queued,"
        " count(*) FILTER (WHERE state = 'delivered') AS delivered,"
        " count(*) FILTER (WHERE state = 'failed') AS failed,"
        " count(*) FILTER (WHERE state = 'gone') AS gone"
        " FROM deliveries GROUP BY domain ORDER BY queued DESC, domain LIMIT $1",
        limit,
    )
    return [to_row(DomainCounts, row) for row in rows]
