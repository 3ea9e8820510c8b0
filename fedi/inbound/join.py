"""Join of one of our events by a remote person (Mobilizon's participation flow,
civic-anchors.md §5.3): the event's group answers ``Accept`` (free registration),
records it as pending (restricted: an organiser decides later, and the group's ``Accept``
or ``Reject`` goes out then), or answers ``Reject`` with the policy's sentence (full,
deadline passed, cancelled, banned ...). The Join may arrive at any of our inboxes (the
group's, the organiser's, the shared one): Mobilizon sends it to the organiser and the
group. A Join of anything else (a group: Mobilizon's membership) is ignored.
"""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.federation.documents import strip_context
from fedi.forum import events as event_service
from fedi.inbound.common import sender_of
from fedi.inbound.events import local_event
from fedi.inbound.outcomes import Refused
from storage.inbox import InboxActivity


async def handle_join(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    event = await local_event(ctx, activity)
    actor = await sender_of(ctx, activity)
    refusal = await event_service.receive_join(ctx, actor=actor, event=event,
                                               join=strip_context(activity.to_json()))
    if refusal is not None:
        raise Refused(f"Join rejected: {refusal.message}")
