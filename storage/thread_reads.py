"""SQL of unread tracking (``thread_reads``, migration 0011): per account and thread the
newest post read.

What counts as new for an account: visible posts by others with a larger id than the
last one read (ids grow in the order posts are stored, local and remote alike). A thread
never opened counts the posts published since the account was created: a thread started
after one signed up is new as a whole, older threads only with their newer replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

# The condition "p is new for the reader", with r the LEFT JOINed thread_reads row,
# $1 the reader's actor id and $2 the account's creation time.
_NEW = """p.author_id <> $1 AND p.deleted_at IS NULL AND p.removed_at IS NULL
          AND (CASE WHEN r.account_id IS NULL THEN p.published >= $2
                    ELSE p.id > r.last_read_post_id END)"""


async def mark_read(conn: Any, account_id: int, thread_id: int, up_to: int) -> int:
    """Read up to post ``up_to`` (never backwards); the last post read now."""
    value = await conn.fetchval(
        "INSERT INTO thread_reads (account_id, thread_id, last_read_post_id)"
        " VALUES ($1, $2, $3) ON CONFLICT (account_id, thread_id) DO UPDATE"
        " SET last_read_post_id = greatest(thread_reads.last_read_post_id,"
        "                                  excluded.last_read_post_id), read_at = now()"
        " RETURNING last_read_post_id", account_id, thread_id, up_to)
    return int(value)


async def last_read(conn: Any, account_id: int, thread_id: int) -> int | None:
    value: int | None = await conn.fetchval(
        "SELECT last_read_post_id FROM thread_reads WHERE account_id = $1"
        " AND thread_id = $2", account_id, thread_id)
    return value


async def unread_counts(conn: Any, *, account_id: int, actor_id: int, since: datetime,
                        thread_ids: Sequence[int]) -> dict[int, int]:
    """New posts per thread for the reader (threads without new posts are absent)."""
    if not thread_ids:
        return {}
    rows = await conn.fetch(
        f"""
        SELECT p.thread_id, count(*) AS n
          FROM posts p
          LEFT JOIN thread_reads r ON r.thread_id = p.thread_id AND r.account_id = $3
         WHERE p.thread_id = ANY ($4::bigint[]) AND {_NEW}
         GROUP BY p.thread_id
        """, actor_id, since, account_id, list(thread_ids))
    return {r["thread_id"]: int(r["n"]) for r in rows}


async def first_unread(conn: Any, *, account_id: int, actor_id: int, since: datetime,
                       thread_id: int) -> int | None:
    """The id of the first new post of the thread for the reader."""
    value: int | None = await conn.fetchval(
        f"""
        SELECT min(p.id) FROM posts p
          LEFT JOIN thread_reads r ON r.thread_id = p.thread_id AND r.account_id = $3
         WHERE p.thread_id = $4 AND {_NEW}
        """, actor_id, since, account_id, thread_id)
    return value


async def groups_with_new(conn: Any, *, account_id: int, actor_id: int, since: datetime,
                          group_ids: Sequence[int]) -> dict[int, int]:
    """Per group, how many of its visible threads have new posts for the reader."""
    if not group_ids:
        return {}
    # Per group its threads active since $2 (posts_group_threads), each probed for one
    # new post (posts_thread): written so that a generic plan, which knows neither the
    # groups nor the time, still walks the indexes (issue 17).
    rows = await conn.fetch(
        f"""
        SELECT g.id AS group_id, count(*) AS n
          FROM unnest($4::bigint[]) AS g(id)
          JOIN LATERAL (
                SELECT t.id FROM posts t
                 WHERE t.group_id = g.id AND t.parent_id IS NULL
                   AND t.deleted_at IS NULL AND t.removed_at IS NULL
                   AND t.last_activity_at >= $2) AS t ON true
          JOIN LATERAL (
                SELECT 1 FROM posts p
                  LEFT JOIN thread_reads r ON r.thread_id = p.thread_id AND r.account_id = $3
                 WHERE p.thread_id = t.id AND {_NEW}
                 LIMIT 1) AS new_post ON true
         GROUP BY g.id
        """, actor_id, since, account_id, list(group_ids))
    return {r["group_id"]: int(r["n"]) for r in rows}


async def newest_post(conn: Any, thread_id: int) -> int | None:
    value: int | None = await conn.fetchval(
        "SELECT max(id) FROM posts WHERE thread_id = $1", thread_id)
    return value
