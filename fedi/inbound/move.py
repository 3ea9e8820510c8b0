"""Move of a remote actor to a new address: recorded once the target confirms it, and
the actor's follows of our groups and users are handed over to the target."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.inbound.move_groups import follow_moved_group
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import follows as follow_store
from storage.inbox import InboxActivity


async def handle_move(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    """Move: the origin is the actor itself, and the target's ``alsoKnownAs`` must name
    the origin (fetched afresh from the target's host). Then the origin's follows of our
    actors become the target's, as Mastodon moves the followers of a moved account: a
    group keeps its member under the new address."""
    if activity.object_id != activity.actor:
        raise Refused(f"{activity.actor} cannot move {activity.object_id}")
    target_id = vocab.object_id(activity.target) if activity.target is not None else None
    if target_id is None:
        raise Ignored("the Move has no target")
    async with ctx.pool.acquire() as conn:
        origin = await actor_store.by_ap_id(conn, activity.actor)
    if origin is None or origin.local:
        raise Ignored(f"{activity.actor} is not a remote actor known here")
    target = await resolve_actor(ctx, target_id, refresh=True)
    if target.id == origin.id:
        raise Refused(f"{activity.actor} cannot move to itself")
    if target.local:  # one of our groups, whose admin named the origin as an alias
        aliases = tuple(target.also_known_as)
    else:
        parsed = vocab.parse(target.raw or {})
        aliases = parsed.also_known_as if isinstance(parsed, vocab.Actor) else ()
    if origin.ap_id not in aliases:
        raise Refused(f"{target_id} does not name {origin.ap_id} in alsoKnownAs")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await actor_store.set_moved(conn, origin.id, target.ap_id)
        await follow_store.move_follower(conn, origin.id, target.id)
    if origin.type == "Group" and target.type == "Group":
        # Our members of a group that moved follow the new one (inbound/move_groups.py).
        await follow_moved_group(ctx, origin, target)
