"""``fedi seed GROUP --posts N`` against the test database, then the group's page and
outbox served by the app over the same database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from fedi.app import create_app
from fedi.cli import main
from tests.conftest import make_settings

BASE = "http://127.0.0.1:8000"  # make_settings()'s base URL: the app below serves these ids


@pytest.fixture(autouse=True)
def _database(dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("FEDI_BASE_URL", BASE)
    monkeypatch.setenv("FEDI_LOG_LEVEL", "WARNING")


async def fedi(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_seed_refuses_a_missing_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert await fedi("seed", "nirgends", "--posts", "10") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "no local group named 'nirgends'" in err and "fedi group create nirgends" in err


async def test_seed_fills_a_group(capsys: pytest.CaptureFixture[str], dsn: str,
                                  pool: asyncpg.Pool) -> None:
    assert await fedi("group", "create", "breitband", "--title", "Breitband") == 0
    assert await fedi("seed", "breitband", "--posts", "95", "--authors", "3") == 0
    out, err = capsys.readouterr()
    assert "seeded 95 posts in 10 threads (9 mention Glasfaser, 190 activities)" in out, err

    group_id = await pool.fetchval(
        "SELECT id FROM actors WHERE local AND type = 'Group' AND username = 'breitband'")
    posts = await pool.fetch("SELECT * FROM posts WHERE group_id = $1 ORDER BY id", group_id)
    assert len(posts) == 95
    roots = [p for p in posts if p["parent_id"] is None]
    assert len(roots) == 10
    assert all(p["thread_id"] == p["id"] and p["title"] for p in roots)
    assert roots[0]["reply_count"] == 9 and roots[-1]["reply_count"] == 4
    assert sum("Glasfaser" in p["source"] for p in posts) == 9
    authors = await pool.fetch(
        "SELECT DISTINCT a.username FROM posts p JOIN actors a ON a.id = p.author_id"
        " WHERE p.group_id = $1", group_id)
    assert {r["username"] for r in authors} <= {"seed1", "seed2", "seed3"}
    # Each post: the group's embedded Announce, then the author's Create, as the app.
    acts = await pool.fetch(
        "SELECT a.type, a.actor_id, a.post_id, a.object_ap_id, a.payload, p.author_id,"
        " p.ap_id FROM activities a JOIN posts p ON p.id = a.post_id"
        " WHERE p.group_id = $1 ORDER BY a.id", group_id)
    assert [a["type"] for a in acts[:4]] == ["Announce", "Create", "Announce", "Create"]
    announce, create = acts[0], acts[1]
    assert create["actor_id"] == create["author_id"] and create["object_ap_id"] == create["ap_id"]
    assert announce["actor_id"] == group_id
    assert announce["object_ap_id"] == create["payload"]["id"]
    assert announce["payload"]["object"]["object"]["id"] == create["ap_id"]
    assert "@context" not in announce["payload"]["object"]
    note = create["payload"]["object"]
    assert note["type"] == "Note" and note["name"] == posts[0]["title"]
    assert note["audience"] == f"{BASE}/groups/breitband"
    assert acts[3]["payload"]["object"]["inReplyTo"] == posts[0]["ap_id"]

    # A second run reuses the seed accounts and adds on.
    assert await fedi("seed", "breitband", "--posts", "10", "--authors", "3") == 0
    assert await pool.fetchval("SELECT count(*) FROM posts WHERE group_id = $1", group_id) == 105
    assert await pool.fetchval(
        "SELECT count(*) FROM accounts WHERE username LIKE 'seed%'") == 3

    app = create_app(make_settings(data_dir=Path("/nonexistent")), dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=BASE) as client:
            page = await client.get("/groups/breitband", headers={"Accept": "text/html"})
            assert page.status_code == 200
            newest = max(roots, key=lambda p: p["last_activity_at"])
            assert newest["title"] in page.text
            outbox = (await client.get("/groups/breitband/outbox",
                                       headers={"Accept": "application/activity+json"})).json()
            # One item per thread (the group's Announce of its Create), newest first.
            threads = await pool.fetch(
                "SELECT ap_id FROM posts WHERE group_id = $1 AND parent_id IS NULL"
                " ORDER BY id DESC", group_id)
            assert outbox["totalItems"] == len(threads) > 10
            first = (await client.get("/groups/breitband/outbox?page=true",
                                      headers={"Accept": "application/activity+json"})).json()
            assert len(first["orderedItems"]) == min(20, len(threads))
            top = first["orderedItems"][0]
            assert top["type"] == "Announce" and top["object"]["type"] == "Create"
            assert top["object"]["object"]["id"] == threads[0]["ap_id"]
