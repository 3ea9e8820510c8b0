"""The activity types the inbound handlers take, as plain constants.

The inbox route answers 202 to other types without storing them, and learns which ones
from here, without importing the handlers (fedi/inbound/dispatch.py holds the table;
tests/test_inbound_dispatch.py checks that its keys are exactly :data:`KNOWN_TYPES`).
"""

from __future__ import annotations

KNOWN_TYPES: frozenset[str] = frozenset({
    "Accept", "Add", "Announce", "Block", "ChooseAnswer", "Create", "Delete", "Dislike",
    "Flag", "Follow", "Like", "Lock", "Move", "Reject", "Remove", "Resolve", "Undo", "Update",
    "Join", "Leave",  # registration for our events (issue 16)
})

# Object types of an Update that changes an actor rather than a post (update.py).
ACTOR_TYPES: tuple[str, ...] = ("Person", "Group", "Service", "Application", "Organization")
