"""Rate-limit counts shared by every process (migration 0021): a sliding window per
(action, key), counted and decided by one atomic upsert in one round trip.

The row of a key holds the times of its allowed hits still inside the window (at most
``limit``). A hit drops the times that left the window and is allowed when fewer than
``limit`` remain; ``INSERT .. ON CONFLICT DO UPDATE`` locks the row, so concurrent hits from
several processes queue on it and never both take the last place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["delete_expired", "hit"]

_HIT = """
INSERT INTO rate_limits AS r (action, key, hits, allowed, hit_at, expires_at)
SELECT $1, $2, ARRAY[t.now], true, t.now, t.now + make_interval(secs => $4)
FROM (SELECT coalesce($3::timestamptz, clock_timestamp()) AS now) AS t
ON CONFLICT (action, key) DO UPDATE SET (hits, allowed, hit_at, expires_at) = (
    SELECT CASE WHEN k.n < $5 THEN k.kept || excluded.hit_at ELSE k.kept END,
           k.n < $5, excluded.hit_at, excluded.expires_at
    FROM (SELECT coalesce(array_agg(h ORDER BY h), '{}') AS kept, count(*) AS n
          FROM unnest(r.hits) AS h
          WHERE h > excluded.hit_at - make_interval(secs => $4)) AS k)
RETURNING allowed,
          extract(epoch FROM hits[1] + make_interval(secs => $4) - hit_at)::float8 AS wait
"""


async def hit(db: Any, action: str, key: str, limit: int, window: float,
              now: datetime | None = None) -> float | None:
    """Count a hit of ``key`` at ``action``: None when allowed, else the seconds until the
    oldest hit in the window leaves it. ``now`` defaults to the database's clock (one clock
    for every process); tests pass their own. ``db``: a pool or a connection."""
    row = await db.fetchrow(_HIT, action, key, now, float(window), limit)
    if row["allowed"]:
        return None
    wait: float = row["wait"]
    return wait


async def delete_expired(db: Any, now: datetime | None = None) -> int:
    """Delete the rows whose window has passed; how many went."""
    status: str = await db.execute(
        "DELETE FROM rate_limits WHERE expires_at < coalesce($1::timestamptz, clock_timestamp())",
        now)
    return int(status.split()[-1])
