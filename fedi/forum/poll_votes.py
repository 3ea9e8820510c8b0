"""Votes on polls (issue 20, part 4): a local user's vote, and remote votes as Mastodon
sends them (``Create(Note{name: <option>, inReplyTo: <the Question>})``, no content,
addressed to the poll's author).

Each actor counts once: in a single-choice poll one vote, in a multiple-choice poll once
per option; a vote after the end is refused. Whoever may reply in the thread may vote
(fedi/forum/policy.py, ``REPLY``). After a vote on a local poll its author sends the
updated Question as an ``Update`` (the group relays it to its followers), one for all the
votes of a minute (fedi/forum/poll_updates.py). A vote on a remote poll is sent to the poll's
author; its counts change when the origin's Update arrives (forum/polls.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activitypub import vocab
from fedi.core.context import Context
from fedi.core.errors import Conflict, NotFound, ValidationFailed
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation.poll_documents import vote_create
from fedi.forum import policy, poll_updates
from fedi.forum.policy import Action, Refusal
from fedi.forum.polls import is_open
from storage import actors as actor_store
from storage import polls as poll_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post

__all__ = ["check_choices", "looks_like_vote", "receive_remote_vote", "vote"]


def check_choices(value: Any, *, options: int, multiple: bool) -> list[int]:
    """``choices``: option indexes (0-based), one for a single-choice poll."""
    if (not isinstance(value, list) or not value
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in value)):
        raise ValidationFailed("Please choose at least one option.", field="choices")
    if any(c < 0 or c >= options for c in value):
        raise ValidationFailed("This poll has no such option.", field="choices")
    if len(set(value)) != len(value):
        raise ValidationFailed("Each option can be chosen only once.", field="choices")
    if not multiple and len(value) != 1:
        raise ValidationFailed("Only one option can be chosen in this poll.", field="choices")
    return sorted(value)


async def vote(ctx: Context, *, actor: Actor, post: Post, choices: Any) -> None:
    """``actor`` (local) votes for ``choices`` in the poll of thread ``post``."""
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        poll = await poll_store.get_for_update(conn, post.id)
        if poll is None:
            raise NotFound("This thread has no poll.")
        thread = await post_store.get_for_update(conn, post.id)
        group = await actor_store.get(conn, post.group_id) if post.group_id else None
        await policy.require(conn, Action.REPLY, actor, group=group, thread=thread,
                             post=thread)
        chosen = check_choices(choices, options=len(poll.options), multiple=poll.multiple)
        if not is_open(poll, now):
            raise Conflict("This poll has ended.", code="poll_closed")
        if await poll_store.choices_of(conn, post.id, actor.id):
            raise Conflict("You have voted in this poll already.", code="already_voted")
        assert thread is not None
        if thread.local:
            await poll_store.add_votes(conn, post.id, actor.id, [(c, None) for c in chosen])
            await poll_updates.schedule(conn, thread.id, now)
            return
        author = await actor_store.get(conn, thread.author_id)
        if author is None or not author.delivery_inbox:
            raise Conflict("The author of this poll cannot be reached.", code="unreachable")
        votes = []
        for choice in chosen:
            # Mastodon's form: one Create per chosen option.
            activity_id = new_activity_id(ctx)
            votes.append((choice, f"{activity_id}#vote"))
            create = vote_create(note_id=f"{activity_id}#vote", activity_id=activity_id,
                                 voter=actor, poll_author=author.ap_id,
                                 question_id=thread.ap_id, option=poll.options[choice],
                                 published=now)
            await enqueue_activity(conn, ctx, actor=actor, activity=create,
                                   inboxes=[author.delivery_inbox], post_id=thread.id,
                                   public=False)
        await poll_store.add_votes(conn, post.id, actor.id, votes)


def looks_like_vote(obj: vocab.APObject) -> bool:
    """A Note with a ``name``, ``inReplyTo`` and no content: Mastodon's vote form."""
    return (obj.type == "Note" and bool(obj.name) and obj.in_reply_to is not None
            and not (obj.content or "").strip())


async def receive_remote_vote(ctx: Context, obj: vocab.APObject, voter: Actor
                              ) -> str | Refusal | None:
    """Count a remote vote on one of our polls. None: ``obj`` is not a vote on a poll of
    ours (the caller handles it as a post); else what happened ("counted", or why it
    was not counted: a string, or the policy's refusal)."""
    if not looks_like_vote(obj):
        return None
    assert obj.in_reply_to is not None
    async with ctx.pool.acquire() as conn, conn.transaction():
        thread = await post_store.by_ap_id(conn, obj.in_reply_to)
        if thread is None or not thread.is_thread:
            return None
        poll = await poll_store.get_for_update(conn, thread.id)
        if poll is None:
            return None
        if not thread.local:  # its origin counts it, not we (and it is no reply either)
            return "the poll is not hosted here"
        group = await actor_store.get(conn, thread.group_id) if thread.group_id else None
        found = await policy.refusal(conn, Action.REPLY, voter, group=group, thread=thread,
                                     post=thread)
        if found is not None:
            return found
        if not is_open(poll):
            return "the poll has ended"
        if obj.name not in poll.options:
            return f"the poll has no option {obj.name!r}"
        choice = poll.options.index(obj.name)
        already = await poll_store.choices_of(conn, thread.id, voter.id)
        if already and (not poll.multiple or choice in already):
            return "voted already"
        added = await poll_store.add_votes(conn, thread.id, voter.id, [(choice, obj.id)])
        if not added:
            return "voted already"
        await poll_updates.schedule(conn, thread.id)
    return "counted"
