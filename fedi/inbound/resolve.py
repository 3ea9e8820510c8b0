"""Resolve: Lemmy's answer to a Flag we forwarded; our copy of the report is closed."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import host_of, resolve_actor
from fedi.inbound.outcomes import Ignored, Refused
from storage import reports as report_store
from storage.inbox import InboxActivity


async def handle_resolve(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    """Lemmy's Resolve of a Flag we forwarded: our copy of the report is closed."""
    flag_id = activity.object_id
    async with ctx.pool.acquire() as conn:
        report = await report_store.by_ap_id(conn, flag_id) if flag_id else None
    if report is None or report.remote:
        raise Ignored(f"{flag_id} is no report we forwarded")
    if report.forwarded_to is None or host_of(activity.actor) != report.forwarded_to:
        raise Refused(f"{activity.actor} is not on the host the report went to")
    resolver = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        done = await report_store.resolve(
            conn, report.id, resolved_by=resolver.id,
            resolution=activity.summary or f"resolved by {resolver.handle}")
        if done is None:
            raise Ignored(f"the report {flag_id} is resolved already")
