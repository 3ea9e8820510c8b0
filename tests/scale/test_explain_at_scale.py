"""Every query the hot pages and collections issue, EXPLAINed at 100,000 posts.

The posts (threads of ten, their Creates and the group's Announces) are seeded with
``storage.seed``; the app then serves the hot routes (anonymous and logged in) while every
statement it sends through asyncpg is recorded with its arguments. Each is EXPLAINed
twice with those arguments:

* as the planner chooses: a sequential scan of ``posts`` or ``activities`` (the tables
  seeded large) fails;
* with ``enable_seqscan = off``: a sequential scan that remains means no index can serve
  the query at all; it fails for every table that grows with use (on the small tables of
  a test the planner would rightly scan, so their real plans say nothing);
* as a generic plan (``EXPLAIN (GENERIC_PLAN)``, PostgreSQL 16), the plan a prepared
  statement may switch to after five executions, which knows no argument: a sequential
  scan of ``posts`` or ``activities`` fails here too.

Recording wraps asyncpg's ``Connection._execute`` (the path of every statement with
arguments) and ``Connection.execute``: a spy on the driver, not a mock of our code.
``SCALE_POSTS`` sets the number of posts (default 100,000).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from asyncpg.connection import Connection

from fedi.app import create_app
from fedi.core.context import Context
from storage.db import connect
from storage.seed import seed_posts
from tests.conftest import make_settings
from tests.support.helpers import User, make_group, make_user

POSTS = int(os.environ.get("SCALE_POSTS", "100000"))
LARGE = frozenset({"posts", "activities"})
GROWING = LARGE | {"follows", "notifications", "likes", "search_docs", "post_mentions",
                   "deliveries", "inbox_activities", "thread_reads", "modlog", "reports",
                   "event_participants", "notification_events", "mail_outbox"}
PASSWORD = "correct horse battery"  # tests.support.helpers.make_user's
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_EXPLAINABLE = ("select", "with", "update", "delete", "insert")
HTML = {"Accept": "text/html"}
AP = {"Accept": "application/activity+json"}


@dataclass
class Recorder:
    route: str | None = None
    queries: dict[str, tuple[str, tuple[Any, ...]]] = field(default_factory=dict)

    def add(self, query: str, args: tuple[Any, ...]) -> None:
        if self.route is not None and query not in self.queries:
            self.queries[query] = (self.route, args)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    execute_with_args = Connection._execute
    execute = Connection.execute

    async def _execute(self: Connection, query: str, args: Any, *rest: Any,
                       **kwargs: Any) -> Any:
        recorder.add(query, tuple(args))
        return await execute_with_args(self, query, args, *rest, **kwargs)

    async def _plain_execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:
            recorder.add(query, ())
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(Connection, "_execute", _execute)
    monkeypatch.setattr(Connection, "execute", _plain_execute)
    return recorder


@dataclass
class Scale:
    client: httpx.AsyncClient
    ctx: Context
    dsn: str
    user: User
    root_id: int
    middle_thread: tuple[str, int]
    middle_activity: int


@pytest.fixture
async def scale(dsn: str) -> AsyncIterator[Scale]:
    settings = make_settings()
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        ctx: Context = app.state.ctx
        authors = [await make_user(ctx, f"person{i}") for i in range(5)]
        reader = await make_user(ctx, "leserin")
        group = await make_group(ctx)
        async with ctx.pool.acquire() as conn:
            seeded = await seed_posts(conn, group_id=group.id,
                                      author_ids=[a.actor.id for a in authors],
                                      base_url=settings.base_url, count=POSTS)
            middle = await conn.fetchrow(
                "SELECT id, last_activity_at FROM posts WHERE parent_id IS NULL AND id > $1"
                " ORDER BY id LIMIT 1", seeded.first_id + POSTS // 2)
            activity = await conn.fetchval(
                "SELECT id FROM activities WHERE post_id = $1 AND type = 'Announce'",
                middle["id"])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=settings.base_url) as client:
            yield Scale(client, ctx, dsn, reader, seeded.first_id + POSTS - 10,
                        (middle["last_activity_at"].isoformat(), middle["id"]), activity)


def _scans(plan: Any, tables: frozenset[str]) -> list[str]:
    found: list[str] = []
    if isinstance(plan, dict):
        if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in tables:
            found.append(plan["Relation Name"])
        for value in plan.values():
            found += _scans(value, tables)
    elif isinstance(plan, list):
        for value in plan:
            found += _scans(value, tables)
    return found


async def _explain(conn: asyncpg.Connection, query: str, args: tuple[Any, ...]) -> Any:
    return await conn.fetchval("EXPLAIN (FORMAT JSON) " + query, *args)


# asyncpg sends parameters with every statement that has placeholders; a generic plan is
# asked for without values, so through PL/pgSQL's EXECUTE.
_GENERIC_PLAN = """
CREATE FUNCTION pg_temp.generic_plan(query text) RETURNS json LANGUAGE plpgsql AS $f$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (GENERIC_PLAN, FORMAT JSON) ' || query INTO plan;
    RETURN plan;
