"""Inbound activities: one dispatch table from (activity type, object type) to a handler.

A handler is ``async def handle(ctx, activity, row) -> None``: ``activity`` is the parsed
activity (its signer already checked against its actor, relayed ones re-fetched from
their origin by the queue), ``row`` the stored inbox row. It returns when the activity
took effect, raises :class:`~fedi.inbound.outcomes.Ignored` (or ``Refused``)
when it must not, and lets fetch errors through (the queue retries those).

The object type is the embedded object's type, or ``"*"`` for any (also a bare id);
the exact pair wins over ``(type, "*")``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING

from activitypub import vocab
from fedi.core.context import Context

if TYPE_CHECKING:
    from storage.inbox import InboxActivity

Handler = Callable[[Context, vocab.Activity, "InboxActivity"], Awaitable[None]]

ACTOR_TYPES = ("Person", "Group", "Service", "Application", "Organization")
_extra: dict[tuple[str, str], Handler] = {}


@cache
def table() -> dict[tuple[str, str], Handler]:
    # Imported here: the handler modules import services that import this package.
    from fedi.inbound import (
        accept,
        actors,
        announce,
        create,
        follow,
        likes,
        moderation,
        undo,
        update,
    )

    handlers: dict[tuple[str, str], Handler] = {
        # Following our groups and users.
        ("Follow", "*"): follow.handle_follow,
        ("Undo", "*"): undo.handle_undo,  # of a Follow, Like or Dislike
        # Posts into our groups.
        ("Create", "*"): create.handle_create,
        ("Update", "*"): update.handle_update,
        # A moderator's removal is a Delete too: moderation.py tells the two apart and
        # passes authors' deletes on to delete.py.
        ("Delete", "*"): moderation.handle_delete,
        ("Like", "*"): likes.handle_like,
        ("Dislike", "*"): likes.handle_like,
        # Actors.
        ("Move", "*"): actors.handle_move,
        **{("Update", kind): actors.handle_update_actor for kind in ACTOR_TYPES},
        # Groups on other instances (Accept/Reject of our Follows, Announces).
        ("Accept", "*"): accept.handle_accept,
        ("Reject", "*"): accept.handle_reject,
        ("Announce", "*"): announce.handle_announce,
        # Moderation (moderation.py).
        ("Lock", "*"): moderation.handle_lock,
        ("Add", "*"): moderation.handle_add_remove,
        ("Remove", "*"): moderation.handle_add_remove,
        ("Block", "*"): moderation.handle_block,
        ("Undo", "Block"): moderation.handle_undo,
        ("Undo", "Lock"): moderation.handle_undo,
        ("Undo", "Delete"): moderation.handle_undo,
        ("Flag", "*"): moderation.handle_flag,
        ("Resolve", "*"): moderation.handle_resolve,
    }
    handlers.update(_extra)
    return handlers


def register(activity_type: str, object_type: str, handler: Handler) -> None:
    """Add a handler (for modules that are not listed in :func:`table`)."""
    _extra[(activity_type, object_type)] = handler
    table.cache_clear()


def handler_for(activity: vocab.Activity) -> Handler | None:
    handlers = table()
    object_type = activity.object_type
    if object_type is not None and (activity.type, object_type) in handlers:
        return handlers[(activity.type, object_type)]
    return handlers.get((activity.type, "*"))


def known_types() -> frozenset[str]:
    """Activity types we process; the inbox answers 202 to others without storing them."""
    return frozenset(kind for kind, _ in table())
