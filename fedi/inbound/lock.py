"""Lock of a thread in a remote group we hold a copy of, by the group or one of its
moderators (Lemmy); its Undo (undo.py) unlocks it with :func:`unlock`."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.inbound.authority import check_authority, log_remote, post_and_group
from fedi.inbound.outcomes import Ignored
from storage import posts as post_store
from storage.inbox import InboxActivity


async def handle_lock(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    await _set_locked(ctx, activity, activity.object_id, locked=True)


async def unlock(ctx: Context, activity: vocab.Activity, inner: vocab.Activity) -> None:
    """Undo(Lock): the thread ``inner`` locked is open again."""
    await _set_locked(ctx, activity, inner.object_id, locked=False)


async def _set_locked(ctx: Context, activity: vocab.Activity, object_id: str | None, *,
                      locked: bool) -> None:
    async with ctx.pool.acquire() as conn:
        post, group = await post_and_group(conn, object_id)
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await post_store.set_locked(conn, post.id, locked) is None:
            raise Ignored(f"{post.ap_id} is {'locked' if locked else 'unlocked'} already")
        await log_remote(conn, activity, "thread_lock" if locked else "thread_unlock",
                         group=group, moderator=moderator, post=post)
