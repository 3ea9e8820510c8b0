"""``fedi user`` and ``fedi token`` run in-process against the test database.

``fedi.cli.main`` calls ``asyncio.run``, so it runs in a worker thread, away from the
test's event loop.
"""

from __future__ import annotations

import asyncio
import io

import asyncpg
import pytest

from fedi.cli import main
from fedi.forum import accounts as service

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _database(dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("FEDI_BASE_URL", "https://forum.example.de")
    monkeypatch.setenv("FEDI_LOG_LEVEL", "WARNING")


async def fedi(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_user_create_admin(
    capsys: pytest.CaptureFixture[str], pool: asyncpg.Pool,
) -> None:
    code = await fedi("user", "create", "Anna", "--email", "anna@example.org",
                      "--password", PASSWORD, "--admin", "--display-name", "Anna Admin")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "created @anna@forum.example.de (admin)\n"
    row = await pool.fetchrow(
        "SELECT a.role, a.status, a.password_hash, ac.name, ac.ap_id FROM accounts a"
        " JOIN actors ac ON ac.id = a.actor_id WHERE a.username = 'anna'")
    assert row["role"] == "admin" and row["status"] == "active"
    assert row["password_hash"].startswith("$argon2id$")
    assert row["name"] == "Anna Admin"
    assert row["ap_id"] == "https://forum.example.de/users/anna"


async def test_user_create_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert await fedi("user", "create", "berta", "--email", "b@example.org",
                      "--password", PASSWORD) == 0
    capsys.readouterr()
    for argv in (
        ("user", "create", "berta", "--email", "other@example.org", "--password", PASSWORD),
        ("user", "create", "berta2", "--email", "B@EXAMPLE.org", "--password", PASSWORD),
        ("user", "create", "carl", "--email", "c@example.org", "--password", "short"),
        ("user", "create", "Bad Name", "--email", "d@example.org", "--password", PASSWORD),
    ):
        code = await fedi(*argv)
        out, err = capsys.readouterr()
        assert code == 1, argv
        assert out == ""
        assert err.startswith("fedi: ") and err.count("\n") == 1, err


async def test_user_create_reads_a_piped_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pool: asyncpg.Pool,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert await fedi("user", "create", "dora", "--email", "dora@example.org") == 0
    async with pool.acquire() as conn:
        assert (await service.authenticate(conn, "dora", PASSWORD)).username == "dora"


async def test_token_create_prints_only_a_working_token(
    capsys: pytest.CaptureFixture[str], pool: asyncpg.Pool,
) -> None:
    assert await fedi("user", "create", "emil", "--email", "e@example.org",
                      "--password", PASSWORD) == 0
    capsys.readouterr()
    assert await fedi("token", "create", "emil", "--name", "script") == 0
    out, _ = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n" and len(token) == 43
    async with pool.acquire() as conn:
        account = await service.account_for_token(conn, token)
        assert account is not None and account.username == "emil"
        assert (await service.list_tokens(conn, account))[0].name == "script"

    assert await fedi("token", "create", "nobody") == 1
    _, err = capsys.readouterr()
    assert "nobody" in err and err.count("\n") == 1

    await pool.execute("UPDATE accounts SET status = 'suspended'")
    assert await fedi("token", "create", "emil") == 1
    _, err = capsys.readouterr()
    assert "suspended" in err


async def test_user_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert await fedi("user", "list") == 0
    assert "no accounts" in capsys.readouterr().out
    for name, extra in (("fritz", ("--admin",)), ("gabi", ())):
        assert await fedi("user", "create", name, "--email", f"{name}@example.org",
                          "--password", PASSWORD, *extra) == 0
    capsys.readouterr()
    assert await fedi("user", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "STATUS", "EMAIL", "CREATED"]
    assert lines[1].split()[:4] == ["fritz", "admin", "active", "fritz@example.org"]
    assert lines[2].split()[:4] == ["gabi", "user", "active", "gabi@example.org"]


async def test_group_create_and_list(
    capsys: pytest.CaptureFixture[str], pool: asyncpg.Pool,
) -> None:
    assert await fedi("user", "create", "mod", "--email", "m@example.org",
                      "--password", PASSWORD) == 0
    capsys.readouterr()
    code = await fedi("group", "create", "breitband", "--title", "Breitbandausbau",
                      "--summary", "Alles zu *Glasfaser*", "--moderator", "mod")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == ("created group !breitband@forum.example.de "
                   "(https://forum.example.de/groups/breitband)\n")
    row = await pool.fetchrow(
        "SELECT a.type, a.name, a.summary, g.summary_source FROM actors a"
        " JOIN groups g ON g.actor_id = a.id WHERE a.username = 'breitband'")
    assert row["type"] == "Group" and row["name"] == "Breitbandausbau"
    assert "<em>Glasfaser</em>" in row["summary"]
    mods = await pool.fetch(
        "SELECT ac.username FROM group_moderators m JOIN actors ac ON ac.id = m.actor_id")
    assert [m["username"] for m in mods] == ["mod"]

    # One namespace: a group may not take a user's name, and names are checked.
    assert await fedi("group", "create", "mod", "--title", "X") == 1
    assert "already taken" in capsys.readouterr().err
    assert await fedi("group", "create", "Bad Name", "--title", "X") == 1
    assert "may contain only" in capsys.readouterr().err
    assert await fedi("group", "create", "g2", "--title", "X", "--moderator", "nobody") == 1
    assert "no local user" in capsys.readouterr().err

    assert await fedi("group", "list") == 0
    assert "breitband@forum.example.de  Breitbandausbau  (0 threads)" in capsys.readouterr().out
