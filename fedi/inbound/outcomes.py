"""How a handler ends an inbound activity other than "done": typed exceptions the
inbound queue records on the row (see queue.py)."""

from __future__ import annotations


class Ignored(Exception):  # an outcome, not an error
    """Nothing to do (not for us, unknown object, a stale edit): the row is marked
    ``ignored`` with the reason, and never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Ignored):
    """Not allowed (banned, not the author, locked thread ...): ignored like the above;
    where the sender should know, the handler has queued a Reject first."""


class NotYet(Exception):  # an outcome, not an error
    """What the activity is about has not arrived (or not been processed) yet: the
    worker runs activities concurrently and servers retry deliveries, so a Like, Update
    or Undo can come before the Create or Like it refers to. The queue tries again with
    its backoff for a while after receipt (queue.NOT_YET_WINDOW), then ignores the row
    with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
