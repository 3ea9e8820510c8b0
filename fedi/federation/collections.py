"""OrderedCollection and OrderedCollectionPage documents, with keyset paging.

A collection answers with ``totalItems`` and a ``first`` page (``?page=true``); pages
link on with ``?page=before-<key>`` / ``?page=after-<key>``, where the key is the row id
of the last (or first) item shown. Keys instead of offsets keep the pages stable while
new items arrive: a new post never pushes an item onto the next page twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fedi.core.errors import AppError
from fedi.federation.documents import strip_context, with_context

PAGE_SIZE = 20
FIRST_PAGE = "true"

# (before, after, limit) -> rows as (key, item). With ``after`` set the rows come in
# ascending key order (key > after), otherwise descending (key < before, when given).
PageFetch = Callable[[int | None, int | None, int], Awaitable[Sequence[tuple[int, Any]]]]


@dataclass(frozen=True)
class PageCursor:
    """Where a page starts: at the beginning, or strictly before/after a key."""

    before: int | None = None
    after: int | None = None

    @property
    def is_start(self) -> bool:
        return self.before is None and self.after is None

    @property
    def token(self) -> str:
        if self.before is not None:
            return f"before-{self.before}"
        if self.after is not None:
            return f"after-{self.after}"
        return FIRST_PAGE


def parse_page(raw: str) -> PageCursor:
    """Read the ``page`` query parameter; a bad value is a clear 400."""
    value = raw.strip().lower()
    if value in (FIRST_PAGE, "1", "first"):
        return PageCursor()
    direction, _, number = value.partition("-")
    if direction in ("before", "after") and number.isascii() and number.isdigit():
        key = int(number)
        if key < 2**63:  # bigint keys; a longer number cannot name a row
            return PageCursor(before=key) if direction == "before" else PageCursor(after=key)
    raise AppError(
        f"page must be 'true', 'before-<id>' or 'after-<id>', got {raw[:40]!r}", field="page"
    )


def page_url(collection_id: str, cursor: PageCursor) -> str:
    return f"{collection_id}?page={cursor.token}"


def ordered_collection(collection_id: str, total: int, *, paged: bool = True,
                       items: list[Any] | None = None,
                       extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The collection itself: its size, and either a first page or (small ones) its items."""
    doc: dict[str, Any] = {"id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if items is not None:
        doc["orderedItems"] = [strip_context(item) for item in items]
    elif paged:
        doc["first"] = page_url(collection_id, PageCursor())
    doc.update(extra or {})
    return with_context(doc)


async def collection_page(
    collection_id: str,
    cursor: PageCursor,
    fetch: PageFetch,
    *,
    total: int,
    newest_first: bool,
    page_size: int = PAGE_SIZE,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One OrderedCollectionPage: items in collection order, ``next``/``prev`` links."""
    before, after = cursor.before, cursor.after
    if cursor.is_start and not newest_first:
        after = 0  # oldest first: start from the smallest key, ascending
    ascending = after is not None
    # Travelling in the collection's own order ("forward") or back towards its start.
    forward = ascending != newest_first
    rows = list(await fetch(before, after, page_size + 1))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if not forward:
        rows.reverse()
    # Coming from a cursor means something lies behind us in the direction we came from.
    has_next = more if forward else True
    has_prev = (not cursor.is_start) if forward else more

    doc: dict[str, Any] = {
        "id": page_url(collection_id, cursor),
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": [strip_context(item) for _, item in rows],
    }
    if rows:
        first_key, last_key = rows[0][0], rows[-1][0]
        if has_next:
            onward = PageCursor(before=last_key) if newest_first else PageCursor(after=last_key)
            doc["next"] = page_url(collection_id, onward)
        if has_prev:
            back = PageCursor(after=first_key) if newest_first else PageCursor(before=first_key)
            doc["prev"] = page_url(collection_id, back)
    doc.update(extra or {})
    return with_context(doc)


async def collection_or_page(
    collection_id: str,
    page: str | None,
    fetch: PageFetch,
    *,
    total: int,
    newest_first: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The collection when no ``page`` is asked for, else that page."""
    if page is None:
        return ordered_collection(collection_id, total, extra=extra)
    return await collection_page(collection_id, parse_page(page), fetch, total=total,
                                 newest_first=newest_first, extra=extra)
