"""Groups that move (FEP-7628, migration 0031): a local group's other addresses
(``alsoKnownAs``), the mark of a moved group, and the history a group takes over from the
group that moved to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.actors import Actor
from storage.rows import maybe_row, to_row


async def set_aliases(conn: Any, actor_id: int, aliases: Sequence[str]) -> Actor:
    """Replace the local actor's ``alsoKnownAs`` (order kept, no duplicates)."""
    unique = list(dict.fromkeys(aliases))
    row = await conn.fetchrow(
        "UPDATE actors SET also_known_as = $2::text[], updated_at = now()"
        " WHERE id = $1 AND local RETURNING *", actor_id, unique)
    return to_row(Actor, row)


async def mark_moved(conn: Any, actor_id: int, target: str) -> Actor:
    """A local group moved to ``target``: ``moved_to`` and ``moved_at`` (first move kept)."""
    row = await conn.fetchrow(
        "UPDATE actors SET moved_to = $2, moved_at = coalesce(moved_at, now()),"
        " updated_at = now() WHERE id = $1 RETURNING *", actor_id, target)
    return to_row(Actor, row)


async def local_heir(conn: Any, group_id: int) -> Actor | None:
    """The live local group that names the (remote) group ``group_id`` in its
    ``alsoKnownAs``: it takes over that group's history."""
    row = await conn.fetchrow(
        "SELECT h.* FROM actors o JOIN actors h ON o.ap_id = ANY(h.also_known_as)"
        " WHERE o.id = $1 AND NOT o.local AND h.local AND h.type = 'Group'"
        " AND h.deleted_at IS NULL ORDER BY h.id LIMIT 1", group_id)
    return maybe_row(Actor, row)


async def adopt_posts(conn: Any, from_group: int, to_group: int) -> int:
    """Move the posts (threads with their replies) of ``from_group`` into ``to_group``;
    the number moved. The counters and the search documents follow by their triggers."""
    status: str = await conn.execute(
        "UPDATE posts SET group_id = $2 WHERE group_id = $1", from_group, to_group)
    return int(status.split()[-1])
