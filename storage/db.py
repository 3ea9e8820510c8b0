"""Connection pool with a JSONB codec, a transaction helper and a liveness ping.

No reset round trip on release. asyncpg's pool by default sends ``SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` whenever a connection goes
back to the pool: one round trip per acquire, a third of the inbox's. Nothing that runs
on a pool connection changes session state (no ``SET``/``set_config`` outside a
transaction-local one, no session advisory locks, no temporary tables, no holdable
cursors; the one exception is LISTEN, below), which tests/storage/test_pool_reset.py
checks twice: in the source of every module, and on the pool's connections after a
workload through the app. So the pool's ``reset`` skips that query; asyncpg itself still
rolls back a transaction left open and drops client-side listener callbacks
(``Connection._reset``, no round trip when nothing is open).

The exception: a pool connection that LISTENs (a worker holds one for its life,
fedi/core/queue.py) is marked by :class:`SessionConnection.add_listener`, and when it
comes back it gets the full reset (``UNLISTEN *`` among it) before anyone else uses it.
Dedicated connections (:func:`connect`: migrations take a session advisory lock there)
never enter the pool. Code that must change session state on a pool connection calls
:func:`mark_session_changed` first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

Pool = asyncpg.Pool
Connection = asyncpg.Connection


class SessionConnection(asyncpg.Connection):  # type: ignore[misc]
    """A connection that remembers whether its session state was changed (LISTEN), so
    the pool resets only those."""

    __slots__ = ("_session_changed",)

    async def add_listener(self, channel: str, callback: Any) -> None:
        self._session_changed = True
        await super().add_listener(channel, callback)


def mark_session_changed(conn: Any) -> None:
    """Have the pool fully reset this connection when it is released."""
    target = getattr(conn, "_con", conn)  # a pool's proxy wraps the connection
    target._session_changed = True


def session_changed(conn: Any) -> bool:
    return bool(getattr(getattr(conn, "_con", conn), "_session_changed", False))


async def _reset_if_changed(conn: asyncpg.Connection) -> None:
    """The pool's reset: the full reset query only for a connection marked as changed."""
    if getattr(conn, "_session_changed", False):
        query = conn.get_reset_query()
        if query:
            await conn.execute(query)
        conn._session_changed = False


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSON and JSONB columns come back as Python objects and accept them on the way in.
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":")),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool; every connection gets the JSON codecs, and a released connection is
    reset only when its session state was changed (see the module's docstring)."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection,
        connection_class=SessionConnection, reset=_reset_if_changed,
    )
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool (for LISTEN and for scripts)."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def ping(pool: asyncpg.Pool) -> None:
    """Ask the database a trivial question; raises as asyncpg does when it cannot answer."""
    await pool.fetchval("SELECT 1")


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[Any]:
    """Acquire a connection and run the block in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


async def leftover_session_state(conn: Any) -> list[str]:
    """What a connection carries over from earlier use that a reset would clear: settings
    changed in the session, LISTEN channels, session advisory locks, holdable cursors,
    temporary tables. Empty for a clean connection (tests check the pool's). A setting
    set to its own default counts as unchanged: asyncpg sets ``jit`` back that way after
    its type introspection; cursors that are not holdable end with their transaction
    (this very query runs in one)."""
    row = await conn.fetchrow(
        """
        SELECT ARRAY(SELECT name FROM pg_settings WHERE source = 'session'
                     AND setting IS DISTINCT FROM reset_val ORDER BY name) AS settings,
               ARRAY(SELECT pg_listening_channels()) AS channels,
               (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                AND pid = pg_backend_pid()) AS advisory_locks,
               (SELECT count(*) FROM pg_cursors WHERE is_holdable) AS cursors,
               (SELECT count(*) FROM pg_class
                WHERE relnamespace = pg_my_temp_schema()) AS temporary_relations
        """)
    found = [f"setting {name}" for name in row["settings"]]
    found += [f"listening on {channel}" for channel in row["channels"]]
    found += [f"{row[kind]} {kind.replace('_', ' ')}" for kind in
              ("advisory_locks", "cursors", "temporary_relations") if row[kind]]
    return found
