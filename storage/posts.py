"""Threads and replies (one table; a thread is a post without parent) and their likes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Post:
    id: int
    ap_id: str
    local: bool
    group_id: int | None
    author_id: int
    thread_id: int | None
    parent_id: int | None
    depth: int
    type: str
    title: str | None
    content_html: str
    source: str | None
    source_media_type: str | None
    language: str | None
    summary: str | None
    sensitive: bool
    url: str | None
    context_url: str | None
    hashtags: list[str]
    attachments: list[Any]
    raw: dict[str, Any] | None
    like_count: int
    dislike_count: int
    reply_count: int
    locked: bool
    pinned_at: datetime | None
    removed_at: datetime | None
    removed_reason: str | None
    deleted_at: datetime | None
    published: datetime
    updated: datetime | None
    last_activity_at: datetime
    # Questions (migration 0014, fedi/forum/answers.py): kind of a thread, its accepted
    # answer, and a moderator's highlight of a reply as the official answer.
    kind: str = "discussion"
    accepted_answer_id: int | None = None
    accepted_at: datetime | None = None
    accepted_by: int | None = None
    highlighted_at: datetime | None = None
    highlighted_by: int | None = None

    @property
    def is_thread(self) -> bool:
        return self.parent_id is None

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and self.removed_at is None



INSERTABLE = (
    "ap_id", "local", "group_id", "author_id", "thread_id", "parent_id", "depth", "type",
    "title", "content_html", "source", "source_media_type", "language", "summary",
    "sensitive", "url", "context_url", "hashtags", "attachments", "raw", "published",
    "updated", "kind",
)


async def next_id(conn: Any) -> int:
    """Reserve an id, so a local post's ActivityPub id can be written with the row."""
    return int(await conn.fetchval("SELECT nextval('posts_id_seq')"))


async def insert(conn: Any, values: dict[str, Any], *, post_id: int | None = None) -> Post:
    """Insert a post; a thread gets thread_id = its own id. Updates the parent's counters."""
    unknown = set(values) - set(INSERTABLE)
    if unknown:
        raise ValueError(f"not post columns: {sorted(unknown)}")
    if post_id is None:
        post_id = await next_id(conn)
    values = dict(values)
    if values.get("thread_id") is None:
        values["thread_id"] = post_id
    columns = ["id", *values]
    params = [post_id, *values.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO posts ({', '.join(columns)}) VALUES ({placeholders}) RETURNING *", *params
    )
    post = to_row(Post, row)
    if post.parent_id is not None:
        await conn.execute(
            "UPDATE posts SET reply_count = reply_count + 1 WHERE id = $1", post.parent_id
        )
        await conn.execute(
            "UPDATE posts SET last_activity_at = greatest(last_activity_at, $2) WHERE id = $1",
            post.thread_id, post.published,
        )
    return post


async def get(conn: Any, post_id: int) -> Post | None:
    return maybe_row(Post, await conn.fetchrow("SELECT * FROM posts WHERE id = $1", post_id))


async def get_for_update(conn: Any, post_id: int) -> Post | None:
    """The post, locked for writing until the caller's transaction ends: a concurrent
    lock, removal or deletion of it waits, so what the caller checks stays true. Not a
    share lock: every caller then updates the row (a reply's counters, an accepted
    answer), and two share-lock holders upgrading deadlock; writers queue instead.
    ``NO KEY``: inserting a reply that references the row is not blocked by it."""
    row = await conn.fetchrow("SELECT * FROM posts WHERE id = $1 FOR NO KEY UPDATE",
                              post_id)
    return maybe_row(Post, row)


async def by_ap_id(conn: Any, ap_id: str) -> Post | None:
    return maybe_row(Post, await conn.fetchrow("SELECT * FROM posts WHERE ap_id = $1", ap_id))


async def update_content(conn: Any, post_id: int, **values: Any) -> Post:
    allowed = {"title", "content_html", "source", "source_media_type", "summary", "sensitive",
               "language", "hashtags", "attachments", "raw", "updated"}
    if set(values) - allowed:
        raise ValueError(f"not editable: {sorted(set(values) - allowed)}")
    if "updated" not in values:
        values["updated"] = datetime.now().astimezone()
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    row = await conn.fetchrow(
        f"UPDATE posts SET {sets} WHERE id = $1 RETURNING *", post_id, *values.values()
    )
    return to_row(Post, row)