END $f$
"""


async def _generic_plan(conn: asyncpg.Connection, query: str) -> Any:
    return await conn.fetchval("SELECT pg_temp.generic_plan($1)", query)


async def _log_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    match = _CSRF.search(form.text)
    assert match, "the login page has no CSRF token"
    response = await client.post("/login", data={
        "username": username, "password": PASSWORD, "csrf_token": match.group(1)})
    assert response.status_code == 303, response.text


async def test_hot_queries_use_indexes(scale: Scale, recorder: Recorder) -> None:
    client, root = scale.client, scale.root_id
    when, thread_id = scale.middle_thread
    host = scale.ctx.settings.host
    routes: list[tuple[str, dict[str, str]]] = [
        ("/", HTML),
        ("/groups/breitband", HTML),
        (f"/groups/breitband?after={when}~{thread_id}", HTML),
        ("/groups/breitband?state=open", HTML),
        ("/groups/breitband/feed.atom", {}),
        (f"/posts/{root}", HTML),
        (f"/posts/{root}", AP),
        (f"/posts/{root}/context?page=true", AP),
        ("/groups/breitband", AP),
        ("/groups/breitband/outbox", AP),
        ("/groups/breitband/outbox?page=true", AP),
        (f"/groups/breitband/outbox?page=before-{scale.middle_activity}", AP),
        ("/groups/breitband/followers", AP),
        ("/groups/breitband/featured", AP),
        ("/users/person1", AP),
        ("/users/person1", HTML),
        ("/users/person1/outbox?page=true", AP),
        ("/users/person1/followers", AP),
        ("/users/person1/following", AP),
        ("/actor", AP),
        ("/tags/glasfaser", HTML),
        ("/search?q=Glasfaser", HTML),
        ("/api/v1/search?q=Glasfaser", {}),
        ("/api/v1/groups", {}),
        ("/api/v1/groups/breitband", {}),
        ("/api/v1/groups/breitband/threads", {}),
        (f"/api/v1/posts/{root}", {}),
        ("/nodeinfo/2.1", {}),
        ("/statistik", HTML),
        ("/statistik.csv", {}),
        ("/api/v1/statistics", {}),
        ("/api/v1/instance", {}),
        (f"/.well-known/webfinger?resource=acct:breitband@{host}", {}),
    ]
    for path, headers in routes:
        recorder.route = path
        response = await client.get(path, headers=headers)
        recorder.route = None
        assert response.status_code == 200, (path, response.status_code, response.text[:300])

    # Logged in: the same hot pages with a viewer (unread counts, follows, sessions).
    await _log_in(client, "leserin")
    bearer = {"Authorization": f"Bearer {scale.user.token}"}
    for path, headers in [("/", HTML), ("/groups/breitband", HTML), (f"/posts/{root}", HTML),
                          ("/notifications", HTML), ("/api/v1/notifications", bearer),
                          ("/api/v1/me", bearer)]:
        recorder.route = f"{path} (logged in)"
        response = await client.get(path, headers=headers)
        recorder.route = None
        assert response.status_code == 200, (path, response.status_code, response.text[:300])

    assert len(recorder.queries) > 30, "recording caught too few statements"
    failures: list[str] = []
    conn = await connect(scale.dsn)
    try:
        await conn.execute(_GENERIC_PLAN)
        for query, (route, args) in recorder.queries.items():
            if not query.lstrip().lower().startswith(_EXPLAINABLE):
                continue
            chosen = _scans(await _explain(conn, query, args), LARGE)
            async with conn.transaction():
                await conn.execute("SET LOCAL enable_seqscan = off")
                forced = _scans(await _explain(conn, query, args), GROWING)
            generic = _scans(await _generic_plan(conn, query), LARGE) if args else []
            if chosen or forced or generic:
                what = ", ".join(sorted({*(f"{t} (chosen)" for t in chosen),
                                         *(f"{t} (no index)" for t in forced),
                                         *(f"{t} (generic plan)" for t in generic)}))
                failures.append(f"{route}: Seq Scan on {what}:\n    "
                                + " ".join(query.split())[:400])
    finally:
        await conn.close()
    assert not failures, f"{len(failures)} queries scan a growing table:\n" + "\n".join(
        failures)
