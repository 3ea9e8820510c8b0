"""PieFed's ``ChooseAnswer``: the asker (or a moderator) marks a reply as the answer to
their question; ``Undo(ChooseAnswer)`` takes it back.

PieFed (``app/shared/tasks/notes.py``, ``send_answer``) sends
``{"type": "ChooseAnswer", "actor": <person>, "object": <reply id>, "audience":
<community>, "to": [Public], "cc": [<community>]}`` to the community's inbox, or, for
one of its own communities, wraps it (or its Undo) in the community's ``Announce`` to the
followers. We take both: to one of our groups (then our group relays it on) and relayed
by a remote group we follow (fedi/inbound/announce.py).

Authority is the same as for our own users (``policy.Action.ACCEPT_ANSWER``): the
thread's author or a moderator of its group; for a remote group a moderator is one its
moderators collection lists (fedi/inbound/authority.py). A moderator's choice is recorded
in our modlog as a remote moderator's action.
"""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.forum import policy
from fedi.forum.policy import Action
from fedi.inbound.authority import check_authority, log_remote
from fedi.inbound.common import relay_to_group, sender_of, unknown_post
from fedi.inbound.outcomes import Ignored, Refused
from storage import actors as actor_store
from storage import posts as post_store
from storage.inbox import InboxActivity
from storage.notification_events import enqueue_event

__all__ = ["handle_choose_answer", "undo_choose_answer"]


async def handle_choose_answer(ctx: Context, activity: vocab.Activity,
                               row: InboxActivity | None) -> None:
    await _choose(ctx, activity, activity.object_id, accept=True, relayed=row is None)


async def undo_choose_answer(ctx: Context, activity: vocab.Activity, inner: vocab.Activity,
                             *, relayed: bool = False) -> None:
    """Undo(ChooseAnswer): by the one who chose (PieFed sends it so)."""
    if inner.actor != activity.actor:
        raise Refused(f"{activity.actor} cannot undo a ChooseAnswer of {inner.actor}")
    await _choose(ctx, activity, inner.object_id, accept=False, relayed=relayed)


async def _choose(ctx: Context, activity: vocab.Activity, reply_id: str | None, *,
                  accept: bool, relayed: bool) -> None:
    chooser = await sender_of(ctx, activity)
    async with ctx.pool.acquire() as conn:
        reply = await post_store.by_ap_id(conn, reply_id) if reply_id else None
        if reply is None:
            raise unknown_post(ctx, reply_id)
        if reply.is_thread or reply.thread_id is None:
            raise Ignored(f"{reply.ap_id} is a thread, not an answer")
        thread = await post_store.get(conn, reply.thread_id)
        assert thread is not None
        group = await actor_store.get(conn, thread.group_id) if thread.group_id else None
        refused = await policy.refusal(conn, Action.ACCEPT_ANSWER, chooser, group=group,
                                       thread=thread, post=reply if accept else None)
    moderator = chooser.id != thread.author_id
    if refused is not None:
        if refused.rule != "not_asker" or group is None or group.local:
            raise Refused(refused.message)
        # A moderator of the remote group, by its moderators collection.
        await check_authority(ctx, activity.actor, group)
    async with ctx.pool.acquire() as conn, conn.transaction():
        thread = await post_store.get_for_update(conn, thread.id)
        assert thread is not None
        if accept:
            if thread.accepted_answer_id == reply.id:
                raise Ignored(f"{reply.ap_id} is the accepted answer already")
            await post_store.set_accepted(conn, thread.id, reply.id, by=chooser.id)
            await enqueue_event(conn, "accepted_answer", {
                "thread_id": thread.id, "answer_id": reply.id, "actor_id": chooser.id})
        else:
            if thread.accepted_answer_id != reply.id:
                raise Ignored(f"{reply.ap_id} is not the accepted answer")
            await post_store.set_accepted(conn, thread.id, None, by=None)
        if moderator and group is not None:
            await log_remote(conn, activity, "answer_accept" if accept else "answer_withdraw",
                             group=group, moderator=chooser, post=thread,
                             details={"answer_id": reply.id})
        if not relayed:
            # Into one of our groups: the group relays it to its followers (FEP-1b12).
            await relay_to_group(conn, ctx, activity=activity, post=thread)
