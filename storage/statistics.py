"""The instance's statistics (issue 18): counts per local group and for the whole instance.

Every count reads a counter row of migration 0017 (a group's threads and posts, the local
actors' authored posts) or an index that holds only what is counted (migration 0026: a
group's questions; a person's newest post, like and session), never a pass over all posts:
the public statistics page may be requested by anyone, as often as they like.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import to_row


@dataclass(frozen=True)
class Counts:
    """What is counted per group (and summed for the instance)."""

    threads: int
    replies: int
    questions: int
    questions_solved: int
    events_upcoming: int
    events_past: int
    remote_followers: int


@dataclass(frozen=True)
class GroupCounts(Counts):
    group_id: int
    username: str
    name: str | None


@dataclass(frozen=True)
class InstanceCounts:
    accounts: int
    local_posts: int
    remote_followers: int


# A local group's visible threads and posts come from its counter row; questions from
# posts_group_questions; events from events_group; followers through follows_target.
_GROUPS = """
SELECT a.id AS group_id, a.username, a.name,
       coalesce(c.threads, 0) AS threads,
       greatest(coalesce(c.posts, 0) - coalesce(c.threads, 0), 0) AS replies,
       q.questions, q.questions_solved, e.events_upcoming, e.events_past,
       (SELECT count(*) FROM follows f JOIN actors r ON r.id = f.follower_id
         WHERE f.target_id = a.id AND f.state = 'accepted' AND NOT r.local) AS remote_followers
FROM actors a
JOIN groups g ON g.actor_id = a.id
LEFT JOIN actor_counts c ON c.actor_id = a.id
CROSS JOIN LATERAL (
    SELECT count(*) AS questions, count(p.accepted_answer_id) AS questions_solved
    FROM posts p
    WHERE p.group_id = a.id AND p.parent_id IS NULL AND p.kind = 'question'
      AND p.deleted_at IS NULL AND p.removed_at IS NULL) q
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE coalesce(ev.ends_at, ev.starts_at) >= $1) AS events_upcoming,
           count(*) FILTER (WHERE coalesce(ev.ends_at, ev.starts_at) < $1) AS events_past
    FROM events ev WHERE ev.group_id = a.id AND ev.deleted_at IS NULL) e
WHERE a.local AND a.deleted_at IS NULL
ORDER BY lower(a.username)
"""

# Accounts: active (not pending, rejected or suspended) and not deleted.
_LIVE_ACCOUNTS = (" FROM accounts ac JOIN actors ad ON ad.id = ac.actor_id"
                  " WHERE ac.status = 'active' AND ad.deleted_at IS NULL")

_TOTALS = (
    "SELECT (SELECT count(*)" + _LIVE_ACCOUNTS + ") AS accounts,"
    " (SELECT coalesce(sum(c.authored), 0)::bigint FROM actor_counts c JOIN actors a"
    "  ON a.id = c.actor_id WHERE a.local) AS local_posts,"
    # Different people: a server's account that follows two groups counts once.
    " (SELECT count(DISTINCT f.follower_id) FROM follows f"
    "  JOIN actors t ON t.id = f.target_id JOIN groups g ON g.actor_id = t.id"
    "  JOIN actors r ON r.id = f.follower_id"
    "  WHERE t.local AND t.deleted_at IS NULL AND f.state = 'accepted' AND NOT r.local)"
    "  AS remote_followers"
)

# Active since $1: wrote a thread or reply (the newest post, posts_author_recent), liked
# (the newest like, likes_actor_recent), or used a session or API token (logging in
# creates one; its last use is recorded at most once a minute). One probe of each per
# account.
_ACTIVE = (
    "SELECT count(*)" + _LIVE_ACCOUNTS + " AND ("
    " (SELECT p.published FROM posts p WHERE p.author_id = ac.actor_id"
    "  ORDER BY p.id DESC LIMIT 1) >= $1"
    " OR (SELECT max(l.created_at) FROM likes l WHERE l.actor_id = ac.actor_id) >= $1"
    " OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.account_id = ac.id"
    "  AND (t.last_used_at >= $1 OR t.created_at >= $1)))"
)


async def group_counts(conn: Any, now: datetime) -> list[GroupCounts]:
    """One row per live local group, by name."""
    return [to_row(GroupCounts, r) for r in await conn.fetch(_GROUPS, now)]


async def instance_counts(conn: Any) -> InstanceCounts:
    return to_row(InstanceCounts, await conn.fetchrow(_TOTALS))


async def active_accounts(conn: Any, since: datetime) -> int:
    """Live accounts that posted, liked or used a session or token since ``since``."""
    return int(await conn.fetchval(_ACTIVE, since))
