"""Polls in threads (issue 20, part 4): checking a new poll, storing it with its thread,
the poll as the thread's ActivityPub ``Question``, the poll as the API and the pages show
it, and the state of remote polls as their origin publishes it.

Voting (local and remote votes, the Update after a vote) is fedi/forum/poll_votes.py.
A local poll counts its votes in ``poll_votes`` (one per actor, per option for multiple
choice); a remote poll shows the counts its origin sent last (``remote_counts``) and
keeps our users' votes there only so that nobody votes twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from activitypub import vocab
from fedi.core.errors import ValidationFailed
from fedi.core.times import iso
from fedi.federation.poll_documents import as_question
from storage import polls as poll_store
from storage.polls import Poll
from storage.posts import Post

__all__ = ["MAX_DURATION", "MAX_OPTIONS", "MIN_DURATION", "MIN_OPTIONS", "OPTION_MAX",
           "PollSpec", "check_poll", "counts_of", "is_open", "poll_view", "question_for",
           "store_poll", "store_remote_question", "view_for", "voters_of"]

MIN_OPTIONS = 2
MAX_OPTIONS = 10
OPTION_MAX = 100
MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(days=90)
DEFAULT_DURATION = timedelta(days=7)


@dataclass(frozen=True)
class PollSpec:
    options: tuple[str, ...]
    multiple: bool
    ends_at: datetime


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="poll")


def check_poll(value: Any, now: datetime | None = None) -> PollSpec | None:
    """A new poll from ``{"options": [...], "multiple": false, "ends_at": ISO time}``;
    None for no poll. ``ends_at`` defaults to a week from now."""
    if value is None:
        return None
    now = now or datetime.now(UTC)
    if not isinstance(value, dict):
        raise _invalid("poll must be an object with options, multiple and ends_at")
    unknown = set(value) - {"options", "multiple", "ends_at"}
    if unknown:
        raise _invalid("poll has unknown fields: only options, multiple and ends_at")
    options = value.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise _invalid("poll options must be a list of texts")
    names = [" ".join(o.split()) for o in options]
    names = [n for n in names if n]
    if not MIN_OPTIONS <= len(names) <= MAX_OPTIONS:
        raise _invalid("A poll needs 2 to 10 options.")
    if any(len(n) > OPTION_MAX for n in names):
        raise _invalid("Each poll option may have at most 100 characters.")
    if len({n.casefold() for n in names}) != len(names):
        raise _invalid("The options of a poll must differ from each other.")
    multiple = value.get("multiple", False)
    if not isinstance(multiple, bool):
        raise _invalid("poll multiple must be true or false")
    ends_at = value.get("ends_at")
    if ends_at is None or ends_at == "":
        end = now + DEFAULT_DURATION
    else:
        if not isinstance(ends_at, str):
            raise _invalid("The end of the poll is not a valid date and time.")
        try:
            end = datetime.fromisoformat(ends_at.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid("The end of the poll is not a valid date and time.") from None
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
    if end < now + MIN_DURATION:
        raise _invalid("The poll must end at least 5 minutes from now.")
    if end > now + MAX_DURATION:
        raise _invalid("The poll may run for at most 90 days.")
    return PollSpec(options=tuple(names), multiple=multiple, ends_at=end)


async def store_poll(conn: Any, post_id: int, spec: PollSpec) -> None:
    """The new thread ``post_id``'s poll (in the thread's transaction)."""
    await poll_store.insert(conn, post_id, options=spec.options, multiple=spec.multiple,
                            ends_at=spec.ends_at)


def is_open(poll: Poll, now: datetime | None = None) -> bool:
    return poll.ends_at is None or poll.ends_at > (now or datetime.now(UTC))


def counts_of(poll: Poll) -> list[int]:
    """Votes per option: counted here for a local poll, as published for a remote one."""
    if poll.remote_counts is not None:
        return [poll.remote_counts[i] if i < len(poll.remote_counts) else 0
                for i in range(len(poll.options))]
    return poll.counts


def voters_of(poll: Poll) -> int:
    if poll.remote_counts is not None:
        if poll.voters_count is not None:
            return poll.voters_count
        return max(poll.remote_counts, default=0) if poll.multiple else sum(poll.remote_counts)
    return poll.voters


async def question_for(conn: Any, post: Post, note: dict[str, Any]) -> dict[str, Any]:
    """``note`` (a local thread's document) as a Question when the thread has a poll."""
    if not post.is_thread or not post.local:
        return note
    poll = await poll_store.get(conn, post.id)
    if poll is None:
        return note
    return as_question(note, options=poll.options, counts=counts_of(poll),
                       multiple=poll.multiple, ends_at=poll.ends_at, voters=voters_of(poll),
                       now=datetime.now(UTC))


def poll_view(poll: Poll, *, own_choices: list[int] | None,
              now: datetime | None = None) -> dict[str, Any]:
    """The poll as the API shows it. ``own_choices``: the caller's votes (None: nobody
    logged in)."""
    counts = counts_of(poll)
    return {
        "options": [{"title": name, "votes": counts[i]} for i, name in enumerate(poll.options)],
        "multiple": poll.multiple,
        "ends_at": iso(poll.ends_at),
        "closed": not is_open(poll, now),
        "voters_count": voters_of(poll),
        "voted": bool(own_choices) if own_choices is not None else None,
        "own_choices": own_choices or [],
    }


async def view_for(conn: Any, post: Post, viewer_id: int | None) -> dict[str, Any] | None:
    """The thread's poll for the API (None: no poll)."""
    if not post.is_thread:
        return None
    poll = await poll_store.get(conn, post.id)
    if poll is None:
        return None
    own = await poll_store.choices_of(conn, post.id, viewer_id) if viewer_id else None
    return poll_view(poll, own_choices=own)


def _remote_counts(doc: dict[str, Any], key: str) -> list[int]:
    counts = []
    for option in doc.get(key) or []:
        replies = option.get("replies") if isinstance(option, dict) else None
        total = replies.get("totalItems") if isinstance(replies, dict) else None
        counts.append(total if isinstance(total, int) and total >= 0 else 0)
    return counts


async def store_remote_question(conn: Any, post: Post, obj: vocab.APObject) -> bool:
    """A remote thread's poll as its origin published it (its Create or an Update):
    options, end and counts. False when ``obj`` is no poll."""
    if not isinstance(obj, vocab.Question) or not post.is_thread or post.local:
        return False
    multiple = bool(obj.any_of) and not obj.one_of
    options = list(obj.any_of if multiple else obj.one_of)
    if not options:
        return False
    doc = obj.to_json()
    end_raw = doc.get("endTime") or doc.get("closed")
    ends_at = None
    if isinstance(end_raw, str):
        try:
            ends_at = datetime.fromisoformat(end_raw.replace("Z", "+00:00"))
        except ValueError:
            ends_at = None
        if ends_at is not None and ends_at.tzinfo is None:
            ends_at = ends_at.replace(tzinfo=UTC)
    await poll_store.set_remote_counts(
        conn, post.id, options=[o[:OPTION_MAX * 5] for o in options][:50], multiple=multiple,
        ends_at=ends_at, counts=_remote_counts(doc, "anyOf" if multiple else "oneOf")[:50],
        voters_count=obj.voters_count)
    return True
