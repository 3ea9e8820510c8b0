"""Moderation activities from other instances, in every dialect we know.

From the moderators of remote groups (about content and members of those groups that we
hold copies of): Lemmy's removal (``Delete`` by a moderator or the group, ``summary`` =
reason) and its ``Undo``; ``Lock``/``Undo(Lock)``; ``Add``/``Remove`` to the group's
``featured`` or ``moderators`` collection; ``Block`` with ``target`` = the group (expiry
from ``endTime`` or ``expires``, Lemmy's ``removeData``) and ``Undo(Block)``. A site ban
(``Block`` with ``target`` = an instance's site actor) is recorded, and its
``removeData`` hides the actor's posts in that instance's groups. Authority:
the actor is the group itself or listed in the group's moderators collection, fetched
from the group's server. Our own groups are moderated only here: such activities about
them are refused.

Reports: ``Flag`` in Mastodon's shape (instance actor, ``object`` = accounts and posts,
``content``) and Lemmy's (``to`` the group, one object, ``summary``) become reports for
our moderators; ``Resolve`` of a Flag we forwarded closes our copy. A Mastodon user's
``Block`` of one of our actors (no ``target``) ends the follows between them.
"""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.remote import fetch, host_of, resolve_actor
from fedi.inbound import delete as author_delete
from fedi.inbound.common import local_actor, sender_of
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import follows as follow_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage import modlog as modlog_store
from storage import posts as post_store
from storage import reports as report_store
from storage.actors import Actor
from storage.inbox import InboxActivity
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


async def _post_and_group(conn: Any, object_id: str | None) -> tuple[Post, Actor]:
    post = await post_store.by_ap_id(conn, object_id) if object_id else None
    if post is None or post.group_id is None:
        raise Ignored(f"{object_id} is no post in a group known here")
    group = await actor_store.get(conn, post.group_id)
    assert group is not None
    return post, group


async def _remote_log(conn: Any, activity: vocab.Activity, action: str, *, group: Actor,
                      moderator: Actor | None, post: Post | None = None,
                      target: Actor | None = None, details: dict[str, Any] | None = None
                      ) -> None:
    await modlog_store.insert(
        conn, action=action, remote=True, group_id=group.id,
        moderator_id=moderator.id if moderator else None,
        target_actor_id=target.id if target else None,
        target_post_id=post.id if post else None,
        reason=(activity.summary or "")[:REASON_MAX], details=details, ap_id=activity.id)


# --- posts --------------------------------------------------------------------------------

