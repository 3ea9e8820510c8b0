"""Pages and documents people and servers read most, next to minimal programs doing the
same work (issue 17, goals for the thread page, the actor and the outbox).

A fresh database (the embedded PostgreSQL unless DATABASE_URL is set) gets a local group
with 1,000 posts in threads of ten (their Creates and the group's Announces, through
``storage.seed``) and one thread with 300 comments. Then, alternately in the same run
(minimal, ours, minimal, ours ...; medians), over keep-alive HTTP/1.1 from a load process:

- the thread page (HTML) for an anonymous reader: ours with the page cache turned off
  (every request renders) and ours as served (cached, one version check per request),
  against a minimal Starlette route rendering the same 300 comments with a Jinja2
  template from one narrow query (asyncpg);
- the group's actor document (``application/activity+json``) against a minimal route
  reading the actor and its key in one query and answering ``json.dumps``;
- the first page of the group's outbox against a minimal route reading 20 activities in
  one index-ordered query.

Servers run as ``fedi serve`` runs uvicorn (one process each). Prints req/s, CPU ms per
request of the server process and of PostgreSQL (from /proc), and the ratio; returns one
``Goal`` per goal of the issue.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedi.app import create_app
from fedi.core.config import Settings
from fedi.web.page_cache import PageStore
from storage.seed import seed_posts
from tests.bench.support import (
    SPAWN,
    CpuMeter,
    Goal,
    LoadResult,
    free_port,
    http_request,
    median,
    postgres_pids,
    run_load,
    run_uvicorn,
    start_process,
    stop_process,
    wait_for_port,
)
from tests.support.databases import create_database
from tests.support.helpers import make_group, make_user

COMMENTS = 300
OUTBOX_POSTS = 1000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = 8
GROUP = "breitband"
# Requests per round: each round takes about a second or two on this machine.
THREAD_REQUESTS = 60
CACHED_REQUESTS = 600
ACTOR_REQUESTS = 1000
OUTBOX_REQUESTS = 600

MINIMAL_TEMPLATE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
<ol class="replies">
{% for c in comments %}
<li><article class="post" id="post-{{ c.id }}">
<header><a href="/users/{{ c.username }}">{{ c.name or c.username }}</a>
<time datetime="{{ c.iso }}">{{ c.shown }}</time></header>
<div class="content">{{ c.content_html|safe }}</div>
<footer>{{ c.like_count }} Gefällt mir</footer>
</article></li>
{% endfor %}
</ol></main></body></html>
"""
MONTHS = ("Januar Februar März April Mai Juni Juli August September Oktober November"
          " Dezember").split()


# -- the minimal programs ------------------------------------------------------------------

def serve_minimal(dsn: str, port: int, base_url: str) -> None:
    """The baseline: one Starlette app, one asyncpg pool, one query per request."""
    import asyncpg
    from jinja2 import Environment, select_autoescape
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from fedi.core.i18n import TIME_ZONE

    template = Environment(autoescape=select_autoescape(default_for_string=True)
                           ).from_string(MINIMAL_TEMPLATE)
    pool: Any = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool

        async def init(conn: Any) -> None:
            await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                      schema="pg_catalog")

        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10, init=init)
        yield
        await pool.close()

    async def thread(request: Request) -> Response:
        rows = await pool.fetch(
            "SELECT p.id, p.title, p.content_html, p.published, p.like_count, a.name,"
            " a.username FROM posts p JOIN actors a ON a.id = p.author_id"
            " WHERE p.thread_id = $1 ORDER BY (p.parent_id IS NOT NULL), p.id",
            int(request.path_params["id"]))
        comments = []
        for r in rows:
            local = r["published"].astimezone(TIME_ZONE)
            comments.append({
                "id": r["id"], "content_html": r["content_html"], "like_count": r["like_count"],
                "name": r["name"], "username": r["username"],
                "iso": r["published"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "shown": f"{local.day}. {MONTHS[local.month - 1]} {local.year},"
                         f" {local.hour:02d}:{local.minute:02d}"})
        return HTMLResponse(template.render(title=rows[0]["title"], comments=comments))

    async def actor(request: Request) -> Response:
        r = await pool.fetchrow(
            "SELECT a.*, k.ed25519_public_multibase FROM actors a"
            " LEFT JOIN actor_keys k ON k.actor_id = a.id WHERE a.ap_id = $1",
            f"{base_url}/groups/{request.path_params['name']}")
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams",
                         "https://w3id.org/security/v1"],
            "id": r["ap_id"], "type": r["type"], "preferredUsername": r["username"],
            "name": r["name"], "summary": r["summary"], "inbox": r["inbox"],
            "outbox": r["outbox"], "followers": r["followers_url"],
            "featured": r["featured_url"], "url": r["url"] or r["ap_id"],
            "endpoints": {"sharedInbox": r["shared_inbox"]},
            "publicKey": {"id": r["public_key_id"], "owner": r["ap_id"],
                          "publicKeyPem": r["public_key_pem"]},
            "assertionMethod": [{"id": f"{r['ap_id']}#ed25519-key", "type": "Multikey",
                                 "controller": r["ap_id"],
                                 "publicKeyMultibase": r["ed25519_public_multibase"]}],
        }
        return Response(json.dumps(document), media_type="application/activity+json")

    async def outbox(request: Request) -> Response:
        url = f"{base_url}/groups/{request.path_params['name']}"
        rows = await pool.fetch(
            "SELECT a.id, a.payload FROM activities a"
            " WHERE a.actor_id = (SELECT id FROM actors WHERE ap_id = $1)"
            " AND a.type = 'Announce' AND a.public ORDER BY a.id DESC LIMIT 21", url)
        page = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{url}/outbox?page=true", "type": "OrderedCollectionPage",
            "partOf": f"{url}/outbox", "orderedItems": [r["payload"] for r in rows[:20]],
        }
        if len(rows) > 20:
            page["next"] = f"{url}/outbox?page=true&max_id={rows[19]['id']}"
        return Response(json.dumps(page), media_type="application/activity+json")

    app = Starlette(routes=[Route("/thread/{id:int}", thread), Route("/actor/{name}", actor),
                            Route("/outbox/{name}", outbox)], lifespan=lifespan)
    run_uvicorn(app, port)


