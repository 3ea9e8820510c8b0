"""The dispatch table: one handler per activity type, in the module named after it.

A handler is ``async def handle_<type>(ctx, activity, row) -> None``: ``activity`` is the
parsed activity (its signer already checked against its actor, relayed ones re-fetched
from their origin by the queue), ``row`` the stored inbox row. It returns when the
activity took effect, raises :class:`~fedi.inbound.outcomes.Ignored` (or ``Refused``)
when it must not, and lets fetch errors through (the queue retries those). What a
handler does depends on the object too (an Update of a post or of an actor, an Undo of
a Follow or of a ban): the handler tells those apart, so each type has one entry.

The inbox learns the known types from :data:`fedi.inbound.types.KNOWN_TYPES` without
importing the handlers; tests/test_inbound_dispatch.py checks it equals this table's keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import MappingProxyType

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound import (
    accept,
    add,
    announce,
    block,
    choose_answer,
    create,
    delete,
    dislike,
    flag,
    follow,
    join,
    leave,
    like,
    lock,
    move,
    reject,
    remove,
    resolve,
    undo,
    update,
)
from storage.inbox import InboxActivity

Handler = Callable[[Context, vocab.Activity, InboxActivity], Awaitable[None]]

HANDLERS: MappingProxyType[str, Handler] = MappingProxyType({
    # Following our groups and users; the Undo of anything.
    "Follow": follow.handle_follow,
    "Undo": undo.handle_undo,
    # Posts into our groups, votes, and actors about themselves.
    "Create": create.handle_create,
    "Update": update.handle_update,
    "Delete": delete.handle_delete,  # also a moderator's removal in a remote group
    "Like": like.handle_like,
    "Dislike": dislike.handle_dislike,
    "Move": move.handle_move,
    # Registration for our events (Mobilizon's Join / Leave).
    "Join": join.handle_join,
    "Leave": leave.handle_leave,
    # Groups on other instances: the answers to our Follows, and what they relay.
    "Accept": accept.handle_accept,
    "Reject": reject.handle_reject,
    "Announce": announce.handle_announce,
    # Moderators of remote groups; reports.
    "Lock": lock.handle_lock,
    "Add": add.handle_add,
    "Remove": remove.handle_remove,
    "Block": block.handle_block,
    "Flag": flag.handle_flag,
    # PieFed's accepted answer (ours travels as an Update of the thread).
    "ChooseAnswer": choose_answer.handle_choose_answer,
    "Resolve": resolve.handle_resolve,
})


def handler_for(activity: vocab.Activity) -> Handler | None:
    return HANDLERS.get(activity.type)
