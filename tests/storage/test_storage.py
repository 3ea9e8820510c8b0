from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from storage.db import connect, create_pool
from storage.migrate import applied_migrations, available_migrations, migrate


async def test_template_has_every_migration(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        assert await applied_migrations(conn) == [m.version for m in available_migrations()]
        # Running again applies nothing.
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_jsonb_codec_round_trips(pool: asyncpg.Pool) -> None:
    payload = {"type": "Note", "content": "Grüße aus Musterstadt", "n": [1, 2.5, None]}
    value = await pool.fetchval("SELECT $1::jsonb", payload)
    assert value == payload


async def test_concurrent_migrators_apply_each_migration_once(
    new_database: object, tmp_path: Path
) -> None:
    make = new_database  # type: ignore[assignment]
    dsn = await make()  # type: ignore[operator]
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE t_a (id int);")
    (folder / "0002_b.sql").write_text("INSERT INTO t_a VALUES (1);")
    conns = [await connect(dsn) for _ in range(3)]
    try:
        await conns[0].execute("DROP TABLE schema_migrations")
        results = await asyncio.gather(*(migrate(c, folder) for c in conns))
        assert sorted(v for r in results for v in r) == [1, 2]
        assert await conns[0].fetchval("SELECT count(*) FROM t_a") == 1
    finally:
        for c in conns:
            await c.close()


async def test_failed_migration_rolls_back_and_is_not_recorded(dsn: str, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE t_ok (id int);")
    (folder / "0002_bad.sql").write_text("CREATE TABLE t_half (id int); SELECT nonsense(;")
    conn = await connect(dsn)
    try:
        await conn.execute("DROP TABLE schema_migrations")
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await migrate(conn, folder)
        assert await applied_migrations(conn) == [1]
        assert await conn.fetchval("SELECT to_regclass('t_half')") is None
    finally:
        await conn.close()


def test_migration_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "1_bad.sql").write_text("")
    with pytest.raises(ValueError, match="NNNN_name"):
        available_migrations(tmp_path)


async def test_pool_survives_reuse(dsn: str) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        results = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(10)))
        assert results == list(range(10))
    finally:
        await pool.close()


async def test_remote_hosts_may_reuse_a_name_but_local_names_stay_unique(
    pool: asyncpg.Pool,
) -> None:
    from storage import actors as actor_store

    async with pool.acquire() as conn:
        user = await actor_store.upsert_remote(conn, "https://lemmy.example/u/rathaus", {
            "type": "Person", "username": "rathaus", "domain": "lemmy.example",
            "inbox": "https://lemmy.example/u/rathaus/inbox"})
        group = await actor_store.upsert_remote(conn, "https://lemmy.example/c/rathaus", {
            "type": "Group", "username": "rathaus", "domain": "lemmy.example",
            "inbox": "https://lemmy.example/c/rathaus/inbox"})
        assert user.id != group.id
        found = await actor_store.by_handle(conn, "Rathaus", "lemmy.example", "Group")
        assert found is not None and found.id == group.id
        found = await actor_store.by_handle(conn, "rathaus", "lemmy.example", "Person")
        assert found is not None and found.id == user.id
        values = {"username": "anna", "domain": "here.example", "type": "Person"}
        await actor_store.insert_local(conn, values={"ap_id": "https://here.example/users/anna",
                                                     **values}, keys=_keys())
        with pytest.raises(asyncpg.UniqueViolationError):
            await actor_store.insert_local(
                conn, values={"ap_id": "https://here.example/groups/anna", **values,
                              "type": "Group"}, keys=_keys())


def _keys() -> dict[str, str]:
    return {"rsa_private_pem": "x", "rsa_public_pem": "x", "ed25519_private_pem": "x",
            "ed25519_public_multibase": "x"}
