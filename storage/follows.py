"""Follow relations between actors (pending until accepted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.actors import Actor
from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Follow:
    id: int
    ap_id: str | None
    follower_id: int
    target_id: int
    state: str
    created_at: datetime
    accepted_at: datetime | None


async def upsert(conn: Any, *, follower_id: int, target_id: int, ap_id: str | None,
                 state: str) -> Follow:
    """Record a follow; a repeated Follow refreshes its id (and may accept it)."""
    row = await conn.fetchrow(
        """
        INSERT INTO follows (follower_id, target_id, ap_id, state, accepted_at)
        VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'accepted' THEN now() END)
        ON CONFLICT (follower_id, target_id) DO UPDATE
            SET ap_id = coalesce(EXCLUDED.ap_id, follows.ap_id),
                state = CASE WHEN follows.state = 'accepted' THEN 'accepted'
                             ELSE EXCLUDED.state END,
                accepted_at = coalesce(follows.accepted_at, EXCLUDED.accepted_at)
        RETURNING *
        """,
        follower_id, target_id, ap_id, state,
    )
    return to_row(Follow, row)


async def get(conn: Any, follower_id: int, target_id: int) -> Follow | None:
    return maybe_row(Follow, await conn.fetchrow(
        "SELECT * FROM follows WHERE follower_id = $1 AND target_id = $2", follower_id, target_id
    ))


async def by_ap_id(conn: Any, ap_id: str) -> Follow | None:
    return maybe_row(Follow, await conn.fetchrow("SELECT * FROM follows WHERE ap_id = $1", ap_id))


async def accept(conn: Any, follow_id: int) -> None:
    await conn.execute(
        "UPDATE follows SET state = 'accepted', accepted_at = coalesce(accepted_at, now())"
        " WHERE id = $1",
        follow_id,
    )


async def delete(conn: Any, follower_id: int, target_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM follows WHERE follower_id = $1 AND target_id = $2", follower_id, target_id
    )
    return bool(status.endswith(" 1"))


async def followers(conn: Any, target_id: int, *, accepted_only: bool = True) -> list[Actor]:
    rows = await conn.fetch(
        "SELECT a.* FROM follows f JOIN actors a ON a.id = f.follower_id"
        " WHERE f.target_id = $1 AND (NOT $2 OR f.state = 'accepted') AND a.deleted_at IS NULL"
        " ORDER BY f.id",
        target_id, accepted_only,
    )
    return [to_row(Actor, r) for r in rows]


@dataclass(frozen=True)
class FollowerInbox:
    """A delivery inbox (shared when the follower has one) and its host's software."""

    inbox: str
    software: str | None


async def remote_follower_inboxes(conn: Any, target_id: int) -> list[FollowerInbox]:
    """Distinct delivery inboxes of the live remote actors following ``target_id``."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox, a.inbox) AS inbox, i.software
        FROM follows f
        JOIN actors a ON a.id = f.follower_id
        LEFT JOIN instances i ON i.domain = a.domain
        WHERE f.target_id = $1 AND f.state = 'accepted' AND NOT a.local
          AND a.deleted_at IS NULL AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL
        """,
        target_id,
    )
    return [to_row(FollowerInbox, r) for r in rows]


async def follower_count(conn: Any, target_id: int) -> int:
    """Accepted followers, from the counter row (migration 0017)."""
    return int(await conn.fetchval(
        "SELECT coalesce((SELECT followers FROM actor_counts WHERE actor_id = $1), 0)",
        target_id))


async def following(conn: Any, follower_id: int) -> list[tuple[Actor, str]]:
    rows = await conn.fetch(
        "SELECT a.*, f.state AS follow_state FROM follows f JOIN actors a ON a.id = f.target_id"
        " WHERE f.follower_id = $1 ORDER BY f.id",
        follower_id,
    )
    return [(to_row(Actor, r), r["follow_state"]) for r in rows]


async def following_count(conn: Any, follower_id: int) -> int:
    """Accepted follows by the actor, from the counter row (migration 0017)."""
    return int(await conn.fetchval(
        "SELECT coalesce((SELECT following FROM actor_counts WHERE actor_id = $1), 0)",
        follower_id))


async def local_member_count(conn: Any, group_id: int) -> int:
    """How many of our own actors follow the (remote) group, accepted."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM follows f JOIN actors a ON a.id = f.follower_id"
        " WHERE f.target_id = $1 AND f.state = 'accepted' AND a.local", group_id))


async def move_follower(conn: Any, from_id: int, to_id: int) -> int:
    """Hand the follows of local actors by ``from_id`` over to ``to_id`` (an actor that
    moved). Where ``to_id`` follows the same actor already, the old row just goes.
    Returns how many follows were handed over."""
    if from_id == to_id:
        return 0
    # Both statements see the rows as they were, so the two sets are disjoint; a
    # data-modifying WITH runs to completion even when nothing reads its rows.
    return int(await conn.fetchval(
        """
        WITH moved AS (
            UPDATE follows f SET follower_id = $2
            FROM actors t
            WHERE t.id = f.target_id AND t.local AND f.follower_id = $1
              AND NOT EXISTS (SELECT 1 FROM follows x
                              WHERE x.follower_id = $2 AND x.target_id = f.target_id)
            RETURNING f.id
        ), dropped AS (
            DELETE FROM follows f USING actors t
            WHERE t.id = f.target_id AND t.local AND f.follower_id = $1
              AND EXISTS (SELECT 1 FROM follows x
                          WHERE x.follower_id = $2 AND x.target_id = f.target_id)
            RETURNING f.id
        )
        SELECT count(*) FROM moved
        """,
        from_id, to_id,
    ))
