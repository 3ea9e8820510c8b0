"""Dislike of a post we have (Lemmy's downvote): counted by votes.py."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.votes import count_vote
from storage.inbox import InboxActivity


async def handle_dislike(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    await count_vote(ctx, activity, "dislike")
