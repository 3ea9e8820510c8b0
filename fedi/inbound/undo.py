"""Undo: of a Follow, a Like or a Dislike. The Undo must come from the actor of what it
undoes; a bare id is looked up as a Follow, then as a Like. An Undo of an activity we
have not received (or not processed) yet waits for it (outcomes.NotYet)."""

from __future__ import annotations

from typing import NoReturn

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.common import still_to_come
from fedi.inbound.follow import undo_follow
from fedi.inbound.likes import undo_like
from fedi.inbound.outcomes import Ignored, NotYet, Refused
from storage import follows as follow_store
from storage import posts as post_store
from storage.inbox import InboxActivity


async def handle_undo(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    inner = activity.object
    if isinstance(inner, vocab.Activity):
        if inner.actor != activity.actor:
            raise Refused(f"{activity.actor} cannot undo an activity of {inner.actor}")
        if inner.type not in ("Follow", "Like", "Dislike"):
            raise Ignored(f"an Undo of a {inner.type} is not supported")
        try:
            if inner.type == "Follow":
                await undo_follow(ctx, activity, inner.id, inner.object_id)
            else:
                await undo_like(ctx, activity, like_id=inner.id, object_id=inner.object_id,
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
    if is_follow:
        await undo_follow(ctx, activity, undone, None)
    elif is_like:
        await undo_like(ctx, activity, like_id=undone, object_id=None, kind=None)
    else:
        await _wait_for(ctx, undone, Ignored(f"{undone} is no follow or like known here"))


async def _wait_for(ctx: Context, undone: str | None, exc: Ignored) -> NoReturn:
    """Nothing to undo: final once the undone activity has an outcome here, otherwise
    it may still come (the worker runs activities concurrently)."""
    if await still_to_come(ctx, undone):
        raise NotYet(f"{exc.reason}; {undone} has not been processed yet") from None
    raise exc
