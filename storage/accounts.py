"""Local accounts, their API/session tokens (stored as SHA-256 only) and instance settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Account:
    """An account row joined with the display fields of its Person actor."""

    id: int
    actor_id: int
    username: str
    # Private data stays out of repr() so it never lands in logs by accident.
    email: str = field(repr=False)
    password_hash: str = field(repr=False)
    role: str
    status: str
    locale: str | None
    registration_reason: str | None
    created_at: datetime
    ap_id: str
    url: str | None
    display_name: str | None
    # When the e-mail address was confirmed (migration 0007); None: not yet.
    email_confirmed_at: datetime | None = field(default=None, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class ApiToken:
    """A token's metadata; the hash is deliberately not part of it."""

    id: int
    account_id: int
    name: str
    kind: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


_ACCOUNT_SELECT = (
    "SELECT a.*, ac.ap_id, ac.url, ac.name AS display_name"
    " FROM accounts a JOIN actors ac ON ac.id = a.actor_id"
)
# The hash stays in the table: ApiToken rows never carry it.
_TOKEN_COLUMNS = "id, account_id, name, kind, created_at, last_used_at, expires_at"  # noqa: S105


async def insert(
    conn: Any, *, actor_id: int, username: str, email: str, password_hash: str,
    role: str = "user", status: str = "active", registration_reason: str | None = None,
    email_confirmed: bool = True,
) -> Account:
    """Insert an account for an existing local actor.

    Raises asyncpg.UniqueViolationError (constraint ``accounts_username`` or
    ``accounts_email``) when the name or the e-mail address is taken.
    """
    account_id = await conn.fetchval(
        "INSERT INTO accounts (actor_id, username, email, password_hash, role, status,"
        " registration_reason, email_confirmed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END) RETURNING id",
        actor_id, username, email, password_hash, role, status, registration_reason,
        email_confirmed,
    )
    account = await get(conn, account_id)
    assert account is not None
    return account


async def get(conn: Any, account_id: int) -> Account | None:
    row = await conn.fetchrow(f"{_ACCOUNT_SELECT} WHERE a.id = $1", account_id)
    return maybe_row(Account, row)


async def by_username(conn: Any, username: str) -> Account | None:
    row = await conn.fetchrow(
        f"{_ACCOUNT_SELECT} WHERE lower(a.username) = lower($1)", username
    )
    return maybe_row(Account, row)


async def by_actor(conn: Any, actor_id: int) -> Account | None:
    row = await conn.fetchrow(f"{_ACCOUNT_SELECT} WHERE a.actor_id = $1", actor_id)
    return maybe_row(Account, row)


async def by_email(conn: Any, email: str) -> Account | None:
    row = await conn.fetchrow(f"{_ACCOUNT_SELECT} WHERE lower(a.email) = lower($1)", email)
    return maybe_row(Account, row)


async def email_taken(conn: Any, email: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(email) = lower($1))", email
    ))


async def list_all(conn: Any) -> list[Account]:
    rows = await conn.fetch(f"{_ACCOUNT_SELECT} ORDER BY a.id")
    return [to_row(Account, r) for r in rows]


async def search(conn: Any, query: str, *, limit: int, offset: int = 0) -> list[Account]:
    """Accounts whose username, display name or e-mail address contains ``query``
    (any case; all when it is empty), by username (the admin area's account list)."""
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await conn.fetch(
        f"{_ACCOUNT_SELECT} WHERE ac.deleted_at IS NULL AND (a.username ILIKE $1"
        " OR a.email ILIKE $1 OR coalesce(ac.name, '') ILIKE $1)"
        " ORDER BY lower(a.username) LIMIT $2 OFFSET $3", pattern, limit, offset)
    return [to_row(Account, r) for r in rows]


async def count(conn: Any, *, role: str | None = None, status: str | None = None) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM accounts WHERE ($1::text IS NULL OR role = $1)"
        " AND ($2::text IS NULL OR status = $2)",
        role, status,
    )
    return int(value)


async def set_account_status(conn: Any, account_id: int, status: str) -> bool:
    """Set active/pending/rejected/suspended; False when there is no such account."""
    result: str = await conn.execute(
        "UPDATE accounts SET status = $2 WHERE id = $1", account_id, status
    )
    return result != "UPDATE 0"


async def set_role(conn: Any, account_id: int, role: str) -> bool:
    result: str = await conn.execute(
        "UPDATE accounts SET role = $2 WHERE id = $1", account_id, role
    )
    return result != "UPDATE 0"


async def set_password_hash(conn: Any, account_id: int, password_hash: str) -> None:
    await conn.execute(
        "UPDATE accounts SET password_hash = $2 WHERE id = $1", account_id, password_hash
    )


# --- tokens -------------------------------------------------------------------------------


async def insert_token(
    conn: Any, *, account_id: int, token_hash: bytes, name: str, kind: str,
    expires_at: datetime | None = None,
) -> ApiToken:
    row = await conn.fetchrow(
        "INSERT INTO api_tokens (account_id, token_hash, name, kind, expires_at)"
        f" VALUES ($1, $2, $3, $4, $5) RETURNING {_TOKEN_COLUMNS}",
        account_id, token_hash, name, kind, expires_at,
    )
    return to_row(ApiToken, row)


async def token_by_hash(conn: Any, token_hash: bytes) -> ApiToken | None:
    """The token with this hash unless it has expired."""
    row = await conn.fetchrow(
        f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
        " AND (expires_at IS NULL OR expires_at > now())",
        token_hash,
    )
    return maybe_row(ApiToken, row)


async def touch_token(conn: Any, token_id: int) -> None:
    """Record a use; the condition keeps it to one write a minute per token."""
    await conn.execute(
        "UPDATE api_tokens SET last_used_at = now() WHERE id = $1"
        " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        token_id,
    )


async def list_tokens(
    conn: Any, account_id: int, *, before_id: int | None = None, limit: int = 100,
) -> list[ApiToken]:
    """Newest first; ``before_id`` continues a page."""
    rows = await conn.fetch(
        f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE account_id = $1"
        " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        account_id, before_id, limit,
    )
    return [to_row(ApiToken, r) for r in rows]


async def delete_token(conn: Any, account_id: int, token_id: int) -> bool:
    """Revoke one of the account's tokens; False when it has no such token."""
    result: str = await conn.execute(
        "DELETE FROM api_tokens WHERE id = $1 AND account_id = $2", token_id, account_id
    )
    return result != "DELETE 0"


async def delete_all_tokens(conn: Any, account_id: int) -> int:
    result: str = await conn.execute("DELETE FROM api_tokens WHERE account_id = $1", account_id)
    return int(result.rsplit(" ", 1)[1])


# --- instance settings --------------------------------------------------------------------


async def get_setting(conn: Any, key: str) -> Any:
    """The JSON value stored under ``key``, or None."""
    return await conn.fetchval("SELECT value FROM instance_settings WHERE key = $1", key)


async def set_setting(conn: Any, key: str, value: Any) -> None:
    await conn.execute(
        "INSERT INTO instance_settings (key, value) VALUES ($1, $2)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        key, value,
    )
