"""Undo: the one entry for every Undo, dispatching on what it undoes.

- Of a Follow, a Like or a Dislike (follow.py, votes.py): the Undo must come from the
  actor of what it undoes; a bare id is looked up as a Follow, then as a Like. An Undo of
  an activity we have not received (or not processed) yet waits for it
  (outcomes.NotYet).
- Of a moderator's Block (ban lifted, block.py), Lock (unlocked, lock.py) or removal
  Delete (restored, delete.py): :func:`undo_moderation`, which the Announce handler
  also uses for the Undos a remote group relays. Its authority is checked there.
"""

from __future__ import annotations

from typing import NoReturn

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound import block, choose_answer, delete, events, lock
from fedi.inbound.common import still_to_come
from fedi.inbound.follow import undo_follow
from fedi.inbound.outcomes import Ignored, NotYet, Refused
from fedi.inbound.votes import withdraw_vote
from storage import follows as follow_store
from storage import posts as post_store
from storage.inbox import InboxActivity

# What a moderator's Undo undoes, by the type of the embedded activity.
_BY_MODERATORS = frozenset({"Block", "Lock", "Delete"})


async def handle_undo(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    if activity.object_type in _BY_MODERATORS:
        await undo_moderation(ctx, activity)
        return
    inner = activity.object
    if isinstance(inner, vocab.Activity):
        if inner.actor != activity.actor:
            raise Refused(f"{activity.actor} cannot undo an activity of {inner.actor}")
        if inner.type == "ChooseAnswer":
            await choose_answer.undo_choose_answer(ctx, activity, inner)
            return
        if inner.type == "Join":  # a registration for one of our events (events.py)
            if not await events.undo_join(ctx, activity, inner.id, inner.object_id):
                raise Ignored("no registration made by that Join")
            return
        if inner.type not in ("Follow", "Like", "Dislike"):
            raise Ignored(f"an Undo of a {inner.type} is not supported")
        try:
            if inner.type == "Follow":
                await undo_follow(ctx, activity, inner.id, inner.object_id)
            else:
                await withdraw_vote(ctx, activity, like_id=inner.id, object_id=inner.object_id,
                                    kind=inner.type.lower())
        except Refused:
            raise
        except Ignored as exc:
            await _wait_for(ctx, inner.id, exc)
        return
    undone = activity.object_id
    if undone is None or (inner is not None and not isinstance(inner, str)):
        raise Ignored("the Undo names no activity")
    async with ctx.pool.acquire() as conn:
        is_follow = await follow_store.by_ap_id(conn, undone) is not None
        is_like = await post_store.like_by_ap_id(conn, undone) is not None
    if not is_follow and not is_like and await events.undo_join(ctx, activity, undone, None):
        return
    if is_follow:
        await undo_follow(ctx, activity, undone, None)
    elif is_like:
        await withdraw_vote(ctx, activity, like_id=undone, object_id=None, kind=None)
    else:
        await _wait_for(ctx, undone, Ignored(f"{undone} is no follow or like known here"))


async def undo_moderation(ctx: Context, activity: vocab.Activity) -> None:
    """Undo of a Block (ban lifted), Lock (unlocked) or removal Delete (restored)."""
    inner = activity.object
    if not isinstance(inner, vocab.Activity):
        raise Ignored("the Undo does not embed what it undoes")
    try:
        if inner.type == "Lock":
            await lock.unlock(ctx, activity, inner)
        elif inner.type == "Delete":
            await delete.restore(ctx, activity, inner)
        elif inner.type == "Block":
            await block.unblock(ctx, activity, inner)
        else:
            raise Ignored(f"an Undo of a {inner.type} is not supported")
    except Ignored as exc:  # Refused stays Refused: say what was undone
        raise type(exc)(f"Undo of a {inner.type}: {exc.reason}") from None


async def _wait_for(ctx: Context, undone: str | None, exc: Ignored) -> NoReturn:
    """Nothing to undo: final once the undone activity has an outcome here, otherwise
    it may still come (the worker runs activities concurrently)."""
    if await still_to_come(ctx, undone):
        raise NotYet(f"{exc.reason}; {undone} has not been processed yet") from None
    raise exc
