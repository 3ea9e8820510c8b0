"""Moderation from the moderators of remote groups (Delete as removal, Lock, Add/Remove,
Block and their Undo): who may moderate such a group, the post and group an activity is
about, and the modlog entry that records it.

Authority: the actor is the group itself or listed in the group's moderators collection,
fetched from the group's server. Our own groups are moderated only here: such activities
about them are refused.
"""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import fetch
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import modlog as modlog_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post

REASON_MAX = 5000  # Mastodon keeps report comments up to 5,000 characters


async def moderator_ids(ctx: Context, group: Actor) -> set[str]:
    """The actors the group's moderators collection lists (one page is enough: groups
    have a handful of moderators)."""
    if not group.moderators_url:
        return set()
    doc = vocab.parse(await fetch(ctx, group.moderators_url))
    if not isinstance(doc, vocab.Collection):
        return set()
    ids = {i for i in doc.item_ids if i}
    if not ids and doc.first is not None:
        first = doc.first
        page = first if isinstance(first, vocab.Collection) else vocab.parse(
            await fetch(ctx, vocab.object_id(first) or ""))
        if isinstance(page, vocab.Collection):
            ids = {i for i in page.item_ids if i}
    return ids


async def check_authority(ctx: Context, actor_id: str, group: Actor) -> None:
    """Refused unless ``actor_id`` may moderate the remote ``group``."""
    if group.local:
        raise Refused(f"{actor_id} cannot moderate {group.handle}: a group of this instance")
    if actor_id == group.ap_id:
        return
    if actor_id not in await moderator_ids(ctx, group):
        raise Refused(f"{actor_id} is not a moderator of {group.handle}")


async def post_and_group(conn: Any, object_id: str | None) -> tuple[Post, Actor]:
    """The post an activity is about and its group; Ignored when we hold no such post."""
    post = await post_store.by_ap_id(conn, object_id) if object_id else None
    if post is None or post.group_id is None:
        raise Ignored(f"{object_id} is no post in a group known here")
    group = await actor_store.get(conn, post.group_id)
    assert group is not None
    return post, group


async def log_remote(conn: Any, activity: vocab.Activity, action: str, *, group: Actor,
                     moderator: Actor | None, post: Post | None = None,
                     target: Actor | None = None, details: dict[str, Any] | None = None
                     ) -> None:
    """Record a remote moderator's action in our modlog (the reason from ``summary``)."""
    await modlog_store.insert(
        conn, action=action, remote=True, group_id=group.id,
        moderator_id=moderator.id if moderator else None,
        target_actor_id=target.id if target else None,
        target_post_id=post.id if post else None,
        reason=(activity.summary or "")[:REASON_MAX], details=details, ap_id=activity.id)
