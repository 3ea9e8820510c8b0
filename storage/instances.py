"""Known remote instances: software (from NodeInfo), the signature scheme that works
there, and delivery health (failure days, the unavailable flag)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.deliveries import PARKED
from storage.rows import maybe_row, to_row

# Mastodon's rule (delivery_failure_tracker.rb): failures on this many distinct days
# with no success in between mark a host unavailable.
UNAVAILABLE_AFTER_DAYS = 7


@dataclass(frozen=True)
class Instance:
    domain: str
    software: str | None
    software_version: str | None
    nodeinfo_fetched_at: datetime | None
    signature_scheme: str | None
    failure_days: list[date]
    failing_since: datetime | None
    last_success_at: datetime | None
    unavailable: bool
    created_at: datetime


async def get(conn: Any, domain: str) -> Instance | None:
    row = await conn.fetchrow("SELECT * FROM instances WHERE domain = $1", domain)
    return maybe_row(Instance, row)


async def save_software(
    conn: Any, domain: str, *, software: str | None, version: str | None, fetched_at: datetime
) -> Instance:
    """Remember what NodeInfo said (or, with None, that there was nothing to read)."""
    row = await conn.fetchrow(
        "INSERT INTO instances (domain, software, software_version, nodeinfo_fetched_at)"
        " VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (domain) DO UPDATE SET software = EXCLUDED.software,"
        " software_version = EXCLUDED.software_version,"
        " nodeinfo_fetched_at = EXCLUDED.nodeinfo_fetched_at RETURNING *",
        domain, software, version, fetched_at,
    )
    return to_row(Instance, row)


async def touch_nodeinfo(conn: Any, domain: str, *, fetched_at: datetime) -> None:
    """Move the NodeInfo timestamp only (a failed refresh keeps the known software)."""
    await conn.execute(
        "INSERT INTO instances (domain, nodeinfo_fetched_at) VALUES ($1, $2)"
        " ON CONFLICT (domain) DO UPDATE SET nodeinfo_fetched_at = EXCLUDED.nodeinfo_fetched_at",
        domain, fetched_at,
    )


# Queued deliveries parked while their host was unavailable (deliveries.park_domain)
# become due again when it is available.
_UNPARK = (
    "UPDATE deliveries SET next_attempt_at = coalesce($2::timestamptz, now()), updated_at = now()"
    " WHERE domain = $1 AND state = 'queued' AND next_attempt_at = $3"
)


async def record_success(conn: Any, domain: str, *, now: datetime, scheme: str | None) -> None:
    """The host answered (a delivery worked, or it sent us a verified request): clear
    the failure record, remember the working scheme, resume parked deliveries.

    Many deliveries to one host succeed at the same moment; the WHERE skips the write
    (and the row churn) when nothing would change but a last_success_at younger than a
    minute, so last_success_at is exact to about a minute.
    """
    was_unavailable = await conn.fetchval(
        "WITH before AS (SELECT unavailable FROM instances WHERE domain = $1)"
        " INSERT INTO instances (domain, signature_scheme, last_success_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (domain) DO UPDATE SET"
        " signature_scheme = coalesce(EXCLUDED.signature_scheme, instances.signature_scheme),"
        " last_success_at = EXCLUDED.last_success_at,"
        " failure_days = '{}', failing_since = NULL, unavailable = false"
        " WHERE instances.unavailable OR instances.failing_since IS NOT NULL"
        " OR cardinality(instances.failure_days) > 0 OR instances.last_success_at IS NULL"
        " OR instances.last_success_at < EXCLUDED.last_success_at - interval '1 minute'"
        " OR (EXCLUDED.signature_scheme IS NOT NULL"
        "     AND instances.signature_scheme IS DISTINCT FROM EXCLUDED.signature_scheme)"
        " RETURNING coalesce((SELECT unavailable FROM before), false)",
        domain, scheme, now,
    )
    if was_unavailable:
        await conn.execute(_UNPARK, domain, now, PARKED)


async def record_successes(conn: Any, answered: Sequence[tuple[str, str | None]], *,
                           now: datetime) -> None:
    """:func:`record_success` for many ``(domain, scheme)`` pairs in one statement (the
    delivery worker's batches of outcomes); a host's last pair with a scheme wins."""
    if not answered:
        return
    resumed = await conn.fetch(
        "WITH d AS (SELECT DISTINCT ON (domain) domain, scheme"
        " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(domain, scheme, n)"
        " ORDER BY domain, scheme IS NULL, n DESC),"
        " before AS (SELECT i.domain, i.unavailable FROM instances i JOIN d USING (domain)),"
        " up AS (INSERT INTO instances AS i (domain, signature_scheme, last_success_at)"
        " SELECT domain, scheme, $3 FROM d ORDER BY domain"
        " ON CONFLICT (domain) DO UPDATE SET"
        " signature_scheme = coalesce(EXCLUDED.signature_scheme, i.signature_scheme),"
        " last_success_at = EXCLUDED.last_success_at,"
        " failure_days = '{}', failing_since = NULL, unavailable = false"
        " WHERE i.unavailable OR i.failing_since IS NOT NULL"
        " OR cardinality(i.failure_days) > 0 OR i.last_success_at IS NULL"
        " OR i.last_success_at < EXCLUDED.last_success_at - interval '1 minute'"
        " OR (EXCLUDED.signature_scheme IS NOT NULL"
        "     AND i.signature_scheme IS DISTINCT FROM EXCLUDED.signature_scheme)"
        " RETURNING i.domain)"
        " SELECT b.domain FROM before b JOIN up USING (domain) WHERE b.unavailable",
        [a[0] for a in answered], [a[1] for a in answered], now,
    )
    for row in resumed:
        await conn.execute(_UNPARK, row["domain"], now, PARKED)


async def record_failure(
    conn: Any, domain: str, *, now: datetime, days: int = UNAVAILABLE_AFTER_DAYS
) -> bool:
    """A delivery failed in a way that says the host is down; True when this failure
    made the host unavailable (its ``days``-th distinct failure day since a success)."""
    row = await conn.fetchrow(
        "WITH before AS (SELECT unavailable FROM instances WHERE domain = $1)"
        " INSERT INTO instances AS i (domain, failure_days, failing_since, unavailable)"
        " VALUES ($1, ARRAY[$2::date], $3, $4 <= 1)"
        " ON CONFLICT (domain) DO UPDATE SET"
        " failure_days = i.failure_days || $2::date,"
        " failing_since = coalesce(i.failing_since, $3),"
        " unavailable = i.unavailable OR cardinality(i.failure_days) + 1 >= $4"
        # Only a new day changes anything: skip the write for the day's other failures.
        " WHERE NOT ($2::date = ANY (i.failure_days))"
        " RETURNING i.unavailable AND NOT coalesce((SELECT unavailable FROM before), false)"
        " AS became_unavailable",
        domain, now.date(), now, days,
    )
    return bool(row and row["became_unavailable"])


async def reset_instance(conn: Any, domain: str) -> bool:
    """An admin's reset: forget the failures and deliver to the host again (parked
    deliveries are due at once). Returns False when the host is not known."""
    result: str = await conn.execute(
        "UPDATE instances SET failure_days = '{}', failing_since = NULL, unavailable = false"
        " WHERE domain = $1",
        domain,
    )
    await conn.execute(_UNPARK, domain, None, PARKED)
    return result != "UPDATE 0"


async def unavailable_domains(conn: Any) -> list[str]:
    rows = await conn.fetch("SELECT domain FROM instances WHERE unavailable ORDER BY domain")
    return [row["domain"] for row in rows]
