"""Read-only SQL that only the web pages need (search, a person's posts).

Kept here rather than in ``storage/`` while the pages are the only callers; it follows the
storage pattern (named statements with ``$n`` parameters, row dataclasses) so it can move
to ``storage/posts.py`` as it is once another caller appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.posts import Post
from storage.rows import to_row

SEARCH_LIMIT = 50

# Posts of the instance's own groups that match the query; a reply counts only while its
# thread is visible. 'german' stems compounds' endings: "Förderantrag" finds "Förderanträge".
_SEARCH = """
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

_BY_AUTHOR = """
SELECT p.*, t.title AS thread_title
FROM posts p JOIN posts t ON t.id = p.thread_id
WHERE p.author_id = $1
  AND p.deleted_at IS NULL AND p.removed_at IS NULL
  AND t.deleted_at IS NULL AND t.removed_at IS NULL
ORDER BY p.id DESC
LIMIT $2
"""


@dataclass(frozen=True)
class Hit:
    post: Post
    thread_title: str | None


async def search(conn: Any, query: str, *, group_id: int | None = None,
                 limit: int = SEARCH_LIMIT) -> list[Hit]:
    rows = await conn.fetch(_SEARCH, query, group_id, limit)
    return [Hit(to_row(Post, r), r["thread_title"]) for r in rows]


async def posts_by_author(conn: Any, actor_id: int, *, limit: int = 20) -> list[Hit]:
    rows = await conn.fetch(_BY_AUTHOR, actor_id, limit)
    return [Hit(to_row(Post, r), r["thread_title"]) for r in rows]
