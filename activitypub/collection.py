"""Collections and their pages (``items`` and ``orderedItems``, paged by first/next).

The ordered and page types register themselves in :mod:`activitypub.vocab`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from activitypub import jsonld as j
from activitypub.documents import ActivityStreamsDocument, Ref, read_opt_ref, read_refs

__all__ = ["Collection"]


@dataclass(frozen=True, kw_only=True)
class Collection(ActivityStreamsDocument):
    """Collection, OrderedCollection and their pages. ``items`` reads ``orderedItems`` too."""

    TYPE = "Collection"
    total_items: int | None
    first: Ref | None
    last: Ref | None
    next: Ref | None
    prev: Ref | None
    part_of: str | None
    items: tuple[Ref, ...]

    @property
    def ordered(self) -> bool:
        return self.type.startswith("Ordered")

    @property
    def item_ids(self) -> tuple[str | None, ...]:
        return tuple(j.object_id(item) for item in self.items)

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        key = "orderedItems" if "orderedItems" in doc else "items"
        # Pages embedded in first/next are transient: Mastodon sends them without an id.
        return {
            "total_items": j.opt_int(doc, "totalItems", where),
            "first": read_opt_ref(doc, "first", where, need_id=False),
            "last": read_opt_ref(doc, "last", where, need_id=False),
            "next": read_opt_ref(doc, "next", where, need_id=False),
            "prev": read_opt_ref(doc, "prev", where, need_id=False),
            "part_of": j.opt_ref_id(doc, "partOf", where),
            "items": read_refs(doc, key, where),
        }
