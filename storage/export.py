"""SQL of the data export (DSGVO Art. 15/20): an account's rows, read generically where
other parts may add columns or tables, and its posts in keyset pages."""

from __future__ import annotations

import re
from typing import Any

# Columns never exported: hashes and private keys say nothing about the person and
# would let anyone who gets the file act as them.
_SECRET = re.compile(r"password|hash|secret|private|token")


def public_columns(row: Any) -> dict[str, Any]:
    """The row as a dict without its secret columns (by name: hash, password ...)."""
    return {k: v for k, v in dict(row).items() if not _SECRET.search(k)}


async def account_row(conn: Any, account_id: int) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM accounts WHERE id = $1", account_id)
    return public_columns(row) if row is not None else {}


async def actor_row(conn: Any, actor_id: int) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT * FROM actors WHERE id = $1", actor_id)
    return public_columns(row) if row is not None else {}


async def account_tables(conn: Any) -> list[str]:
    """Every base table (other than accounts, tokens and notifications, exported apart) with an
    ``account_id`` column: a profile table added by a later migration is included."""
    rows = await conn.fetch(
        "SELECT c.table_name FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
        "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
        " WHERE c.table_schema = current_schema() AND c.column_name = 'account_id'"
        "  AND c.table_name NOT IN ('accounts', 'api_tokens', 'notifications') ORDER BY 1")
    return [r["table_name"] for r in rows]


async def rows_of_account(conn: Any, table: str, account_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f'SELECT * FROM "{table}" WHERE account_id = $1 ORDER BY 1', account_id)
    return [public_columns(r) for r in rows]


async def notifications(conn: Any, account_id: int) -> list[dict[str, Any]]:
    """The account's notifications, with the address of whoever caused each."""
    rows = await conn.fetch(
        "SELECT n.*, a.ap_id AS actor_ap_id FROM notifications n"
        " LEFT JOIN actors a ON a.id = n.actor_id WHERE n.account_id = $1 ORDER BY n.id",
        account_id)
    return [public_columns(r) for r in rows]


async def tokens(conn: Any, account_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, kind, name, created_at, last_used_at, expires_at FROM api_tokens"
        " WHERE account_id = $1 ORDER BY id", account_id)
    return [dict(r) for r in rows]


async def posts_page(conn: Any, author_id: int, *, after_id: int,
                     limit: int) -> list[dict[str, Any]]:
    """The author's posts with id > ``after_id``, oldest first."""
    rows = await conn.fetch(
        "SELECT p.id, p.ap_id, p.url, g.ap_id AS group_ap_id,"
        " g.username || '@' || g.domain AS group_handle, p.thread_id, p.parent_id,"
        " p.title, p.source, p.source_media_type, p.content_html, p.language,"
        " p.hashtags, p.published, p.updated, p.deleted_at, p.removed_at, p.removed_reason"
        " FROM posts p LEFT JOIN actors g ON g.id = p.group_id"
        " WHERE p.author_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3",
        author_id, after_id, limit)
    return [dict(r) for r in rows]


async def likes(conn: Any, actor_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT l.kind, l.created_at, l.ap_id, p.ap_id AS post_ap_id, p.id AS post_id"
        " FROM likes l JOIN posts p ON p.id = l.post_id WHERE l.actor_id = $1"
        " ORDER BY l.id", actor_id)
    return [dict(r) for r in rows]


async def follows(conn: Any, actor_id: int) -> list[dict[str, Any]]:
    """What the actor follows (local and remote groups) and its state."""
    rows = await conn.fetch(
        "SELECT a.ap_id AS target_ap_id, a.username || '@' || a.domain AS target_handle,"
        " a.type AS target_type, a.local AS target_local, f.state, f.created_at,"
        " f.accepted_at FROM follows f JOIN actors a ON a.id = f.target_id"
        " WHERE f.follower_id = $1 ORDER BY f.id", actor_id)
    return [dict(r) for r in rows]


async def reports_made(conn: Any, actor_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT r.id, r.reason, r.state, r.created_at, r.resolved_at, r.post_ids,"
        " t.ap_id AS target_actor_ap_id, g.ap_id AS group_ap_id, r.forwarded_to"
        " FROM reports r LEFT JOIN actors t ON t.id = r.target_actor_id"
        " LEFT JOIN actors g ON g.id = r.group_id WHERE r.reporter_id = $1"
        " ORDER BY r.id", actor_id)
    return [dict(r) for r in rows]
