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
