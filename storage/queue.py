"""The SQL every leased row queue shares (deliveries, inbound activities, backfill jobs),
and the registry of the workers that hold leases.

A queue table has ``id``, ``state`` (``'queued'`` is the one waiting state),
``next_attempt_at`` and ``claimed_by``. A worker claims due rows with
``FOR UPDATE SKIP LOCKED`` and, in the same statement, pushes ``next_attempt_at`` forward
by a short lease and writes its id into ``claimed_by``; after the claim commits, other
workers skip the rows without a lock being held while the work runs. While a job runs its
worker renews the lease; the outcome (each table's own statements) ends it and clears
``claimed_by``; a clean stop releases unfinished rows at once. A worker that dies stops
beating in ``queue_workers``: the first other worker to notice reclaims its rows (due
again at once), and the lease's end is the backstop when nobody notices.

Table names are constants of ours, never user input.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.rows import to_row

QUEUED = "queued"  # the waiting state of every queue table


@dataclass(frozen=True)
class QueueTable:
    """One queue table and the NOTIFY channel that says it has new work."""

    name: str
    channel: str
    # Extra assignments on every claim, renewal and release (e.g. ``updated_at = now()``).
    touch: str = ""

    def _set(self, assignments: str) -> str:
        return f"{assignments}, {self.touch}" if self.touch else assignments


@dataclass(frozen=True)
class QueueWorker:
    id: uuid.UUID
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime


# Every queue table (each has ``claimed_by`` since migration 0006): a dead worker's rows
# are reclaimed in all of them, whichever queues the reaping worker runs.
DELIVERIES = QueueTable("deliveries", "deliveries", touch="updated_at = now()")
INBOX = QueueTable("inbox_activities", "inbox")
BACKFILLS = QueueTable("backfill_jobs", "backfill")
MAIL = QueueTable("mail_outbox", "mail")  # since migration 0007
ERASURES = QueueTable("account_erasures", "account_erasures")  # since migration 0009
NOTIFICATION_EVENTS = QueueTable("notification_events", "notification_events")  # 0011
NOTIFICATION_MAIL = QueueTable("notification_mail_jobs", "notification_mail")  # 0012
TABLES = (DELIVERIES, INBOX, BACKFILLS, MAIL, ERASURES, NOTIFICATION_EVENTS,
          NOTIFICATION_MAIL)

# The assignment an outcome statement adds to its own: the claim is over.
FINISHED = "claimed_by = NULL"


def claim_sql(table: QueueTable, *, where: str = "", partition: str | None = None,
              partition_cap: str | None = None, select: str = "SELECT * FROM claimed") -> str:
    """The claim statement: ``$1`` now, ``$2`` how many, ``$3`` the lease (interval),
    ``$4`` the worker's id; ``where`` may add conditions on ``t`` with further
    parameters. With ``partition`` (a column) at most ``partition_cap`` (a parameter)
    rows of one value are taken, so one big fan-out cannot fill every slot: rows locked
    but not picked are free again at commit, still due. ``select`` reads the CTE
    ``claimed`` (the updated rows)."""
    window = "$2 * 4" if partition else "$2"
    if partition:
        picked = f"""
    SELECT id FROM (
        SELECT id, next_attempt_at,
               row_number() OVER (PARTITION BY {partition} ORDER BY next_attempt_at, id) AS n
        FROM candidates
    ) ranked
    WHERE n <= {partition_cap}
    ORDER BY next_attempt_at, id
    LIMIT $2"""
    else:
        picked = "\n    SELECT id FROM candidates"
    extra = f", t.{partition}" if partition else ""
    assignments = table._set("next_attempt_at = $1 + $3::interval, claimed_by = $4")
    return f"""
