"""What software a remote host runs (from its NodeInfo), cached in the instances table.

The fan-out asks this to pick the Announce form per follower's server. The answer is
refreshed after a day; a host whose NodeInfo cannot be read is not an error (many
small servers have none): the last known answer, or None, is returned and asked
again after an hour.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from activitypub.errors import ProtocolError
from activitypub.nodeinfo import fetch_nodeinfo
from fedi.core.context import Context
from storage import instances as instance_store

log = logging.getLogger("fedi.core.instances")

REFRESH_AFTER = timedelta(hours=24)
RETRY_FAILED_AFTER = timedelta(hours=1)


async def instance_software(
    ctx: Context, domain: str, *, now: datetime | None = None
) -> str | None:
    """The lower-cased software name of ``domain`` (host with port, as in actor
    domains), e.g. ``"mastodon"`` or ``"lemmy"``; None when unknown."""
    now = now or datetime.now(UTC)
    domain = domain.lower()
    async with ctx.pool.acquire() as conn:
        known = await instance_store.get(conn, domain)
    fetched = known.nodeinfo_fetched_at if known else None
    if known is not None and fetched is not None and now - fetched < REFRESH_AFTER:
        return known.software
    try:
        summary = await fetch_nodeinfo(
            ctx.http, domain, allow_private=ctx.settings.allow_private_addresses
        )
    except ProtocolError as exc:
        log.info("no NodeInfo from %s: %s", domain, exc.reason)
        async with ctx.pool.acquire() as conn:
            # Stamped as if fetched a little under a day ago: asked again in an hour,
            # not on every delivery, and the last good answer is kept meanwhile.
            await instance_store.touch_nodeinfo(
                conn, domain, fetched_at=now - REFRESH_AFTER + RETRY_FAILED_AFTER
            )
        return known.software if known else None
    async with ctx.pool.acquire() as conn:
        await instance_store.save_software(
            conn, domain, software=summary.software_name,
            version=summary.software_version or None, fetched_at=now,
        )
    return summary.software_name
