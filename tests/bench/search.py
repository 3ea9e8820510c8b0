"""Search over 100,000 posts: requests per second of ``GET /api/v1/search`` next to
``GET /api/v1/posts/{id}`` in the same run, on the same server process (issue 15's goal:
the search serves at least a fifth of the post lookups' rate).

Seeds the posts with COPY (tests/bench/seed.py: threads of ten, one post in ten mentions
"Glasfaser"), starts ``fedi serve``'s app under uvicorn in its own process, and drives it
from another process over keep-alive connections (tests/bench/support.py). Searches
rotate through a common term (10,000 matches: the capped window), a compound part, two
words, a rare word and a filtered query.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from fedi.app import create_app
from fedi.core.config import Settings
from fedi.core.context import Context
from tests.bench.seed import seed_posts
from tests.bench.support import (
    SPAWN,
    http_request,
    run_load,
    serve_instance,
    start_process,
    stop_process,
    wait_for_port,
)
from tests.bench.support import free_port as bench_port
from tests.support.databases import create_database
from tests.support.helpers import make_group, make_user

POSTS = int(os.environ.get("BENCH_SEARCH_POSTS", "100000"))
REQUESTS = int(os.environ.get("BENCH_SEARCH_REQUESTS", "2000"))
CONCURRENCY = 8
GOAL = 0.2
QUERIES = ("Glasfaser", "Faser", "Förderung Gemeinde", "Kläranlage Winterdienst",
           "Breitband")


def _requests(host: str, paths: list[str], count: int) -> list[bytes]:
    headers = {"Host": host, "Accept": "application/json"}
    return [http_request("GET", paths[i % len(paths)], headers, b"") for i in range(count)]


async def run(server_dsn: str) -> None:
    dsn = await create_database(server_dsn, f"demisa_bench_search_{os.getpid()}")
    port = bench_port()
    settings = Settings(base_url=f"http://127.0.0.1:{port}", database_url=dsn,
                        data_dir=Path("/nonexistent"), allow_private_addresses=True,
                        instance_name="Benchstadt", log_level="WARNING", workers=0, demo=False)
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        ctx: Context = app.state.ctx
        authors = [await make_user(ctx, f"person{i}") for i in range(5)]
        group = await make_group(ctx)
        started = time.perf_counter()
        async with ctx.pool.acquire() as conn:
            seeded = await seed_posts(conn, group_id=group.id,
                                      author_ids=[a.actor.id for a in authors],
                                      base_url=settings.base_url, count=POSTS)
        seed_s = time.perf_counter() - started
    host = f"127.0.0.1:{port}"
    post_paths = [f"/api/v1/posts/{seeded.first_id + i * 997 % POSTS}" for i in range(50)]
    search_paths = [f"/api/v1/search?{urlencode({'q': q})}" for q in QUERIES]
    search_paths.append(f"/api/v1/search?{urlencode({'q': 'Glasfaser', 'state': 'answered'})}")
    instance = start_process(serve_instance, settings, dsn, False)
    try:
        wait_for_port(port, instance)
        with ProcessPoolExecutor(1, mp_context=SPAWN) as loader:
            loader.submit(run_load, port, _requests(host, post_paths + search_paths, 100),
                          CONCURRENCY).result()  # warm-up
            posts = loader.submit(run_load, port, _requests(host, post_paths, REQUESTS),
                                  CONCURRENCY).result()
            found = loader.submit(run_load, port, _requests(host, search_paths, REQUESTS),
                                  CONCURRENCY).result()
    finally:
        stop_process(instance)
    post_rate = posts.requests / posts.seconds
    search_rate = found.requests / found.seconds
    ratio = search_rate / post_rate
    print("== search: GET /api/v1/search over seeded posts ==")
    print(f"seed: {seeded.count} posts ({seeded.keyword_posts} mention Glasfaser) "
          f"in {seed_s:.1f} s")
    print(f"{REQUESTS} requests each, {CONCURRENCY} connections:")
    print(f"  GET /api/v1/posts/{{id}}  {post_rate:8.0f} req/s  statuses {dict(posts.statuses)}")
    print(f"  GET /api/v1/search       {search_rate:8.0f} req/s  statuses {dict(found.statuses)}")
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"ratio search/post: {ratio:.2f} (goal >= {GOAL}): {verdict}")
