"""Page rendering: how fast the web forum renders a thread with 500 replies.

Builds a fresh database (the embedded PostgreSQL unless DATABASE_URL is set), writes a
thread with 500 replies through the domain services (a reply tree, each reply to a random
earlier post), and times GET /posts/{id} over the ASGI transport: the median of N runs,
next to baselines measured in the same run (the start page and a 10-reply thread), so the
figures compare across machines. The target is under a second; this reports, it does not
assert.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path

import httpx

from fedi.app import create_app
from fedi.core.config import Settings
from fedi.core.context import Context
from fedi.forum import posts as post_service
from fedi.forum.accounts import issue_token
from fedi.web.session import SESSION_COOKIE
from tests.support.databases import create_database
from tests.support.helpers import make_group, make_user

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
WARMUP = 3
BIG = 500
SMALL = 10
TARGET_MS = 1000.0


async def _fresh_database(server_dsn: str) -> str:
    return await create_database(server_dsn, f"demisa_bench_{os.getpid()}")


async def _thread(ctx: Context, author: object, group: object, replies: int,
                  rng: random.Random) -> int:
    thread = await post_service.create_thread(ctx, author=author, group=group,  # type: ignore[arg-type]
                                              title=f"Thema mit {replies} Antworten",
                                              content="Worum es geht: **Glasfaser** für alle.")
    posts = [thread]
    for n in range(replies):
        parent = rng.choice(posts)
        posts.append(await post_service.create_reply(
            ctx, author=author, parent=parent,  # type: ignore[arg-type]
            content=f"Antwort {n}: Das sehe ich *anders*, siehe https://example.org/{n}."))
    return thread.id


async def _median_ms(client: httpx.AsyncClient, path: str) -> tuple[float, int]:
    size = 0
    for _ in range(WARMUP):
        response = await client.get(path, headers={"Accept": "text/html"})
        response.raise_for_status()
        size = len(response.content)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await client.get(path, headers={"Accept": "text/html"})
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(times), size


async def run(server_dsn: str) -> None:
    dsn = await _fresh_database(server_dsn)
    settings = Settings(base_url="http://127.0.0.1:8000", database_url=dsn,
                        data_dir=Path("/nonexistent"), allow_private_addresses=True,
                        instance_name="Benchstadt", log_level="WARNING", workers=0, demo=False)
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        ctx: Context = app.state.ctx
        user = await make_user(ctx, "bench")
        group = await make_group(ctx)
        rng = random.Random(7)
        started = time.perf_counter()
        small = await _thread(ctx, user.actor, group, SMALL, rng)
        big = await _thread(ctx, user.actor, group, BIG, rng)
        setup_s = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            start_ms, start_size = await _median_ms(client, "/")
            small_ms, small_size = await _median_ms(client, f"/posts/{small}")
            big_ms, big_size = await _median_ms(client, f"/posts/{big}")
            # Logged in, every post carries its like, reply, edit and delete controls.
            async with ctx.pool.acquire() as conn:
                token = await issue_token(conn, user.account, "bench", kind="session")
            client.cookies.set(SESSION_COOKIE, token)
            member_ms, member_size = await _median_ms(client, f"/posts/{big}")
    print("== pages: a thread with 500 replies ==")
    print(f"setup: {SMALL + BIG + 2} posts written through the services in {setup_s:.1f} s")
    print(f"median of {RUNS} runs (after {WARMUP} warm-up), GET over the ASGI transport:")
    print(f"  start page                 {start_ms:8.1f} ms  {start_size / 1024:7.0f} KiB")
    print(f"  thread with {SMALL:3d} replies    {small_ms:8.1f} ms  {small_size / 1024:7.0f} KiB")
    print(f"  thread with {BIG:3d} replies    {big_ms:8.1f} ms  {big_size / 1024:7.0f} KiB")
    print(f"  same, logged in as author  {member_ms:8.1f} ms  {member_size / 1024:7.0f} KiB")
    print(f"ratios: {BIG}-reply thread = {big_ms / start_ms:.1f} x start page"
          f" = {big_ms / small_ms:.1f} x {SMALL}-reply thread")
    worst = max(big_ms, member_ms)
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"target: {BIG} replies under {TARGET_MS:.0f} ms: {verdict} ({worst:.0f} ms)")
