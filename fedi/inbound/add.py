"""Add to a remote group's ``featured`` collection (a pinned thread) or ``moderators``
collection (a new moderator), by the group or one of its moderators
(group_collections.py)."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.group_collections import change_collection
from storage.inbox import InboxActivity


async def handle_add(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    await change_collection(ctx, activity, adding=True)
