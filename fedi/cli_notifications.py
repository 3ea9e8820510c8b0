"""``fedi notifications send-digests [--now]``: build the notification digests that are
due (the workers do it every few minutes; this runs it on demand)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from fedi.core.config import Settings


def register(sub: Any) -> None:
    """Added to the parser by :func:`fedi.cli.build_parser`."""
    notifications = sub.add_parser("notifications", help="notification e-mail",
                                   description="Notification e-mail and digests.")
    actions = notifications.add_subparsers(dest="notifications_command", metavar="ACTION",
                                           required=True)
    digests = actions.add_parser(
        "send-digests", help="queue the daily and weekly digests that are due",
        description="Queue the digests that are due (after 07:00 in each person's time "
                    "zone); the workers send them. A digest is never sent twice.")
    digests.add_argument("--now", action="store_true",
                         help="ignore the morning rule: send every waiting notice now")
    digests.set_defaults(handler=_send_digests)


def _send_digests(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    from fedi.core.context import Context
    from fedi.core.runtime import database, migrate_database, setup_logging
    from fedi.forum.digests import send_digests
    from storage import create_pool

    setup_logging(settings)

    async def main(dsn: str) -> int:
        await migrate_database(dsn)
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            async with httpx.AsyncClient() as http:
                ctx = Context(settings=settings, pool=pool, http=http)
                return await send_digests(ctx, now=datetime.now(UTC),
                                          ignore_morning=args.now)
        finally:
            await pool.close()

    with database(settings) as dsn:
        sent = asyncio.run(main(dsn))
    print(f"{sent} digest{'s' if sent != 1 else ''} queued")
    return 0