def serve_uncached(settings: Settings, dsn: str, port: int) -> None:
    """Ours with the page cache off: every thread page is rendered."""
    app = create_app(settings, dsn, run_workers=False)
    app.state.page_store = PageStore(max_bytes=0)
    run_uvicorn(app, port)


def serve_ours(settings: Settings, dsn: str, port: int) -> None:
    run_uvicorn(create_app(settings, dsn, run_workers=False), port)


# -- setup -----------------------------------------------------------------------------------

async def _prepare(server_dsn: str, base_url: str) -> tuple[str, int]:
    """A database with the group, its outbox and the 300-comment thread; (dsn, thread id)."""
    dsn = await create_database(server_dsn, f"demisa_bench_pages_{os.getpid()}")
    settings = _settings(base_url, dsn)
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        authors = [await make_user(ctx, f"person{n}") for n in range(8)]
        group = await make_group(ctx, GROUP)
        ids = [a.actor.id for a in authors]
        async with ctx.pool.acquire() as conn:
            await seed_posts(conn, group_id=group.id, author_ids=ids, base_url=base_url,
                             count=OUTBOX_POSTS, thread_size=10)
            seeded = await seed_posts(conn, group_id=group.id, author_ids=ids,
                                      base_url=base_url, count=COMMENTS + 1,
                                      thread_size=COMMENTS + 1, seed=17)
            await conn.execute("ANALYZE")
    return dsn, seeded.first_id


def _settings(base_url: str, dsn: str) -> Settings:
    return Settings(base_url=base_url, database_url=dsn, data_dir=Path("/nonexistent"),
                    allow_private_addresses=True, instance_name="Benchstadt",
                    log_level="WARNING", workers=0, demo=False)


def _get(port: int, path: str, accept: str, count: int) -> list[bytes]:
    request = http_request("GET", path, {"Host": f"127.0.0.1:{port}", "Accept": accept,
                                         "Accept-Language": "de"}, b"")
    return [request] * count


# -- measuring -------------------------------------------------------------------------------

@dataclass
class Run:
    load: LoadResult
    server_cpu: float
    db_cpu: float

    @property
    def rate(self) -> float:
        return self.load.requests / self.load.seconds


@dataclass
class Target:
    name: str
    port: int
    requests: list[bytes]
    cpu: CpuMeter
    runs: list[Run]


def _measure(loader: ProcessPoolExecutor, target: Target, db: CpuMeter,
             keep: bool = True) -> None:
    target.cpu.start()
    db.start()
    load = loader.submit(run_load, target.port, target.requests, CONCURRENCY).result()
    run = Run(load, target.cpu.stop(), db.stop())
    if keep:
        target.runs.append(run)


def _row(target: Target, with_db: bool) -> str:
    total = sum(r.load.requests for r in target.runs)
    server_ms = sum(r.server_cpu for r in target.runs) / total * 1000
    db_ms = (f"{sum(r.db_cpu for r in target.runs) / total * 1000:8.3f}" if with_db
             else "       -")
    statuses = dict(sum((r.load.statuses for r in target.runs), Counter()))
    return (f"  {target.name:<38} {median(r.rate for r in target.runs):9.1f}"
            f"  {server_ms:9.3f}  {db_ms}  {statuses}")


def _check_page(port: int, path: str, accept: str) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
    return body