async def handle_delete(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    """A Delete by someone other than the post's author is a moderator's removal (Lemmy);
    everything else is the author's delete (inbound/delete.py)."""
    object_id = activity.object_id
    if object_id is not None and object_id != activity.actor:
        async with ctx.pool.acquire() as conn:
            post = await post_store.by_ap_id(conn, object_id)
            author = await actor_store.get(conn, post.author_id) if post else None
            group = await actor_store.get(conn, post.group_id) if post and post.group_id \
                else None
        if (post is not None and author is not None and author.ap_id != activity.actor
                and group is not None and not group.local):
            await _set_removed(ctx, activity, post, group, removed=True)
            return
    if row is None:
        raise Ignored("not a moderator's removal")
    await author_delete.handle_delete(ctx, activity, row)


async def _set_removed(ctx: Context, activity: vocab.Activity, post: Post, group: Actor, *,
                       removed: bool) -> None:
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        changed = (await post_store.set_removed(conn, post.id, reason=activity.summary or "")
                   if removed else await post_store.set_restored(conn, post.id))
        if changed is None:
            raise Ignored(f"{post.ap_id} is {'removed' if removed else 'visible'} already")
        author = await actor_store.get(conn, post.author_id)
        await _remote_log(conn, activity, "post_remove" if removed else "post_restore",
                          group=group, moderator=moderator, post=post, target=author)


async def handle_lock(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    await _set_locked(ctx, activity, activity.object_id, locked=True)


async def _set_locked(ctx: Context, activity: vocab.Activity, object_id: str | None, *,
                      locked: bool) -> None:
    async with ctx.pool.acquire() as conn:
        post, group = await _post_and_group(conn, object_id)
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await post_store.set_locked(conn, post.id, locked) is None:
            raise Ignored(f"{post.ap_id} is {'locked' if locked else 'unlocked'} already")
        await _remote_log(conn, activity, "thread_lock" if locked else "thread_unlock",
                          group=group, moderator=moderator, post=post)


async def handle_add_remove(ctx: Context, activity: vocab.Activity,
                            row: InboxActivity | None) -> None:
    """Add/Remove to a group's featured collection (pin) or moderators collection."""
    target = vocab.object_id(activity.target) if activity.target else None
    async with ctx.pool.acquire() as conn:
        found = await moderation_store.group_by_collection(conn, target) if target else None
    if found is None:
        raise Ignored(f"{target} is no collection of a group known here")
    group, which = found
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    adding = activity.type == "Add"
    if which == "featured":
        async with ctx.pool.acquire() as conn, conn.transaction():
            post, post_group = await _post_and_group(conn, activity.object_id)
            if post_group.id != group.id:
                raise Refused(f"{post.ap_id} is not in {group.handle}")
            if await post_store.set_pinned(conn, post.id, adding) is None:
                raise Ignored(f"{post.ap_id} is {'pinned' if adding else 'unpinned'} already")
            await _remote_log(conn, activity, "thread_pin" if adding else "thread_unpin",
                              group=group, moderator=moderator, post=post)
        return
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
        await _remote_log(conn, activity, "moderator_add" if adding else "moderator_remove",
                          group=group, moderator=moderator, target=person)


# --- bans ---------------------------------------------------------------------------------

async def handle_block(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    target_id = vocab.object_id(activity.target) if activity.target else None
    object_id = activity.object_id
    if object_id is None:
        raise Ignored("the Block names no actor")
    if target_id is None:
        await _personal_block(ctx, activity, object_id)
        return
    async with ctx.pool.acquire() as conn:
        group = await actor_store.by_ap_id(conn, target_id)
    if group is None or group.type != "Group":
        await _site_ban(ctx, activity, target_id, object_id, known=group)
        return
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    banned = await _actor(ctx, object_id)
    expires = activity.end_time or activity.expires
    remove_content = activity.raw.get("removeData") is True
    async with ctx.pool.acquire() as conn, conn.transaction():
        if activity.id and await moderation_store.ban_by_ap_id(conn, activity.id):
            raise Ignored(f"the ban {activity.id} is recorded already")
        if await group_store.get(conn, group.id) is None:
            await group_store.insert(conn, group.id)
        ban = await moderation_store.ban(
            conn, actor_id=banned.id, group_id=group.id, reason=activity.summary or "",
            expires_at=expires, remove_content=remove_content, ap_id=activity.id,
            created_by=moderator.id)
        removed = []
        if remove_content:
            removed = await moderation_store.remove_posts_of(
                conn, banned.id, group.id, reason=activity.summary or "banned")
        await _remote_log(conn, activity, "ban", group=group, moderator=moderator,
                          target=banned, details={
                              "ban_id": ban.id, "remove_content": remove_content,
                              "expires_at": expires.isoformat() if expires else None,
                              "removed_posts": len(removed)})


SITE_TYPES = frozenset({"Application", "Service", "Organization"})


async def _site_ban(ctx: Context, activity: vocab.Activity, site_id: str, object_id: str,
                    *, known: Actor | None) -> None:
    """Lemmy's site ban: a Block whose ``target`` is an instance's site actor, by an
    admin of that instance (Lemmy's check: the actor is on the site's host). It bans
    there, not here: that instance's admins do not govern our groups, even when the
    banned actor is one of theirs. We record it in the modlog, and with ``removeData``
    hide the actor's posts in that instance's groups we hold copies of, as there."""
    host = host_of(site_id)
    if host_of(activity.actor) != host:
        raise Refused(f"{activity.actor} cannot ban anyone on {host}: another host")
    site_type = known.type if known is not None else (await fetch(ctx, site_id)).get("type")
    if site_type == "Group":
        raise Ignored(f"{site_id} is no group known here")
    if site_type not in SITE_TYPES:
        raise Ignored(f"the Block's target {site_id} is a {site_type}, neither a group nor "
                      "an instance")
    admin = await resolve_actor(ctx, activity.actor)
    banned = await _actor(ctx, object_id)
    expires = activity.end_time or activity.expires
    remove_content = activity.raw.get("removeData") is True
    reason = (activity.summary or "")[:REASON_MAX]
    async with ctx.pool.acquire() as conn, conn.transaction():
        if activity.id and await modlog_store.by_ap_id(conn, activity.id, "ban"):
            raise Ignored(f"the ban {activity.id} is recorded already")
        removed: list[int] = []
        if remove_content:
            removed = await moderation_store.remove_posts_in_groups_on(
                conn, banned.id, host, reason=reason or "banned")
        await modlog_store.insert(
            conn, action="ban", remote=True, moderator_id=admin.id,
            target_actor_id=banned.id, target_domain=host, reason=reason, ap_id=activity.id,
            details={"scope": "instance", "remove_content": remove_content,
                     "expires_at": expires.isoformat() if expires else None,
                     "removed_posts": len(removed)})


async def _site_unban(ctx: Context, activity: vocab.Activity, inner_id: str) -> None:
    """Undo of a site ban we recorded: recorded too (posts it hid stay hidden, as in
    Lemmy, whose Undo restores nothing)."""
    async with ctx.pool.acquire() as conn:
        entry = await modlog_store.by_ap_id(conn, inner_id, "ban")
    if entry is None or entry.group_id is not None or not entry.remote:
        raise Ignored(f"the ban {inner_id} is not known here")
    if host_of(activity.actor) != entry.target_domain:
        raise Refused(f"{activity.actor} cannot lift a ban on {entry.target_domain}")
    admin = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if activity.id and await modlog_store.by_ap_id(conn, activity.id, "unban"):
            raise Ignored(f"the Undo {activity.id} is recorded already")
        await modlog_store.insert(
            conn, action="unban", remote=True, moderator_id=admin.id,
            target_actor_id=entry.target_actor_id, target_domain=entry.target_domain,
            ap_id=activity.id, details={"scope": "instance", "ban_ap_id": inner_id})


async def _actor(ctx: Context, ap_id: str) -> Actor:
    async with ctx.pool.acquire() as conn:
        known = await actor_store.by_ap_id(conn, ap_id)
    if known is not None and known.local:
        return known
    return await resolve_actor(ctx, ap_id)


async def _personal_block(ctx: Context, activity: vocab.Activity, object_id: str) -> None:
    """Someone blocked one of our actors: stop addressing them (Mastodon's advice)."""
    blocker = await sender_of(ctx, activity)
    async with ctx.pool.acquire() as conn, conn.transaction():
        blocked = await local_actor(conn, object_id)
        if blocked is None:
            raise Ignored(f"{object_id} is not an actor of this instance")
        await follow_store.delete(conn, blocker.id, blocked.id)
        await follow_store.delete(conn, blocked.id, blocker.id)


async def handle_undo(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    """Undo of a Block (ban lifted), Lock (unlocked) or removal Delete (restored)."""
    inner = activity.object
    if not isinstance(inner, vocab.Activity):
        raise Ignored("the Undo does not embed what it undoes")
    try:
        await _undo(ctx, activity, inner)
    except Ignored as exc:  # Refused stays Refused: say what was undone
        raise type(exc)(f"Undo of a {inner.type}: {exc.reason}") from None


async def _undo(ctx: Context, activity: vocab.Activity, inner: vocab.Activity) -> None:
    if inner.type == "Lock":
        await _set_locked(ctx, activity, inner.object_id, locked=False)
    elif inner.type == "Delete":
        async with ctx.pool.acquire() as conn:
            post, group = await _post_and_group(conn, inner.object_id)
            author = await actor_store.get(conn, post.author_id)
        if author is not None and author.ap_id == inner.actor:
            raise Ignored("an author's undelete is not supported")
        await _set_removed(ctx, activity, post, group, removed=False)
    elif inner.type == "Block":
        await _unblock(ctx, activity, inner)
    else:
        raise Ignored(f"an Undo of a {inner.type} is not supported")


async def _unblock(ctx: Context, activity: vocab.Activity, inner: vocab.Activity) -> None:
    async with ctx.pool.acquire() as conn:
        ban = await moderation_store.ban_by_ap_id(conn, inner.id) if inner.id else None
    if ban is None and inner.id:
        await _site_unban(ctx, activity, inner.id)
        return
    if ban is None or ban.group_id is None:
        raise Ignored(f"the ban {inner.id} is not known here")
    async with ctx.pool.acquire() as conn:
        group = await actor_store.get(conn, ban.group_id)
    assert group is not None
    await check_authority(ctx, activity.actor, group)
    moderator = await resolve_actor(ctx, activity.actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await moderation_store.lift_ban(conn, ban.id):
            raise Ignored(f"the ban {inner.id} is lifted already")
        banned = await actor_store.get(conn, ban.actor_id)
        await _remote_log(conn, activity, "unban", group=group, moderator=moderator,
                          target=banned, details={"ban_id": ban.id})


# --- reports ------------------------------------------------------------------------------

async def handle_flag(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    """A report about actors or posts of ours, or posts in our groups."""
    reporter = await sender_of(ctx, activity)
    reported_actor: Actor | None = None
    posts: list[Post] = []
    async with ctx.pool.acquire() as conn:
        for ref in activity.objects:
            ref_id = vocab.object_id(ref)
            if ref_id is None:
                continue
            post = await post_store.by_ap_id(conn, ref_id)
            if post is not None:
                posts.append(post)
                continue
            actor = await actor_store.by_ap_id(conn, ref_id)
            if actor is not None and reported_actor is None:
                reported_actor = actor
        groups = {p.group_id: await actor_store.get(conn, p.group_id)
                  for p in posts if p.group_id is not None}
        local_groups = {gid for gid, g in groups.items() if g is not None and g.local}
        ours = [p for p in posts if p.local or p.group_id in local_groups]
        if not ours and (reported_actor is None or not reported_actor.local):
            raise Ignored("the Flag names nothing of this instance")
        if reported_actor is None and ours:
            reported_actor = await actor_store.get(conn, ours[0].author_id)
        first_group = ours[0].group_id if ours else None
        group = groups.get(first_group) if first_group is not None else None
        reason = (activity.content or activity.summary or "")[:REASON_MAX]
        async with conn.transaction():
            report = await report_store.insert(
                conn, remote=True, reporter_id=reporter.id,
                target_actor_id=reported_actor.id if reported_actor else None,
                post_ids=[p.id for p in ours] or [p.id for p in posts],
                group_id=group.id if group is not None and group.local else None,
                reason=reason, ap_id=activity.id)
    if report is None:
        raise Ignored(f"the report {activity.id} is known already")


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


RELAYED_TYPES = frozenset({"Delete", "Lock", "Add", "Remove", "Block", "Undo"})


async def receive_relayed(ctx: Context, activity: vocab.Activity) -> None:
    """A moderation activity a remote group relayed in its Announce (Lemmy's way), once
    the Announce handler has it from a trusted origin: the same handlers and the same
    authority check as when it arrives on its own. Raises Ignored for anything else."""
    handlers = {"Delete": handle_delete, "Lock": handle_lock, "Add": handle_add_remove,
                "Remove": handle_add_remove, "Block": handle_block, "Undo": handle_undo}
    handler = handlers.get(activity.type)
    if handler is None:
        raise Ignored(f"a relayed {activity.type} is no moderation activity")
    await handler(ctx, activity, None)
