"""Outgoing moderation activities, in the shapes Lemmy, Mbin and PieFed send them.

Every function builds one activity and queues it in the caller's transaction (the
moderators' services in fedi/forum/: threads, bans, reports, groups; they write their
rows and the modlog in the same one). The sender is the acting moderator when that is a
local listed moderator of the group (Lemmy checks the actor against the group's
moderators collection), and the group itself otherwise (admins who are not listed,
remote moderators, the expiry job): a receiver trusts a group's own word about its
content. Recipients: the group's remote followers, plus the remote actor the action
concerns (the author of a removed post, a banned actor, an appointed moderator).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.times import iso
from fedi.federation.documents import PUBLIC, activity, strip_context, with_context
from fedi.federation.fanout import follower_inboxes
from storage import activities as activity_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage.actors import Actor
from storage.posts import Post


async def mod_sender(conn: Any, group: Actor, acting: Actor | None) -> Actor:
    """Who signs a moderation activity of ``group`` done by ``acting``."""
    if acting is not None and acting.local and acting.id != group.id and (
            await group_store.is_moderator(conn, group.id, acting.id)):
        return acting
    return group


async def _inboxes(conn: Any, group: Actor, *concerned: Actor | None) -> list[str]:
    inboxes = list(await follower_inboxes(conn, group.id))
    for actor in concerned:
        if actor is not None and not actor.local:
            inbox = actor.inbox or actor.shared_inbox
            if inbox:
                inboxes.append(inbox)
    return inboxes


def _group_activity(ctx: Context, type_: str, sender: Actor, obj: Any, group: Actor,
                    **fields: Any) -> dict[str, Any]:
    # Addressed as Lemmy addresses moderation: public, the group in cc and audience.
    return activity(new_activity_id(ctx), type_, sender, obj, to=[PUBLIC], cc=[group.ap_id],
                    audience=group.ap_id, **fields)


async def _send(conn: Any, ctx: Context, sender: Actor, doc: dict[str, Any],
                inboxes: list[str]) -> dict[str, Any]:
    await enqueue_activity(conn, ctx, actor=sender, activity=doc, inboxes=inboxes)
    return doc


async def _undo(conn: Any, ctx: Context, *, group: Actor, sender: Actor,
                inner: dict[str, Any], inboxes: list[str], **fields: Any) -> dict[str, Any]:
    undo = _group_activity(ctx, "Undo", sender, strip_context(inner), group, **fields)
    return await _send(conn, ctx, sender, undo, inboxes)


# --- posts --------------------------------------------------------------------------------

async def send_removal(conn: Any, ctx: Context, *, group: Actor, acting: Actor | None,
                       post: Post, author: Actor | None, reason: str) -> dict[str, Any]:
    """Lemmy's removal: the group's (or moderator's) Delete with the reason in
    ``summary``. Mastodon deletes only on the author's word, so its followers of the
    group get Undo(Announce) of the group's boost instead."""
    sender = await mod_sender(conn, group, acting)
    delete = _group_activity(ctx, "Delete", sender, post.ap_id, group, summary=reason or None)
    await _send(conn, ctx, sender, delete, await _inboxes(conn, group, author))
    boosts = await moderation_store.group_boosts(conn, group.id, post.ap_id)
    if boosts:
        microblog = await _microblog_followers(conn, group)
        for boost in boosts:
            undo = activity(new_activity_id(ctx), "Undo", group, strip_context(boost),
                            to=[PUBLIC], cc=[group.followers_url or group.ap_id],
                            audience=group.ap_id)
            await enqueue_activity(conn, ctx, actor=group, activity=undo, inboxes=microblog)
    return delete


async def _microblog_followers(conn: Any, group: Actor) -> list[str]:
    # The followers that get Announce(<object id>) from fanout.relay (unknown software
    # gets both forms there, so it gets this one here too).
    forms = await follower_inboxes(conn, group.id)
    return [inbox for inbox, form in forms.items() if form in ("microblog", "unknown")]


async def send_restore(conn: Any, ctx: Context, *, group: Actor, acting: Actor | None,
                       post: Post, author: Actor | None, reason: str) -> dict[str, Any]:
    """Undo of the removal's Delete (Lemmy's restore), to whoever got the Delete. The
    removal took the group's boost back from Mastodon followers (Undo(Announce)); a
    Mastodon server cannot undo an Undo, so a post the group had boosted is boosted
    afresh: a new ``Announce(<post id>)`` to the microblog followers."""
    sender = await mod_sender(conn, group, acting)
    inner = await moderation_store.last_sent(conn, "Delete", post.ap_id) or _group_activity(
        ctx, "Delete", sender, post.ap_id, group)
    undo = await _undo(conn, ctx, group=group, sender=sender, inner=inner,
                       inboxes=await _inboxes(conn, group, author), summary=reason or None)
    if await moderation_store.group_boosts(conn, group.id, post.ap_id, undone_too=True):
        microblog = await _microblog_followers(conn, group)
        if microblog:
            boost = activity(new_activity_id(ctx), "Announce", group, post.ap_id,
                             to=[PUBLIC], cc=[group.followers_url or group.ap_id],
                             audience=group.ap_id)
            await enqueue_activity(conn, ctx, actor=group, activity=boost, inboxes=microblog,
                                   post_id=post.id)
    return undo


async def send_lock(conn: Any, ctx: Context, *, group: Actor, acting: Actor | None,
                    post: Post, locked: bool, reason: str) -> dict[str, Any]:
    """``Lock`` of a thread, or ``Undo(Lock)`` (Lemmy, Mbin and PieFed)."""
    sender = await mod_sender(conn, group, acting)
    inboxes = await _inboxes(conn, group)
    if locked:
        lock = _group_activity(ctx, "Lock", sender, post.ap_id, group, summary=reason or None)
        return await _send(conn, ctx, sender, lock, inboxes)
    inner = await moderation_store.last_sent(conn, "Lock", post.ap_id) or _group_activity(
        ctx, "Lock", sender, post.ap_id, group)
    return await _undo(conn, ctx, group=group, sender=sender, inner=inner, inboxes=inboxes,
                       summary=reason or None)


async def send_featured(conn: Any, ctx: Context, *, group: Actor, acting: Actor | None,
                        post: Post, pinned: bool) -> dict[str, Any]:
    """``Add``/``Remove`` of a thread to/from the group's ``featured`` collection."""
    sender = await mod_sender(conn, group, acting)
    doc = _group_activity(ctx, "Add" if pinned else "Remove", sender, post.ap_id, group,
                          target=group.featured_url)
    return await _send(conn, ctx, sender, doc, await _inboxes(conn, group))


# --- people -------------------------------------------------------------------------------

async def send_moderator_change(conn: Any, ctx: Context, *, group: Actor,
                                acting: Actor | None, moderator: Actor,
                                added: bool) -> dict[str, Any]:
    """``Add``/``Remove`` with target = the group's moderators collection."""
    sender = await mod_sender(conn, group, acting)
    if sender.id == moderator.id:
        sender = group  # a moderator who steps down: the group says so
    doc = _group_activity(ctx, "Add" if added else "Remove", sender, moderator.ap_id, group,
                          target=group.moderators_url)
    return await _send(conn, ctx, sender, doc, await _inboxes(conn, group, moderator))


async def send_ban(conn: Any, ctx: Context, *, group: Actor, acting: Actor | None,
                   banned: Actor, reason: str, expires_at: datetime | None,
                   remove_content: bool) -> dict[str, Any]:
    """``Block`` with target = the group; the expiry both as Lemmy's ``endTime`` and as
    Mbin's ``expires``, Lemmy's ``removeData`` for the content."""
    sender = await mod_sender(conn, group, acting)
    block = _group_activity(ctx, "Block", sender, banned.ap_id, group, target=group.ap_id,
                            summary=reason or None, endTime=iso(expires_at),
                            expires=iso(expires_at), removeData=remove_content)
    return await _send(conn, ctx, sender, block, await _inboxes(conn, group, banned))


async def send_unban(conn: Any, ctx: Context, *, group: Actor, acting: Actor | None,
                     banned: Actor, block_id: str | None) -> dict[str, Any]:
    """``Undo(Block)``, embedding the Block as it was sent."""
    sender = await mod_sender(conn, group, acting)
    stored = await activity_store.by_ap_id(conn, block_id) if block_id else None
    inner = stored.payload if stored is not None else None
    if inner is None:
        inner = _group_activity(ctx, "Block", sender, banned.ap_id, group, target=group.ap_id)
    return await _undo(conn, ctx, group=group, sender=sender, inner=inner,
                       inboxes=await _inboxes(conn, group, banned))


async def send_instance_ban(conn: Any, ctx: Context, *, site: Actor, banned: Actor,
                            reason: str, expires_at: datetime | None, lifted: bool = False,
                            block_id: str | None = None) -> dict[str, Any] | None:
    """An instance-wide ban, told to the banned actor's server as Lemmy's site ban
    (``Block`` with target = our instance actor) or its ``Undo``."""
    inbox = banned.inbox or banned.shared_inbox
    if banned.local or inbox is None:
        return None
    stored = await activity_store.by_ap_id(conn, block_id) if block_id else None
    block = stored.payload if stored is not None else activity(
        new_activity_id(ctx), "Block", site, banned.ap_id, to=[banned.ap_id], cc=[],
        target=site.ap_id, summary=reason or None, endTime=iso(expires_at),
        expires=iso(expires_at))
    if lifted:
        block = activity(new_activity_id(ctx), "Undo", site, strip_context(block),
                         to=[banned.ap_id], cc=[])
    return await _send(conn, ctx, site, block, [inbox])


# --- groups -------------------------------------------------------------------------------

async def send_group_update(conn: Any, ctx: Context, *, group: Actor,
                            document: dict[str, Any]) -> dict[str, Any]:
    update = activity(new_activity_id(ctx), "Update", group, document, to=[PUBLIC],
                      cc=[group.followers_url or group.ap_id])
    return await _send(conn, ctx, group, update, await _inboxes(conn, group))


async def send_group_delete(conn: Any, ctx: Context, *, group: Actor) -> dict[str, Any]:
    delete = activity(new_activity_id(ctx), "Delete", group, group.ap_id, to=[PUBLIC],
                      cc=[group.followers_url or group.ap_id])
    return await _send(conn, ctx, group, delete, await _inboxes(conn, group))


# --- reports ------------------------------------------------------------------------------

def flag_document(ctx: Context, *, reporter: Actor, objects: list[str], group: Actor | None,
                  reason: str, to: Actor | None = None) -> dict[str, Any]:
    """Lemmy's Flag (``to`` the group, one object, ``summary``), which Mastodon reads too
    (``object`` may be one id; ``content``)."""
    recipient = group or to
    return activity(new_activity_id(ctx), "Flag", reporter,
                    objects[0] if len(objects) == 1 else objects,
                    to=[recipient.ap_id] if recipient else [], cc=[],
                    audience=group.ap_id if group else None, summary=reason, content=reason)


def account_flag_document(ctx: Context, *, site: Actor, reported: Actor,
                          reason: str) -> dict[str, Any]:
    """Mastodon's forwarded report of an account: by the instance actor (the reporter
    stays anonymous), ``object`` = [the account], ``content`` = the reason, no
    addressing; it goes to the account's own inbox."""
    return with_context({"id": new_activity_id(ctx), "type": "Flag", "actor": site.ap_id,
                         "content": reason, "object": [reported.ap_id]})


async def send_flag(conn: Any, ctx: Context, *, reporter: Actor, flag: dict[str, Any],
                    recipient: Actor) -> None:
    inbox = recipient.inbox or recipient.shared_inbox
    await enqueue_activity(conn, ctx, actor=reporter, activity=flag,
                           inboxes=[inbox] if inbox else [], public=False)


async def send_resolve(conn: Any, ctx: Context, *, sender: Actor, flag: dict[str, Any],
                       reporter: Actor, group: Actor | None) -> None:
    """Lemmy's ``Resolve`` of a Flag, to the remote reporter's server."""
    inbox = reporter.inbox or reporter.shared_inbox
    resolve = activity(new_activity_id(ctx), "Resolve", sender, strip_context(flag),
                       to=[group.ap_id] if group else [reporter.ap_id], cc=[],
                       audience=group.ap_id if group else None)
    await enqueue_activity(conn, ctx, actor=sender, activity=resolve,
                           inboxes=[inbox] if inbox else [], public=False)
