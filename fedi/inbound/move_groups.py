"""A remote group that moved (FEP-7628): our members follow it at its new address.

Called by fedi/inbound/move.py once the Move is verified (the target's ``alsoKnownAs``
names the origin, fetched afresh). Each local member of the old group gets a Follow of
the new group and an Undo(Follow) of the old one, in their own name, as Mastodon moves
the follows of a moved account. When the new group is one of ours, it followed the old
one since its admin named it as an alias (fedi/forum/group_move.py): the old group's
posts stored here (backfilled, then announced) are handed over to it, and it stops
following. A replayed Move finds no member left to move: nothing changes.
"""

from __future__ import annotations

import logging

from fedi.core.context import Context
from fedi.core.errors import AppError
from fedi.forum.groups import find_group
from fedi.forum.remote_groups import follow_group, unfollow_group
from storage import follows as follow_store
from storage import group_moves as move_store
from storage.actors import Actor

log = logging.getLogger("fedi.inbound.move_groups")


async def follow_moved_group(ctx: Context, origin: Actor, target: Actor) -> int:
    """Our members of ``origin`` follow ``target`` instead; the number moved."""
    async with ctx.pool.acquire() as conn:
        members = [a for a in await follow_store.followers(conn, origin.id,
                                                           accepted_only=False) if a.local]
        heir = await move_store.local_heir(conn, origin.id) if target.local else None
        if heir is not None and heir.id == target.id:
            # The history comes along (threads keep their ids on the old host).
            adopted = await move_store.adopt_posts(conn, origin.id, heir.id)
            log.info("%s took over %d posts of %s", heir.handle, adopted, origin.handle)
    group = await find_group(ctx, target.ap_id) if members else target
    moved = 0
    for member in members:
        if member.id != target.id:
            try:
                await follow_group(ctx, user=member, group=group)
            except AppError as exc:  # the new group's rules refuse them: they stay behind
                log.info("%s does not follow %s: %s", member.handle, group.handle, exc)
                continue
        await unfollow_group(ctx, user=member, group=origin)
        moved += 1
    return moved