async def mark_deleted(conn: Any, post_id: int) -> None:
    """The author deleted it: the content goes, a tombstone stays."""
    await conn.execute(
        "UPDATE posts SET deleted_at = coalesce(deleted_at, now()), content_html = '',"
        " source = NULL, title = CASE WHEN parent_id IS NULL THEN title END,"
        " attachments = '[]', raw = NULL WHERE id = $1",
        post_id,
    )


async def thread_posts(conn: Any, thread_id: int) -> list[Post]:
    """Every post of a thread, root first, then replies in order of creation."""
    rows = await conn.fetch(
        "SELECT * FROM posts WHERE thread_id = $1 ORDER BY (parent_id IS NOT NULL), id", thread_id
    )
    return [to_row(Post, r) for r in rows]


class ReplyRow(NamedTuple):
    """A reply as the thread page shows it: only the columns it reads (no jsonb decoded,
    no dataclass built per row; a 300-reply thread is read often)."""

    id: int
    thread_id: int | None
    parent_id: int | None
    depth: int
    author_id: int
    content_html: str
    language: str | None
    summary: str | None
    like_count: int
    highlighted_at: datetime | None
    removed_at: datetime | None
    removed_reason: str | None
    deleted_at: datetime | None
    published: datetime
    updated: datetime | None
    # Issue 19: None for the many replies without attachments (no jsonb decoded for them).
    attachments: list[Any] | None = None

    @property
    def is_thread(self) -> bool:
        return self.parent_id is None

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and self.removed_at is None


_THREAD_REPLIES = (f"SELECT {', '.join(ReplyRow._fields[:-1])},"
                   " NULLIF(attachments, '[]') AS attachments FROM posts"
                   " WHERE thread_id = $1 AND parent_id IS NOT NULL ORDER BY id")


async def thread_replies(conn: Any, thread_id: int) -> list[ReplyRow]:
    """The replies of a thread in order of creation, as narrow rows (the thread page)."""
    make = ReplyRow._make
    return [make(r) for r in await conn.fetch(_THREAD_REPLIES, thread_id)]


@dataclass(frozen=True)
class PostInThread:
    """A post shown outside its thread (search results, a person's posts): with the
    thread's title, as a reply has none of its own."""

    post: Post
    thread_title: str | None


# A reply is listed only while its thread is visible too.
_VISIBLE_BY_AUTHOR = """
SELECT p.*, t.title AS thread_title
FROM posts p JOIN posts t ON t.id = p.thread_id
WHERE p.author_id = $1
  AND p.deleted_at IS NULL AND p.removed_at IS NULL
  AND t.deleted_at IS NULL AND t.removed_at IS NULL
ORDER BY p.id DESC
LIMIT $2
"""


async def visible_by_author(conn: Any, author_id: int, *, limit: int = 20) -> list[PostInThread]:
    """An author's visible posts, newest first (the profile page)."""
    rows = await conn.fetch(_VISIBLE_BY_AUTHOR, author_id, limit)
    return [PostInThread(to_row(Post, r), r["thread_title"]) for r in rows]


# Thread states (fedi/forum/answers.py): open = not solved, unanswered = no replies.
STATE_FILTERS = {
    "open": " AND accepted_answer_id IS NULL",
    "unanswered": " AND accepted_answer_id IS NULL AND reply_count = 0",
    "solved": " AND accepted_answer_id IS NOT NULL",
}


async def threads_page(
    conn: Any, group_id: int, *, limit: int, before: tuple[datetime, int] | None = None,
    include_hidden: bool = False, state: str | None = None,
) -> list[Post]:
    """Threads of a group, pinned first on the first page, then newest activity first.

    The cursor ``before`` is (last_activity_at, id) of the last thread on the previous page;
    pinned threads are listed only on the first page. ``state`` (a key of
    :data:`STATE_FILTERS`) keeps only threads in that state.
    """
    hidden = "" if include_hidden else " AND deleted_at IS NULL AND removed_at IS NULL"
    hidden += STATE_FILTERS[state] if state else ""
    if before is None:
        # Pinned threads as their own query (posts_group_pinned), then the rest straight
        # from posts_group_threads: one ORDER BY over both cannot use the index.
        rows = await conn.fetch(
            "SELECT * FROM posts WHERE group_id = $1 AND parent_id IS NULL"
            " AND pinned_at IS NOT NULL" + hidden +
            " ORDER BY pinned_at DESC, last_activity_at DESC, id DESC LIMIT $2",
            group_id, limit,
        )
        if len(rows) < limit:
            rows += await conn.fetch(
                "SELECT * FROM posts WHERE group_id = $1 AND parent_id IS NULL"
                " AND pinned_at IS NULL" + hidden +
                " ORDER BY last_activity_at DESC, id DESC LIMIT $2",
                group_id, limit - len(rows),
            )
    else:
        rows = await conn.fetch(
            "SELECT * FROM posts WHERE group_id = $1 AND parent_id IS NULL AND pinned_at IS NULL"
            + hidden +
            " AND (last_activity_at, id) < ($2, $3)"
            " ORDER BY last_activity_at DESC, id DESC LIMIT $4",
            group_id, before[0], before[1], limit,
        )
    return [to_row(Post, r) for r in rows]


