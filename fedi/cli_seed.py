"""``fedi seed GROUP --posts N``: fill a local group with many posts, to try the server
(and benchmark it) at scale.

The group must exist (``fedi group create``): its title, language and moderators are the
operator's to choose, and a typo should not make a new group. The authors are a handful
of local accounts ``seed1`` ... ``seedK``, created on the first run (with a random
password nobody knows; an admin can reset it) and reused afterwards. The posts and their
activities go in through ``storage.seed`` (COPY and one INSERT ... SELECT per chunk).
Nothing is delivered and nobody is notified: seeded posts are not news.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from typing import Any

from fedi.core.config import Settings

SEED_EMAIL_DOMAIN = "seed.example.org"


def register(sub: Any) -> None:
    """Added to the parser by :func:`fedi.cli.build_parser`."""
    seed = sub.add_parser(
        "seed", help="fill a local group with many posts (for trying the server at scale)",
        description="Add N posts to the local group GROUP, in threads of ten (an opening "
                    "post and nine replies), one post in ten mentioning 'Glasfaser', with "
                    "their Create and Announce activities, by the local accounts seed1 ... "
                    "seedK (created when missing). Nothing is delivered or notified. "
                    "The group must exist: create it with `fedi group create`.",
    )
    seed.add_argument("group", help="name of a local group")
    seed.add_argument("--posts", type=int, required=True, help="how many posts to add")
    seed.add_argument("--authors", type=int, default=5,
                      help="how many seed accounts write them (default 5)")
    seed.set_defaults(handler=_seed)


def _fail(message: str) -> int:
    print(f"fedi: {message}", file=sys.stderr)
    return 1


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    from fedi.core.runtime import database, migrate_database

    if args.posts < 1:
        return _fail("--posts must be at least 1")
    if not 1 <= args.authors <= 100:
        return _fail("--authors must be between 1 and 100")
    with database(settings) as dsn:
        asyncio.run(migrate_database(dsn))
        return asyncio.run(_seed_async(args, settings, dsn))


async def _seed_async(args: argparse.Namespace, settings: Settings, dsn: str) -> int:
    import httpx

    from fedi.core.context import Context
    from fedi.core.errors import AppError
    from fedi.federation.documents import CONTEXT
    from fedi.forum.accounts import create_account
    from storage import actors as actor_store
    from storage import create_pool
    from storage.seed import seed_posts

    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with httpx.AsyncClient() as http, pool.acquire() as conn:
            ctx = Context(settings=settings, pool=pool, http=http)
            name = args.group.strip().lstrip("!")
            group = await actor_store.local_by_name(conn, name, "Group")
            if group is None:
                return _fail(f"no local group named {name!r}; create it first, e.g. "
                             f"`fedi group create {name} --title 'Test group'`")
            authors = []
            for i in range(1, args.authors + 1):
                username = f"seed{i}"
                actor = await actor_store.local_by_name(conn, username, "Person")
                if actor is None:
                    try:
                        account = await create_account(
                            conn, ctx, username=username,
                            email=f"{username}@{SEED_EMAIL_DOMAIN}",
                            password=secrets.token_urlsafe(24),
                            display_name=f"Seed {i}")
                    except AppError as exc:
                        return _fail(f"cannot create the seed account {username!r}: "
                                     f"{exc.message}")
                    actor = await actor_store.get(conn, account.actor_id)
                    assert actor is not None
                authors.append(actor.id)
            started = time.monotonic()
            last = [started]

            def progress(done: int, total: int) -> None:
                now = time.monotonic()
                if now - last[0] >= 5 or done == total:
                    last[0] = now
                    print(f"  {done:,} / {total:,} posts ({now - started:.0f} s)", flush=True)

            seeded = await seed_posts(conn, group_id=group.id, author_ids=authors,
                                      base_url=settings.base_url, count=args.posts,
                                      context=CONTEXT, progress=progress)
    finally:
        await pool.close()
    print(f"seeded {seeded.count:,} posts in {seeded.threads:,} threads "
          f"({seeded.keyword_posts:,} mention Glasfaser, {seeded.activities:,} activities) "
          f"into !{group.username}@{settings.host} in {time.monotonic() - started:.0f} s")
    return 0
