"""Remove from a remote group's ``featured`` collection (an unpinned thread) or
``moderators`` collection (a moderator less), by the group or one of its moderators
(group_collections.py)."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.group_collections import change_collection
from storage.inbox import InboxActivity


async def handle_remove(ctx: Context, activity: vocab.Activity,
                        row: InboxActivity | None) -> None:
    await change_collection(ctx, activity, adding=False)