async def open_questions(conn: Any, *, limit: int) -> list[Post]:
    """Unsolved questions across every group, newest activity first (the start page)."""
    rows = await conn.fetch(
        "SELECT * FROM posts WHERE parent_id IS NULL AND kind = 'question'"
        " AND accepted_answer_id IS NULL AND deleted_at IS NULL AND removed_at IS NULL"
        " AND group_id IS NOT NULL ORDER BY last_activity_at DESC, id DESC LIMIT $1", limit)
    return [to_row(Post, r) for r in rows]


async def set_accepted(conn: Any, thread_id: int, answer_id: int | None, *,
                       by: int | None, kind: str | None = None) -> Post:
    """Set (or with None clear) a thread's accepted answer; a thread with an accepted
    answer is a question."""
    row = await conn.fetchrow(
        "UPDATE posts SET accepted_answer_id = $2,"
        " accepted_at = CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() END,"
        " accepted_by = CASE WHEN $2::bigint IS NULL THEN NULL ELSE $3::bigint END,"
        " kind = coalesce($4, CASE WHEN $2::bigint IS NULL THEN kind ELSE 'question' END)"
        " WHERE id = $1 RETURNING *", thread_id, answer_id, by, kind)
    return to_row(Post, row)


async def touch_updated(conn: Any, post_id: int) -> Post:
    """Mark the post as changed now (so the Update we send is newer than any copy)."""
    row = await conn.fetchrow(
        "UPDATE posts SET updated = now() WHERE id = $1 RETURNING *", post_id)
    return to_row(Post, row)


async def set_kind(conn: Any, post_id: int, kind: str) -> None:
    await conn.execute("UPDATE posts SET kind = $2 WHERE id = $1 AND parent_id IS NULL",
                       post_id, kind)


async def set_highlighted(conn: Any, post_id: int, by: int | None) -> Post | None:
    """Highlight a reply as the official answer (``by`` the moderator), or with None
    take it back; None when it already was in that state."""
    row = await conn.fetchrow(
        "UPDATE posts SET highlighted_at = CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() END,"
        " highlighted_by = $2 WHERE id = $1 AND (highlighted_at IS NULL) = ($2::bigint IS NOT NULL)"
        " RETURNING *", post_id, by)
    return maybe_row(Post, row)


async def group_posts_page(conn: Any, group_id: int, *, limit: int, before_id: int | None,
                           local_only: bool = False) -> list[Post]:
    """All posts of a group, newest first (for the outbox)."""
    rows = await conn.fetch(
        "SELECT * FROM posts WHERE group_id = $1 AND deleted_at IS NULL AND removed_at IS NULL"
        " AND ($2::bigint IS NULL OR id < $2) AND (NOT $4 OR local)"
        " ORDER BY id DESC LIMIT $3",
        group_id, before_id, limit, local_only,
    )
    return [to_row(Post, r) for r in rows]


async def count_group_posts(conn: Any, group_id: int) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM posts WHERE group_id = $1 AND deleted_at IS NULL"
        " AND removed_at IS NULL", group_id))


async def pinned(conn: Any, group_id: int) -> list[Post]:
    rows = await conn.fetch(
        "SELECT * FROM posts WHERE group_id = $1 AND parent_id IS NULL AND pinned_at IS NOT NULL"
        " AND deleted_at IS NULL AND removed_at IS NULL ORDER BY pinned_at DESC", group_id)
    return [to_row(Post, r) for r in rows]


async def count_local(conn: Any) -> int:
    """Visible local posts: the sum of the local actors' counter rows (migration 0017)."""
    return int(await conn.fetchval(
        "SELECT coalesce(sum(c.authored), 0) FROM actor_counts c"
        " JOIN actors a ON a.id = c.actor_id WHERE a.local"))


# Likes ---------------------------------------------------------------------------------------

