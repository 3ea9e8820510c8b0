"""Add and Remove (add.py, remove.py) to a remote group's collections, by the group or
one of its moderators: ``featured`` pins and unpins a thread, ``moderators`` changes who
moderates the group."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.inbound.authority import check_authority, log_remote, post_and_group
from fedi.inbound.outcomes import Ignored, Refused
from storage import groups as group_store
from storage import moderation as moderation_store
from storage import posts as post_store
from storage.actors import Actor


async def change_collection(ctx: Context, activity: vocab.Activity, *, adding: bool) -> None:
    """Add (``adding``) or remove the activity's object to or from its ``target``."""
    target = vocab.object_id(activity.target) if activity.target else None
    async with ctx.pool.acquire() as conn:
        found = await moderation_store.group_by_collection(conn, target) if target else None
    if found is None:
        raise Ignored(f"{target} is no collection of a group known here")
    group, which = found
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    if which == "featured":
        await _pin(ctx, activity, group, moderator, adding=adding)
    else:
        await _moderator(ctx, activity, group, moderator, adding=adding)


async def _pin(ctx: Context, activity: vocab.Activity, group: Actor, moderator: Actor, *,
               adding: bool) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        post, post_group = await post_and_group(conn, activity.object_id)
        if post_group.id != group.id:
            raise Refused(f"{post.ap_id} is not in {group.handle}")
        if await post_store.set_pinned(conn, post.id, adding) is None:
            raise Ignored(f"{post.ap_id} is {'pinned' if adding else 'unpinned'} already")
        await log_remote(conn, activity, "thread_pin" if adding else "thread_unpin",
                         group=group, moderator=moderator, post=post)


async def _moderator(ctx: Context, activity: vocab.Activity, group: Actor, moderator: Actor,
                     *, adding: bool) -> None:
    if activity.object_id is None:
        raise Ignored("the activity names no actor")
    person = await resolve_actor(ctx, activity.object_id)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await group_store.get(conn, group.id) is None:
            await group_store.insert(conn, group.id)
        changed = (await group_store.add_moderator(conn, group.id, person.id) if adding
                   else await group_store.remove_moderator(conn, group.id, person.id))
        if not changed:
            raise Ignored(f"{person.handle} is {'a' if adding else 'no'} moderator already")
        await log_remote(conn, activity, "moderator_add" if adding else "moderator_remove",
                         group=group, moderator=moderator, target=person)
