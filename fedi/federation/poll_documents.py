"""Polls as ActivityPub documents (issue 20, part 4), as Mastodon writes them.

A thread with a poll is a ``Question``: its options are ``oneOf`` (single choice) or
``anyOf`` (multiple choice), each ``{"type": "Note", "name": <option>, "replies":
{"type": "Collection", "totalItems": <votes>}}``, with ``endTime``, ``votersCount`` and,
once it ended, ``closed``. A vote is a ``Note`` whose ``name`` is the option and whose
``inReplyTo`` is the Question, without content, sent in a ``Create`` to the poll's
author only (Mastodon's vote serializer).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fedi.core.times import iso
from fedi.federation.documents import activity, with_context
from storage.actors import Actor

__all__ = ["as_question", "vote_create"]


def as_question(note: dict[str, Any], *, options: Sequence[str], counts: Sequence[int],
                multiple: bool, ends_at: datetime | None, voters: int,
                now: datetime) -> dict[str, Any]:
    """``note`` (a thread's Note from documents.note_document) as a Question."""
    doc = dict(note)
    doc["type"] = "Question"
    doc.pop("oneOf", None)
    doc.pop("anyOf", None)
    doc["anyOf" if multiple else "oneOf"] = [
        {"type": "Note", "name": name,
         "replies": {"type": "Collection", "totalItems": counts[i] if i < len(counts) else 0}}
        for i, name in enumerate(options)
    ]
    doc["votersCount"] = voters
    if ends_at is not None:
        doc["endTime"] = iso(ends_at)
        if ends_at <= now:
            doc["closed"] = iso(ends_at)
    return doc


def vote_create(*, note_id: str, activity_id: str, voter: Actor, poll_author: str,
                question_id: str, option: str, published: datetime) -> dict[str, Any]:
    """A local user's vote on a remote poll: ``Create(Note{name, inReplyTo})`` addressed
    to the poll's author only."""
    note = {"id": note_id, "type": "Note", "name": option, "attributedTo": voter.ap_id,
            "to": [poll_author], "inReplyTo": question_id, "published": iso(published)}
    return activity(activity_id, "Create", voter, with_context(note), to=[poll_author], cc=[],
                    published=iso(published))
