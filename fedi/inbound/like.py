"""Like of a post we have (Mastodon's favourite, Lemmy's upvote): counted by votes.py."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.votes import count_vote
from storage.inbox import InboxActivity


async def handle_like(ctx: Context, activity: vocab.Activity, row: InboxActivity) -> None:
    await count_vote(ctx, activity, "like")
