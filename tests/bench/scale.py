"""Flat at scale: the pages and documents others read most, at 1,000 posts and at
100,000 (and, with ``BENCH_SCALE_MAX=1000000``, at 1,000,000) posts in one group.

Each size gets its own database, seeded as ``fedi seed GROUP --posts N`` seeds it
(``storage.seed``: threads of ten, one post in ten mentioning "Glasfaser", each post
with its Create and the group's Announce), and its own dEMiSA process run as
``fedi serve`` runs it (uvicorn, uvloop, workers off; the page cache off, so the thread
page is rendered from the database every time). The small and the large instance run
side by side and are measured ALTERNATELY (small, large, small, large ...; medians), so a
busy moment of the machine hits both. Per request kind it prints both rates, the ratio and
the CPU per request of the server and of PostgreSQL (embedded server only).

The kinds: the group's outbox (first page, ActivityPub), the group page (HTML), the
newest thread page (HTML, ten posts), the search page for "Glasfaser" (HTML), the
group's actor document (ActivityPub), and the outbox and page of a quiet group of 100 posts
(the oldest rows) next to the busy one. Goal (issue 17): each at the large size >= 0.67x
its rate at 1,000 posts.

Environment: ``BENCH_SCALE_MAX`` (default 100000; 1000000 adds the 1M run, which seeds a
million posts first: minutes), ``BENCH_SCALE_ROUNDS`` (default 5),
``BENCH_SCALE_SECONDS`` (per round and instance, default 0.8),
``BENCH_SCALE_CONCURRENCY`` (default 8).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

import asyncpg
import httpx

from fedi.core.config import Settings
from fedi.core.context import Context
from storage.db import create_pool
from storage.seed import seed_posts
from tests.bench.support import (
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

SMALL = 1_000
SIZES = (100_000, 1_000_000)
MAX_POSTS = int(os.environ.get("BENCH_SCALE_MAX", "100000"))
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "5"))
SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "0.8"))
CONCURRENCY = int(os.environ.get("BENCH_SCALE_CONCURRENCY", "8"))
TARGET = 0.67
GROUP = "breitband"
# A quiet group next to the busy one: its 100 posts are the oldest rows, so a page that
# walks the newest activities or posts of the whole instance to find its own gets slower
# with every post of the busy group (the realistic case: most groups are quiet).
QUIET = "friedhof"
QUIET_POSTS = 100
AUTHORS = 5
AP = "application/activity+json"
HTML = "text/html"
# Said in the summary when the 1M run was left out.
NOT_RUN: list[str] = []


@dataclass(frozen=True)
class Kind:
    name: str
    path: str  # "{thread}" is replaced by the instance's newest thread
    accept: str


KINDS = (
    Kind("outbox page", f"/groups/{GROUP}/outbox?page=true", AP),
    Kind("group page", f"/groups/{GROUP}", HTML),
    Kind("thread page", "/posts/{thread}", HTML),
    Kind("search", "/search?q=Glasfaser", HTML),
    Kind("actor", f"/groups/{GROUP}", AP),
    Kind("quiet outbox", f"/groups/{QUIET}/outbox?page=true", AP),
    Kind("quiet group", f"/groups/{QUIET}", HTML),
)


@dataclass
class Instance:
    posts: int
    port: int
    process: BaseProcess
    thread: int
    seed_seconds: float
    database: str

    def request(self, kind: Kind) -> bytes:
        path = kind.path.replace("{thread}", str(self.thread))
        return http_request("GET", path, {"Host": f"127.0.0.1:{self.port}",
                                          "Accept": kind.accept}, b"")


@dataclass
class Sample:
    rate: float
    server_ms: float  # CPU per request
    db_ms: float


def serve_uncached(settings: Settings, dsn: str) -> None:
    """``fedi serve`` without workers, with the page cache off (scale is about queries)."""
    from fedi.app import create_app

    app = create_app(settings, dsn, run_workers=False)
    store = getattr(app.state, "page_store", None)
    if store is not None and hasattr(store, "max_bytes"):
        store.max_bytes = 0
    run_uvicorn(app, int(settings.base_url.rsplit(":", 1)[1]))


def _settings(dsn: str, port: int) -> Settings:
    return Settings(base_url=f"http://127.0.0.1:{port}", database_url=dsn,
                    data_dir=Path("/nonexistent"), allow_private_addresses=True,
                    instance_name="Benchstadt", log_level="WARNING", workers=0, demo=False)


async def _instance(server_dsn: str, posts: int) -> Instance:
    """A fresh database with ``posts`` seeded posts, and a server process on it."""
    database = f"demisa_bench_scale_{posts}"
    dsn = await create_database(server_dsn, database)
    port = free_port()
    settings = _settings(dsn, port)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    started = time.monotonic()
    try:
        async with httpx.AsyncClient() as http:
            ctx = Context(settings=settings, pool=pool, http=http)
            group = await make_group(ctx, GROUP)
            quiet = await make_group(ctx, QUIET, title="Friedhofsverwaltung")
            authors = [(await make_user(ctx, f"seed{n}")).actor.id for n in range(AUTHORS)]
        last = [started]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 10:
                last[0] = now
                print(f"  seeding: {done:,} / {total:,} posts ({now - started:.0f} s)",
                      flush=True)

        async with pool.acquire() as conn:
            await seed_posts(conn, group_id=quiet.id, author_ids=authors,
                             base_url=settings.base_url, count=QUIET_POSTS, seed=3)
            await seed_posts(conn, group_id=group.id, author_ids=authors,
                             base_url=settings.base_url, count=posts, progress=progress)
            thread = int(await conn.fetchval(
                "SELECT max(id) FROM posts WHERE parent_id IS NULL AND group_id = $1",
                group.id))
    finally:
        await pool.close()
    seconds = time.monotonic() - started
    process = start_process(serve_uncached, settings, dsn)
    wait_for_port(port, process)
    return Instance(posts, port, process, thread, seconds, database)


async def _drop(server_dsn: str, instance: Instance) -> None:
    """Stop the server and drop its database (a million posts take gigabytes)."""
    stop_process(instance.process)
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{instance.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def _load(instance: Instance, kind: Kind, count: int) -> LoadResult:
    requests = [instance.request(kind)] * count
    return await asyncio.to_thread(run_load, instance.port, requests, CONCURRENCY)


async def _sample(instance: Instance, kind: Kind, count: int,
                  db: CpuMeter) -> Sample:
    server = CpuMeter(lambda: [instance.process.pid or 0])
    server.start()
    db.start()
    result = await _load(instance, kind, count)
    server_cpu, db_cpu = server.stop(), db.stop()
    bad = {status: n for status, n in result.statuses.items() if status != 200}
    if bad:
        raise RuntimeError(f"{kind.name} at {instance.posts:,} posts answered {bad}")
    return Sample(result.requests / result.seconds, server_cpu / count * 1000,
                  db_cpu / count * 1000)


async def _count_for(instances: Sequence[Instance], kind: Kind) -> int:
    """Requests per round: about SECONDS at the slower instance's speed (warm-up round)."""
    rates = []
    for instance in instances:
        warm = await _load(instance, kind, CONCURRENCY)
        if set(warm.statuses) != {200}:
            raise RuntimeError(f"{kind.name} at {instance.posts:,} posts: {warm.statuses}")
        rates.append(warm.requests / warm.seconds)
    # Slow pages (a sequential scan at a million posts) get a few requests, not minutes.
    return max(2, int(min(rates) * SECONDS))


