"""One-time tokens sent by mail: confirming an e-mail address, resetting a password.

Only the SHA-256 of a token is stored. :func:`use` takes a token once: the same
statement checks purpose, expiry and that it is unused, and marks it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.rows import maybe_row


class Purpose(StrEnum):
    """The CHECK on ``account_tokens.purpose``."""

    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)


@dataclass(frozen=True)
class AccountToken:
    id: int
    account_id: int
    purpose: str
    email: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


async def insert(conn: Any, *, account_id: int, purpose: Purpose, token_hash: bytes,
                 email: str, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO account_tokens (account_id, purpose, token_hash, email, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        account_id, purpose.value, token_hash, email, expires_at)


async def use(conn: Any, *, purpose: Purpose, token_hash: bytes,
              now: datetime) -> AccountToken | None:
    """Mark the unused, unexpired token with this hash used and return it; None when
    there is none (unknown, expired, used already, or another purpose)."""
    row = await conn.fetchrow(
        "UPDATE account_tokens SET used_at = $3 WHERE token_hash = $2 AND purpose = $1"
        " AND used_at IS NULL AND expires_at > $3"
        " RETURNING id, account_id, purpose, email, created_at, expires_at, used_at",
        purpose.value, token_hash, now)
    return maybe_row(AccountToken, row)


async def peek(conn: Any, *, purpose: Purpose, token_hash: bytes,
               now: datetime) -> AccountToken | None:
    """The token if it would still work (the web page before its button is pressed)."""
    row = await conn.fetchrow(
        "SELECT id, account_id, purpose, email, created_at, expires_at, used_at"
        " FROM account_tokens WHERE token_hash = $2 AND purpose = $1"
        " AND used_at IS NULL AND expires_at > $3", purpose.value, token_hash, now)
    return maybe_row(AccountToken, row)


async def void(conn: Any, account_id: int, purpose: Purpose, *, now: datetime) -> int:
    """End every unused token of the account for ``purpose`` (a newer one replaces them,
    or the purpose was fulfilled); how many."""
    status: str = await conn.execute(
        "UPDATE account_tokens SET used_at = $3 WHERE account_id = $1 AND purpose = $2"
        " AND used_at IS NULL", account_id, purpose.value, now)
    return int(status.rsplit(" ", 1)[-1])


async def confirm_email(conn: Any, account_id: int, email: str, *, now: datetime) -> bool:
    """Record that the account's address is confirmed, if it still is ``email``."""
    status: str = await conn.execute(
        "UPDATE accounts SET email_confirmed_at = coalesce(email_confirmed_at, $3)"
        " WHERE id = $1 AND lower(email) = lower($2)", account_id, email, now)
    return status != "UPDATE 0"
