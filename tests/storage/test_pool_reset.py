"""The pool skips asyncpg's reset round trip on release (storage/db.py) because nothing
that runs on a pool connection changes session state. Proved twice: the source of every
module issues no session-changing SQL (except LISTEN, which marks its connection for a
full reset, and the migrations' lock on their own connection), and after a workload
through the app every pool connection is as clean as a fresh one."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

import asyncpg
import httpx
import pytest

from fedi.core.queue import Worker
from fedi.inbound.queue import InboundQueue
from storage.db import create_pool, leftover_session_state, mark_session_changed
from tests.support.clock import FakeClock
from tests.support.inbound_fixtures import Fed, fed, follow, mastodon_create, peer

__all__ = ["fed", "peer"]  # fixtures

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("activitypub", "storage", "fedi")

# SQL that changes the session beyond its transaction (uppercase, as all our SQL is).
SESSION_CHANGES = {
    "SET outside a transaction": re.compile(
        r"(^|;)\s*SET\s+(SESSION\s+)?(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)\w+"),
    "set_config": re.compile(r"\bset_config\s*\(", re.IGNORECASE),
    "LISTEN": re.compile(r"(^|;)\s*LISTEN\s+\S"),
    "session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\("),
    "temporary table": re.compile(r"CREATE\s+(TEMP|TEMPORARY)\s", re.IGNORECASE),
    "holdable cursor": re.compile(r"\bWITH\s+HOLD\b", re.IGNORECASE),
    "SQL PREPARE": re.compile(r"(^|;)\s*PREPARE\s+\w+"),
}
# asyncpg calls that LISTEN on the connection they are given.
LISTENING_CALLS = ("add_listener",)

# Where a session change is allowed, and why.
ALLOWED = {
    # Migrations take a session advisory lock on their own connection (storage.db.connect
    # in fedi.core.runtime.migrate_database), never on a pool connection.
    ("storage/migrate.py", "session advisory lock"),
    # The worker LISTENs on a pool connection it holds for its life;
    # storage.db.SessionConnection.add_listener marks it for the full reset.
    ("fedi/core/queue.py", "add_listener"),
    # The definitions themselves.
    ("storage/db.py", "add_listener"),
}


def _texts(tree: ast.AST) -> list[str]:
    """Every string literal but docstrings, f-strings with their fields as ``?`` (adjacent
    literals are joined by the parser, so a statement split over lines is one text)."""
    found: list[str] = []
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            found.append("".join(str(part.value) if isinstance(part, ast.Constant) else "?"
                                 for part in node.values))
    return found


def session_changes(source: str) -> set[str]:
    tree = ast.parse(source)
    found = {name for text in _texts(tree) for name, pattern in SESSION_CHANGES.items()
             if pattern.search(text)}
    found |= {node.func.attr for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in LISTENING_CALLS}
    return found


def test_the_scan_finds_each_kind_of_session_change() -> None:
    planted = '''
async def f(conn, x):
    await conn.execute("SET statement_timeout = 0")
    await conn.execute("SELECT set_config('search_path', 'x', false)")
    await conn.execute(f"LISTEN {x}")
    await conn.execute("SELECT pg_advisory_lock($1)", 1)
    await conn.execute("CREATE TEMP TABLE t (a int)")
    await conn.execute("DECLARE c CURSOR WITH HOLD FOR SELECT 1")
    await conn.execute("PREPARE q AS SELECT 1")
    await conn.add_listener("ch", print)
'''
    assert session_changes(planted) == {*SESSION_CHANGES, "add_listener"}
    harmless = '''
async def f(conn):
    await conn.execute("UPDATE accounts SET role = $2 WHERE id = $1", 1, "x")
    await conn.execute("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE"
                       " SET a = EXCLUDED.a")
    await conn.execute("SELECT pg_advisory_xact_lock(1)")
    await conn.execute("UNLISTEN *")
    async with conn.transaction():
        await conn.execute("SET LOCAL statement_timeout = 0")
'''
    assert session_changes(harmless) == set()


def test_no_module_changes_session_state_on_a_pool_connection() -> None:
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for change in session_changes(path.read_text(encoding="utf-8")):
                if (relative, change) not in ALLOWED:
                    found.add((relative, change))
    assert found == set(), (
        "session state changed on what may be a pool connection (the pool does not reset"
        " connections, storage/db.py): use a transaction-local form (SET LOCAL,"
        " pg_advisory_xact_lock), a dedicated connection (storage.db.connect), or call"
        f" storage.db.mark_session_changed(conn) first: {sorted(found)}")


async def _all_connections_clean(pool: asyncpg.Pool) -> dict[int, list[str]]:
    """Every idle connection of the pool, held at once, and what each carries over."""
    idle = sum(holder._con is not None and holder._in_use is None
               for holder in pool._holders)
    held = [await asyncio.wait_for(pool.acquire(), 10) for _ in range(idle)]
    try:
        return {await conn.fetchval("SELECT pg_backend_pid()"): await leftover_session_state(
            conn) for conn in held}
    finally:
        for conn in held:
            await pool.release(conn)


async def test_pool_connections_are_clean_after_a_workload_through_the_app(fed: Fed) -> None:
    alice, bob = fed.remote(0, "alice"), fed.remote(1, "bob")
    # Inbox: first contacts (key fetches), known keys, concurrent requests, the workers.
    await fed.send(alice, follow(alice, fed.group.ap_id))
    await asyncio.gather(*(fed.send(sender, mastodon_create(sender, fed.group))
                           for sender in (alice, bob) for _ in range(5)))
    worker = Worker(fed.ctx.pool, [InboundQueue(fed.ctx, clock=FakeClock())], concurrency=4)
    await worker.run_once()
    # Pages and documents.
    async with httpx.AsyncClient(timeout=30) as client:
        for path in ("/", "/groups/breitband", "/groups/breitband/outbox",
                     "/.well-known/nodeinfo", "/api/v1/groups"):
            answer = await client.get(fed.server.url + path)
            assert answer.status_code < 500, path
    leftovers = await _all_connections_clean(fed.ctx.pool)
    assert leftovers and all(found == [] for found in leftovers.values()), leftovers


async def test_a_listening_connection_is_reset_when_released(dsn: str) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        conn = await pool.acquire()
        await conn.add_listener("inbox", lambda *args: None)
        assert await leftover_session_state(conn) == ["listening on inbox"]
        # Released still listening (as when the worker's remove_listener failed).
        with pytest.warns(asyncpg.InterfaceWarning, match="notification listener"):
            await pool.release(conn)
        assert all(found == [] for found in (await _all_connections_clean(pool)).values())
    finally:
        await pool.close()


async def test_the_check_sees_a_change_no_reset_clears_unless_marked(dsn: str) -> None:
    """Why the scan matters: a session change on a pool connection stays there for the
    next user of the connection (no reset on release) unless the code marks it."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = 1234")
        async with pool.acquire() as conn:
            assert await leftover_session_state(conn) == ["setting statement_timeout"]
            assert await conn.fetchval("SHOW statement_timeout") == "1234ms"
            mark_session_changed(conn)
        async with pool.acquire() as conn:
            assert await leftover_session_state(conn) == []
    finally:
        await pool.close()
