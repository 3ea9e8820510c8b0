"""Leave of one of our events by a remote participant (Mobilizon cancels a participation
this way; an ``Undo`` of the ``Join`` does the same, undo.py): the registration is
withdrawn, the participant count goes down and the event's Update goes out."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.events import leave, local_event
from storage.inbox import InboxActivity


async def handle_leave(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    event = await local_event(ctx, activity)
    await leave(ctx, activity, event)
