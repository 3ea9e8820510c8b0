"""A post's tags: the actors it mentions (``post_mentions``, migration 0011) and the
threads carrying a hashtag (``posts.hashtags``, indexed by migration 0013)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.actors import Actor
from storage.posts import Post
from storage.rows import to_row

__all__ = ["count_tag_threads", "mentioned_actors", "replace_mentions", "tag_threads_page"]


async def replace_mentions(conn: Any, post_id: int, actor_ids: Sequence[int]) -> None:
    """The post mentions exactly ``actor_ids`` (an edit may drop or add some)."""
    await conn.execute(
        "DELETE FROM post_mentions WHERE post_id = $1 AND NOT (actor_id = ANY($2::bigint[]))",
        post_id, list(actor_ids))
    if actor_ids:
        await conn.execute(
            "INSERT INTO post_mentions (post_id, actor_id)"
            " SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
            post_id, list(dict.fromkeys(actor_ids)))


async def mentioned_actors(conn: Any, post_id: int) -> list[Actor]:
    """The actors a post mentions, in a stable order (for its Mention tags)."""
    rows = await conn.fetch(
        "SELECT a.* FROM post_mentions m JOIN actors a ON a.id = m.actor_id"
        " WHERE m.post_id = $1 ORDER BY a.id", post_id)
    return [to_row(Actor, r) for r in rows]


# Threads (visible, in a group that is not deleted) with the tag on the thread or on one of
# its visible posts; newest thread first, the cursor is (published, id) of the last one.
_TAG_THREADS = """
SELECT t.* FROM posts t
WHERE t.parent_id IS NULL AND t.deleted_at IS NULL AND t.removed_at IS NULL
  AND EXISTS (SELECT 1 FROM posts p
              WHERE p.thread_id = t.id AND p.hashtags @> ARRAY[$1]::text[]
                AND p.deleted_at IS NULL AND p.removed_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM actors g WHERE g.id = t.group_id AND g.deleted_at IS NOT NULL)
  AND ($2::timestamptz IS NULL OR (t.published, t.id) < ($2, $3))
ORDER BY t.published DESC, t.id DESC
LIMIT $4
"""


async def tag_threads_page(conn: Any, tag: str, *, limit: int,
                           before: tuple[datetime, int] | None = None) -> list[Post]:
    rows = await conn.fetch(_TAG_THREADS, tag, before[0] if before else None,
                            before[1] if before else 0, limit)
    return [to_row(Post, r) for r in rows]


async def count_tag_threads(conn: Any, tag: str) -> int:
    """Visible threads with a visible post carrying the tag: the counter row kept by the
    posts triggers of migration 0017 (tag_threads, tag_counts)."""
    return int(await conn.fetchval(
        "SELECT coalesce((SELECT threads FROM tag_counts WHERE tag = $1), 0)", tag))