async def run(server_dsn: str, pgdata: Path | None) -> list[Goal]:
    port, uncached_port, minimal_port = free_port(), free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    dsn, thread_id = await _prepare(server_dsn, base_url)
    settings = _settings(base_url, dsn)
    html, ap = "text/html", "application/activity+json"
    ours = start_process(serve_ours, settings, dsn, port)
    uncached = start_process(serve_uncached, settings, dsn, uncached_port)
    minimal = start_process(serve_minimal, dsn, minimal_port, base_url)
    try:
        for process, p in ((ours, port), (uncached, uncached_port), (minimal, minimal_port)):
            wait_for_port(p, process)
        ours_page = _check_page(port, f"/posts/{thread_id}", html)
        minimal_page = _check_page(minimal_port, f"/thread/{thread_id}", html)
        shown = ours_page.count(b'class="post" id="post-')
        assert shown == COMMENTS + 1, f"our thread page shows {shown} posts"
        assert minimal_page.count(b'class="post" id="post-') == COMMENTS + 1
        outbox = json.loads(_check_page(port, f"/groups/{GROUP}/outbox?page=true", ap))
        assert len(outbox["orderedItems"]) == 20, outbox
        db = CpuMeter(postgres_pids(pgdata))

        def cpu_of(process: Any) -> CpuMeter:
            return CpuMeter(lambda: [process.pid or 0])

        pairs = [
            (Target("minimal thread template", minimal_port,
                    _get(minimal_port, f"/thread/{thread_id}", html, THREAD_REQUESTS),
                    cpu_of(minimal), []),
             Target("dEMiSA thread page, uncached", uncached_port,
                    _get(uncached_port, f"/posts/{thread_id}", html, THREAD_REQUESTS),
                    cpu_of(uncached), [])),
            (Target("minimal thread template (again)", minimal_port,
                    _get(minimal_port, f"/thread/{thread_id}", html, THREAD_REQUESTS),
                    cpu_of(minimal), []),
             Target("dEMiSA thread page, anonymous, cached", port,
                    _get(port, f"/posts/{thread_id}", html, CACHED_REQUESTS),
                    cpu_of(ours), [])),
            (Target("minimal actor route", minimal_port,
                    _get(minimal_port, f"/actor/{GROUP}", ap, ACTOR_REQUESTS),
                    cpu_of(minimal), []),
             Target("dEMiSA group actor", port,
                    _get(port, f"/groups/{GROUP}", ap, ACTOR_REQUESTS), cpu_of(ours), [])),
            (Target("minimal outbox page route", minimal_port,
                    _get(minimal_port, f"/outbox/{GROUP}", ap, OUTBOX_REQUESTS),
                    cpu_of(minimal), []),
             Target("dEMiSA group outbox, first page", port,
                    _get(port, f"/groups/{GROUP}/outbox?page=true", ap, OUTBOX_REQUESTS),
                    cpu_of(ours), [])),
        ]
        with ProcessPoolExecutor(1, mp_context=SPAWN) as loader:
            for baseline, dut in pairs:
                _measure(loader, baseline, db, keep=False)  # warm-up
                _measure(loader, dut, db, keep=False)
                for _ in range(ROUNDS):  # alternating: the machine's noise hits both
                    _measure(loader, baseline, db)
                    _measure(loader, dut, db)
    finally:
        for process in (ours, uncached, minimal):
            stop_process(process)

    with_db = pgdata is not None
    print(f"== pages: thread with {COMMENTS} comments, actor, outbox ==")
    print(f"{CONCURRENCY} keep-alive connections, median of {ROUNDS} rounds after a warm-up,"
          " alternating with the minimal route; CPU ms per request from /proc;"
          f" load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"  {'':<38} {'req/s':>9}  {'server ms':>9}  {'PG ms':>8}  statuses")
    goals = []
    wanted = {
        "dEMiSA thread page, uncached":
            ("thread page (300 comments), uncached", 0.5,
             "rendering 300 posts in Jinja2 with the forum's markup is the server's CPU"),
        "dEMiSA thread page, anonymous, cached":
            ("thread page (300 comments), anonymous, cached", 5.0,
             "the version check's round trip and uvicorn's per-request cost"),
        "dEMiSA group actor": ("actor JSON", 0.6,
                               "building the document and the JSON response in Python"),
        "dEMiSA group outbox, first page":
            ("outbox page", 0.5, "PostgreSQL time of the page query (see PG ms: it"
             " filters the group's activities with jsonb_typeof row by row)"),
    }
    for baseline, dut in pairs:
        print(_row(baseline, with_db))
        print(_row(dut, with_db))
        ours_rate = median(r.rate for r in dut.runs)
        base_rate = median(r.rate for r in baseline.runs)
        cpu = [sum(r.server_cpu + r.db_cpu for r in t.runs) / sum(r.load.requests for r in t.runs)
               for t in (baseline, dut)]
        print(f"  ratio {ours_rate / base_rate:.2f} (CPU per request, server + PostgreSQL:"
              f" {cpu[0] / cpu[1] if cpu[1] else 0:.2f} of the minimal's speed)")
        bad = [s for s in sum((r.load.statuses for r in dut.runs + baseline.runs), Counter())
               if s != 200]
        name, target, why = wanted[dut.name]
        goals.append(Goal(name, ours_rate, base_rate, "req/s", target,
                          why=f"answers other than 200: {bad}" if bad else why))
    return goals