async def add_like(conn: Any, post_id: int, actor_id: int, *, kind: str = "like",
                   ap_id: str | None = None) -> bool:
    """True when the like is new (a repeated like changes nothing)."""
    inserted = await conn.fetchval(
        "INSERT INTO likes (post_id, actor_id, kind, ap_id) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING id",
        post_id, actor_id, kind, ap_id,
    )
    if inserted is None:
        return False
    column = "like_count" if kind == "like" else "dislike_count"
    await conn.execute(f"UPDATE posts SET {column} = {column} + 1 WHERE id = $1", post_id)
    return True


async def remove_like(conn: Any, post_id: int, actor_id: int, *, kind: str = "like") -> str | None:
    """Remove a like; returns its activity id ('' when it had none), None when there was none."""
    row = await conn.fetchrow(
        "DELETE FROM likes WHERE post_id = $1 AND actor_id = $2 AND kind = $3 RETURNING ap_id",
        post_id, actor_id, kind,
    )
    if row is None:
        return None
    column = "like_count" if kind == "like" else "dislike_count"
    await conn.execute(
        f"UPDATE posts SET {column} = greatest({column} - 1, 0) WHERE id = $1", post_id
    )
    return str(row["ap_id"] or "")


async def like_by_ap_id(conn: Any, ap_id: str) -> tuple[int, int, str] | None:
    """(post_id, actor_id, kind) of a like by its activity id."""
    row = await conn.fetchrow("SELECT post_id, actor_id, kind FROM likes WHERE ap_id = $1", ap_id)
    return None if row is None else (row["post_id"], row["actor_id"], row["kind"])


async def liked_by(conn: Any, actor_id: int, post_ids: list[int]) -> set[int]:
    rows = await conn.fetch(
        "SELECT post_id FROM likes WHERE actor_id = $1 AND kind = 'like'"
        " AND post_id = ANY($2::bigint[])", actor_id, post_ids)
    return {r["post_id"] for r in rows}


# Read-only queries for the ActivityPub collections (keyset pages) ------------------------

async def thread_ap_ids_page(conn: Any, thread_id: int, *, limit: int,
                             before_id: int | None = None,
                             after_id: int | None = None) -> list[tuple[int, str]]:
    """(id, ap_id) of a thread's posts, deleted ones included (they answer as Tombstones).

    With ``after_id`` ascending from it, otherwise descending (below ``before_id``).
    """
    order = "ASC" if after_id is not None else "DESC"
    rows = await conn.fetch(
        "SELECT id, ap_id FROM posts WHERE thread_id = $1"
        " AND ($2::bigint IS NULL OR id < $2) AND ($3::bigint IS NULL OR id > $3)"
        f" ORDER BY id {order} LIMIT $4",
        thread_id, before_id, after_id, limit,
    )
    return [(r["id"], r["ap_id"]) for r in rows]


async def count_thread_posts(conn: Any, thread_id: int) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM posts WHERE thread_id = $1", thread_id))


# Moderation (the content stays: removal hides, it does not delete) -----------------------

async def set_removed(conn: Any, post_id: int, *, reason: str) -> Post | None:
    """Hide a post (a thread root hides its thread) with the moderator's reason; None when
    it was removed already."""
    row = await conn.fetchrow(
        "UPDATE posts SET removed_at = now(), removed_reason = $2"
        " WHERE id = $1 AND removed_at IS NULL RETURNING *", post_id, reason)
    return maybe_row(Post, row)


async def set_restored(conn: Any, post_id: int) -> Post | None:
    """Show a removed post again; None when it was not removed."""
    row = await conn.fetchrow(
        "UPDATE posts SET removed_at = NULL, removed_reason = NULL, hidden_by_domain = NULL"
        " WHERE id = $1 AND removed_at IS NOT NULL RETURNING *", post_id)
    return maybe_row(Post, row)


async def set_locked(conn: Any, post_id: int, locked: bool) -> Post | None:
    """Lock or unlock; None when it already was in that state."""
    row = await conn.fetchrow(
        "UPDATE posts SET locked = $2 WHERE id = $1 AND locked <> $2 RETURNING *",
        post_id, locked)
    return maybe_row(Post, row)


async def set_pinned(conn: Any, post_id: int, pinned: bool) -> Post | None:
    """Pin or unpin; None when it already was in that state."""
    row = await conn.fetchrow(
        "UPDATE posts SET pinned_at = CASE WHEN $2 THEN now() END WHERE id = $1"
        " AND (pinned_at IS NOT NULL) <> $2 RETURNING *", post_id, pinned)
    return maybe_row(Post, row)
