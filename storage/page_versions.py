"""Versions of what anonymous readers see (migration 0020): triggers bump a scope's
version on every write that changes its pages; the page cache (fedi/web/page_cache.py)
serves a page only while the versions it was rendered under are unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GLOBAL = "global"  # actors, groups, instance settings, account status


def thread_scope(thread_id: int) -> str:
    """Every post of the thread (content, likes, answers, lock, pin, removal)."""
    return f"thread:{thread_id}"


async def current(conn: Any, scopes: Sequence[str]) -> tuple[int, ...]:
    """The versions of ``scopes``, in their order (0 for a scope never written)."""
    rows = await conn.fetch(
        "SELECT scope, version FROM page_versions WHERE scope = ANY($1::text[])", list(scopes))
    found = {r["scope"]: r["version"] for r in rows}
    return tuple(found.get(scope, 0) for scope in scopes)
