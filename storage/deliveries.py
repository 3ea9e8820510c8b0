"""The outbound delivery queue: one row per (activity, inbox), as states on rows.

``queued`` rows are due when ``next_attempt_at <= now``. A worker claims due rows with
``FOR UPDATE SKIP LOCKED`` and, in the same statement, pushes ``next_attempt_at``
forward by a lease, so after the claim commits other workers skip them without holding
a lock during the send. The outcome ends the lease: ``delivered``, ``failed``, ``gone``
(final) or ``queued`` again with a later ``next_attempt_at``. A worker that dies
mid-send leaves the row to be claimed again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.rows import to_row

CHANNEL = "deliveries"  # NOTIFY channel: a new delivery is queued
STATES = ("queued", "delivered", "failed", "gone", "cancelled")
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
    payload: dict[str, Any]
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

    Rows for a host that is unavailable are queued parked (see :func:`park_domain`).
    """
    if not targets:
        return 0
    result: str = await conn.execute(
        "INSERT INTO deliveries (activity_id, inbox_url, domain, next_attempt_at)"
        " SELECT $1, t.inbox, t.domain, CASE WHEN i.unavailable THEN $4 ELSE now() END"
        " FROM unnest($2::text[], $3::text[]) AS t(inbox, domain)"
        " LEFT JOIN instances i ON i.domain = t.domain"
        " ON CONFLICT (activity_id, inbox_url) DO NOTHING",
        activity_id, [t[0] for t in targets], [t[1] for t in targets], PARKED,
    )
    return int(result.rsplit(" ", 1)[-1])


async def notify(conn: Any) -> None:
    """Wake the workers; PostgreSQL delivers it when the transaction commits."""
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


# The inner query locks a window of due rows (skipping rows another worker is claiming);
# the outer one keeps at most $3 per domain of them so one big fan-out cannot fill every
# slot of a worker (rows locked but not picked are free again at commit, still due).
_CLAIM = """
WITH candidates AS (
    SELECT d.id, d.domain, d.next_attempt_at
    FROM deliveries d
    WHERE d.state = 'queued' AND d.next_attempt_at <= $1
      AND NOT (d.domain = ANY ($4::text[]))
      AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.domain = d.domain AND i.unavailable)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $2 * 4
    FOR UPDATE OF d SKIP LOCKED
), picked AS (
    SELECT id FROM (
        SELECT id, next_attempt_at,
               row_number() OVER (PARTITION BY domain ORDER BY next_attempt_at, id) AS n
        FROM candidates
    ) ranked
    WHERE n <= $3
    ORDER BY next_attempt_at, id
    LIMIT $2
), claimed AS (
    UPDATE deliveries d SET next_attempt_at = $1 + $5::interval, updated_at = now()
    FROM picked WHERE d.id = picked.id
    RETURNING d.id, d.activity_id, d.inbox_url, d.domain, d.attempts, d.created_at
)
SELECT c.*, a.actor_id, a.ap_id AS activity_ap_id, a.payload, i.signature_scheme
FROM claimed c
JOIN activities a ON a.id = c.activity_id
LEFT JOIN instances i ON i.domain = c.domain
ORDER BY c.id
"""


async def claim(
    conn: Any,
    *,
    now: datetime,
    limit: int,
    per_domain: int,
    lease: timedelta,
    skip_domains: Sequence[str] = (),
) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due rows (at most ``per_domain`` per host, none of
    ``skip_domains`` nor of unavailable hosts) and lease them until ``now + lease``."""
    if limit <= 0:
        return []
    rows = await conn.fetch(_CLAIM, now, limit, per_domain, list(skip_domains), lease)
    return [to_row(ClaimedDelivery, row) for row in rows]


async def mark_delivered(conn: Any, delivery_id: int, *, status: int | None) -> None:
    await conn.execute(
        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,"
        " last_status = $2, last_error = NULL, updated_at = now() WHERE id = $1",
        delivery_id, status,
    )


async def mark_final(
    conn: Any, delivery_id: int, *, state: str, status: int | None, error: str
) -> None:
    """End a delivery for good: ``failed``, ``gone`` or ``cancelled``."""
    if state not in ("failed", "gone", "cancelled"):
        raise ValueError(f"not a final failure state: {state!r}")
    await conn.execute(
        "UPDATE deliveries SET state = $2, attempts = attempts + 1, last_status = $3,"
        " last_error = $4, updated_at = now() WHERE id = $1",
        delivery_id, state, status, error,
    )


async def reschedule(
    conn: Any, delivery_id: int, *, at: datetime, status: int | None, error: str
) -> None:
    """One more failed attempt; try again at ``at``."""
    await conn.execute(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $2,"
        " last_status = $3, last_error = $4, updated_at = now() WHERE id = $1",
        delivery_id, at, status, error,
    )


async def release(conn: Any, delivery_ids: Sequence[int], *, now: datetime) -> None:
    """Give claimed but unsent rows back: due again at once, attempts unchanged."""
    if delivery_ids:
        await conn.execute(
            "UPDATE deliveries SET next_attempt_at = $2, updated_at = now()"
            " WHERE id = ANY ($1::bigint[]) AND state = 'queued'",
            list(delivery_ids), now,
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
