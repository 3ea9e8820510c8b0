"""The first start seeds demo content once."""

from __future__ import annotations

import asyncpg
import pytest

from fedi.demo import seed_demo
from fedi.forum.accounts import authenticate
from tests.conftest import make_settings


async def test_seeds_once_and_prints_a_working_password(
    dsn: str, pool: asyncpg.Pool, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings()
    await seed_demo(settings, dsn)
    out = capsys.readouterr().out
    password = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.strip().startswith("password:"))
    async with pool.acquire() as conn:
        account = await authenticate(conn, "verwaltung", password)
    assert account.is_admin
    groups = await pool.fetch("SELECT username FROM actors WHERE type = 'Group' ORDER BY 1")
    assert [g["username"] for g in groups] == ["breitband", "foerdermittel"]
    titles = await pool.fetch("SELECT title FROM posts WHERE parent_id IS NULL")
    assert [t["title"] for t in titles] == ["Willkommen im Forum!"]

    await seed_demo(settings, dsn)
    assert capsys.readouterr().out == ""
    assert await pool.fetchval("SELECT count(*) FROM accounts") == 1
    assert await pool.fetchval("SELECT count(*) FROM posts") == 1