WITH candidates AS (
    SELECT t.id, t.next_attempt_at{extra}
    FROM {table.name} t
    WHERE t.state = '{QUEUED}' AND t.next_attempt_at <= $1 {where}
    ORDER BY t.next_attempt_at, t.id
    LIMIT {window}
    FOR UPDATE OF t SKIP LOCKED
), picked AS ({picked}
), claimed AS (
    UPDATE {table.name} t SET {assignments}
    FROM picked WHERE t.id = picked.id
    RETURNING t.*
)
{select}
"""


async def claim(conn: Any, table: QueueTable, *, worker: uuid.UUID, now: datetime,
                limit: int, lease: timedelta) -> list[Any]:
    """Claim up to ``limit`` due rows, oldest due first, leased until ``now + lease``;
    the records, ordered by id."""
    if limit <= 0:
        return []
    rows: list[Any] = await conn.fetch(
        claim_sql(table, select="SELECT * FROM claimed ORDER BY id"),
        now, limit, lease, worker)
    return rows


async def renew(conn: Any, table: QueueTable, ids: Sequence[int], *, worker: uuid.UUID,
                until: datetime) -> int:
    """Extend the lease of rows this worker still holds to ``until``; how many."""
    if not ids:
        return 0
    status: str = await conn.execute(
        f"UPDATE {table.name} SET {table._set('next_attempt_at = $3')}"
        f" WHERE id = ANY ($1::bigint[]) AND claimed_by = $2 AND state = '{QUEUED}'",
        list(ids), worker, until)
    return int(status.rsplit(" ", 1)[-1])


async def release(conn: Any, table: QueueTable, ids: Sequence[int], *, worker: uuid.UUID,
                  now: datetime) -> int:
    """Give claimed but unfinished rows back: due again at ``now``, attempts unchanged."""
    if not ids:
        return 0
    status: str = await conn.execute(
        f"UPDATE {table.name} SET {table._set('next_attempt_at = $3, claimed_by = NULL')}"
        f" WHERE id = ANY ($1::bigint[]) AND claimed_by = $2 AND state = '{QUEUED}'",
        list(ids), worker, now)
    return int(status.rsplit(" ", 1)[-1])


async def held(conn: Any, table: QueueTable) -> dict[int, uuid.UUID]:
    """Rows claimed and not finished, with their holder (tests, admin views)."""
    rows = await conn.fetch(
        f"SELECT id, claimed_by FROM {table.name}"
        f" WHERE claimed_by IS NOT NULL AND state = '{QUEUED}'")
    return {row["id"]: row["claimed_by"] for row in rows}


# --- the workers ---------------------------------------------------------------------


async def register_worker(conn: Any, worker: uuid.UUID, *, host: str, pid: int) -> None:
    """Announce a worker (again, after it was taken for dead): heartbeat now."""
    await conn.execute(
        "INSERT INTO queue_workers (id, host, pid) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()", worker, host, pid)


async def beat(conn: Any, worker: uuid.UUID) -> bool:
    """The worker is alive; False when it was taken for dead meanwhile (and its rows
    reclaimed): it must register again."""
    status: str = await conn.execute(
        "UPDATE queue_workers SET heartbeat_at = now() WHERE id = $1", worker)
    return status.endswith(" 1")


async def deregister_worker(conn: Any, worker: uuid.UUID) -> None:
    await conn.execute("DELETE FROM queue_workers WHERE id = $1", worker)


async def reap(conn: Any, *, dead_after: timedelta,
               tables: Sequence[QueueTable] = TABLES) -> int:
    """Take the workers whose last heartbeat is older than ``dead_after`` for dead and
    make their rows due again at once; how many rows. Run it in a transaction: the
    DELETE makes one reaper (of several at once) the one that reclaims."""
    dead = [row["id"] for row in await conn.fetch(
        "DELETE FROM queue_workers WHERE heartbeat_at < now() - $1::interval RETURNING id",
        dead_after)]
    if not dead:
        return 0
    reclaimed = 0
    for table in tables:
        status: str = await conn.execute(
            f"UPDATE {table.name}"
            f" SET {table._set('next_attempt_at = now(), claimed_by = NULL')}"
            f" WHERE claimed_by = ANY ($1::uuid[]) AND state = '{QUEUED}'", dead)
        reclaimed += int(status.rsplit(" ", 1)[-1])
    return reclaimed


async def workers(conn: Any) -> list[QueueWorker]:
    rows = await conn.fetch("SELECT * FROM queue_workers ORDER BY started_at, id")
    return [to_row(QueueWorker, row) for row in rows]