async def _compare(small: Instance, large: Instance, db: CpuMeter) -> list[Goal]:
    goals = []
    print(f"-- {SMALL:,} vs {large.posts:,} posts (alternating, {ROUNDS} rounds, "
          f"{CONCURRENCY} connections; CPU per request: server / PostgreSQL)", flush=True)
    for kind in KINDS:
        count = await _count_for((small, large), kind)
        samples: dict[int, list[Sample]] = {small.posts: [], large.posts: []}
        for _ in range(ROUNDS):
            for instance in (small, large):
                samples[instance.posts].append(await _sample(instance, kind, count, db))
        a = _medians(samples[small.posts])
        b = _medians(samples[large.posts])
        ratio = b.rate / a.rate if a.rate else float("inf")
        print(f"  {kind.name:12s} {a.rate:8.1f} req/s ({a.server_ms:5.2f} / {a.db_ms:5.2f} ms)"
              f"  {b.rate:8.1f} req/s ({b.server_ms:5.2f} / {b.db_ms:5.2f} ms)"
              f"  ratio {ratio:.2f}", flush=True)
        goals.append(Goal(
            f"scale: {kind.name} at {_short(large.posts)} posts vs {_short(SMALL)}",
            b.rate, a.rate, "req/s", TARGET,
            why=f"CPU per request {b.server_ms:.2f} ms server, {b.db_ms:.2f} ms PostgreSQL "
                f"at {_short(large.posts)} (vs {a.server_ms:.2f} / {a.db_ms:.2f})"))
    return goals


def _medians(samples: Sequence[Sample]) -> Sample:
    return Sample(median(s.rate for s in samples), median(s.server_ms for s in samples),
                  median(s.db_ms for s in samples))


def _short(posts: int) -> str:
    return f"{posts // 1_000_000}M" if posts >= 1_000_000 else f"{posts // 1000}k"


async def run(server_dsn: str, pgdata: Path | None) -> list[Goal]:
    print("== scale: outbox, group page, thread page, search and actor at 1k / 100k"
          f"{' / 1M' if MAX_POSTS >= 1_000_000 else ''} posts ==", flush=True)
    sizes = [size for size in SIZES if size <= MAX_POSTS]
    NOT_RUN.clear()
    NOT_RUN.extend(f"scale at {size:,} posts: not run (set BENCH_SCALE_MAX={size} to run it;"
                   " seeding takes minutes)" for size in SIZES if size > MAX_POSTS)
    db = CpuMeter(postgres_pids(pgdata))
    instances: list[Instance] = []
    goals: list[Goal] = []
    try:
        small = await _instance(server_dsn, SMALL)
        instances.append(small)
        for size in sizes:
            large = await _instance(server_dsn, size)
            instances.append(large)
            print(f"seeded {size:,} posts in {large.seed_seconds:.0f} s "
                  f"(and {SMALL:,} in {small.seed_seconds:.1f} s); load {_load_average()}",
                  flush=True)
            goals += await _compare(small, large, db)
            instances.remove(large)
            await _drop(server_dsn, large)
    finally:
        for instance in instances:
            await _drop(server_dsn, instance)
    for line in NOT_RUN:
        print(line)
    return goals


def _load_average() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())

