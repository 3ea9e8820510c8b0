"""The rate limiter shared by every process: counts in PostgreSQL (migration 0021), one
sliding window per (action, key), decided by one atomic upsert."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from fedi.core.ratelimit import RateLimiter
from storage import ratelimits

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_window_slides_with_the_given_clock(pool: asyncpg.Pool) -> None:
    limiter = RateLimiter("login", 2, 10)
    assert await limiter.hit(pool, "a", at(0)) is None
    assert await limiter.hit(pool, "a", at(4)) is None
    assert await limiter.hit(pool, "a", at(5)) == 5  # the hit at 0 leaves the window at 10
    assert await limiter.hit(pool, "b", at(5)) is None  # per key
    assert await RateLimiter("signup", 2, 10).hit(pool, "a", at(5)) is None  # per action
    assert await limiter.hit(pool, "a", at(9.5)) == 1.0  # at least a second
    assert await limiter.hit(pool, "a", at(10.5)) is None  # 0 left, 4 and 10.5 in
    assert await limiter.hit(pool, "a", at(11)) == 3.0  # refused hits take no place
    assert await limiter.hit(pool, "a", at(14.5)) is None


async def test_window_expires_on_the_database_clock(pool: asyncpg.Pool) -> None:
    limiter = RateLimiter("login", 1, 0.5)
    assert await limiter.hit(pool, "a") is None
    wait = await limiter.hit(pool, "a")
    assert wait == 1.0  # 0.5 s or less, shown as the minimum of a second
    await asyncio.sleep(0.6)
    assert await limiter.hit(pool, "a") is None


async def test_concurrent_hits_never_pass_the_limit(pool: asyncpg.Pool) -> None:
    limiter = RateLimiter("login", 5, 300)
    results = await asyncio.gather(*(limiter.hit(pool, "10.0.0.1") for _ in range(20)))
    assert sum(r is None for r in results) == 5
    async with pool.acquire() as conn:
        hits = await conn.fetchval("SELECT cardinality(hits) FROM rate_limits")
    assert hits == 5  # the row never holds more than the limit


async def test_expired_rows_are_deleted(pool: asyncpg.Pool) -> None:
    limiter = RateLimiter("signup", 1, 60)
    await limiter.hit(pool, "old", at(0))
    await limiter.hit(pool, "new", at(50))
    assert await ratelimits.delete_expired(pool, at(70)) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT array_agg(key) FROM rate_limits") == ["new"]
    assert await limiter.hit(pool, "new", at(70)) == 40  # its hit is still counted
