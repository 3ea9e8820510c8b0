"""Full-text search over the posts of this instance's groups (the ``posts.search`` column)."""

from __future__ import annotations

from typing import Any

from storage.posts import Post, PostInThread
from storage.rows import to_row

SEARCH_LIMIT = 50

# Posts of the instance's own groups that match the query; a reply counts only while its
# thread is visible. 'german' stems compounds' endings: "Förderantrag" finds "Förderanträge".
_SEARCH_POSTS = """
SELECT p.*, t.title AS thread_title, ts_rank(p.search, q) AS rank
FROM posts p
JOIN actors g ON g.id = p.group_id AND g.local AND g.deleted_at IS NULL
JOIN posts t ON t.id = p.thread_id
CROSS JOIN websearch_to_tsquery('german', $1) AS q
WHERE p.search @@ q
  AND p.deleted_at IS NULL AND p.removed_at IS NULL
  AND t.deleted_at IS NULL AND t.removed_at IS NULL
  AND ($2::bigint IS NULL OR p.group_id = $2)
ORDER BY rank DESC, p.id DESC
LIMIT $3
"""


async def search_posts(conn: Any, query: str, *, group_id: int | None = None,
                       limit: int = SEARCH_LIMIT) -> list[PostInThread]:
    """Best matches first; ``query`` in web-search syntax ("quoted phrase", -excluded, or)."""
    rows = await conn.fetch(_SEARCH_POSTS, query, group_id, limit)
    return [PostInThread(to_row(Post, r), r["thread_title"]) for r in rows]
