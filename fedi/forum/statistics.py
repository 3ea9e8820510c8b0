"""The instance's statistics (issue 18): what the public page /statistik, its CSV export,
GET /api/v1/statistics and NodeInfo report, all from ``collect``.

What counts:
- accounts: local accounts that are active (not pending, rejected or suspended) and not
  deleted;
- active accounts (30 days, and 180 for NodeInfo's activeHalfyear): of those, the ones that
  wrote a thread or a reply, liked a post, or logged in / used an API token in the period
  (a session's or token's creation and last use; the last use is recorded at most once a
  minute). Reading anonymously leaves no trace and is not counted;
- per live local group: visible threads and replies, visible questions and how many of them
  have an accepted answer, events not deleted (upcoming until they end, then past), and
  accepted followers from other servers; the total row sums the groups, except followers
  from other servers, which counts different accounts (one may follow several groups).
The counts come from counter rows and narrow indexes (storage/statistics.py), so the page
is cheap enough to compute at every request; nothing is cached.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from storage import statistics as statistics_store
from storage.statistics import Counts, GroupCounts

__all__ = ["ACTIVE_DAYS", "COUNT_COLUMNS", "GroupCounts", "Statistics", "Totals", "collect"]

ACTIVE_DAYS = 30
HALFYEAR_DAYS = 180
# The per-group counts, in the order the page, the CSV and the JSON show them.
COUNT_COLUMNS = tuple(f.name for f in fields(Counts))
# The instance's sums: the same fields as a group's counts.
Totals = Counts


@dataclass(frozen=True)
class Statistics:
    generated_at: datetime
    accounts: int
    active_month: int
    active_halfyear: int
    local_posts: int
    groups: list[GroupCounts]
    totals: Totals

    def counts(self, row: Counts) -> list[int]:
        return [int(getattr(row, name)) for name in COUNT_COLUMNS]


async def collect(conn: Any, now: datetime) -> Statistics:
    """Every count at ``now``, read in one snapshot (the numbers add up)."""
    if conn.is_in_transaction():  # the caller's snapshot
        return await _read(conn, now)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _read(conn, now)


async def _read(conn: Any, now: datetime) -> Statistics:
    groups = await statistics_store.group_counts(conn, now)
    instance = await statistics_store.instance_counts(conn)
    month = await statistics_store.active_accounts(conn, now - timedelta(days=ACTIVE_DAYS))
    halfyear = await statistics_store.active_accounts(conn, now - timedelta(days=HALFYEAR_DAYS))
    sums = {name: sum(getattr(g, name) for g in groups) for name in COUNT_COLUMNS}
    sums["remote_followers"] = instance.remote_followers
    return Statistics(generated_at=now, accounts=instance.accounts, active_month=month,
                      active_halfyear=halfyear, local_posts=instance.local_posts,
                      groups=groups, totals=Totals(**sums))
