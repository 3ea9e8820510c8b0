"""The legal documents: terms of use, privacy policy, Impressum, accessibility statement and
Netiquette, their versions (``legal_documents``), and who accepted which version of the
terms of use and the privacy policy when (``legal_acceptances``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row

KINDS = ("terms", "privacy", "impressum", "accessibility", "rules")
# The documents an account accepts (at sign-up, and each new version later); the others
# are published without asking anyone (migration 0025).
CONSENT_KINDS = ("terms", "privacy")


@dataclass(frozen=True)
class Document:
    """One published version of a document, with the username of who published it."""

    kind: str
    version: int
    source: str
    html: str
    created_at: datetime
    created_by: int | None
    created_by_name: str | None


@dataclass(frozen=True)
class Acceptance:
    account_id: int
    kind: str
    version: int
    accepted_at: datetime


_SELECT = (
    "SELECT d.*, a.username AS created_by_name FROM legal_documents d"
    " LEFT JOIN accounts a ON a.id = d.created_by"
)


async def current(conn: Any, kind: str) -> Document | None:
    row = await conn.fetchrow(
        f"{_SELECT} WHERE d.kind = $1 ORDER BY d.version DESC LIMIT 1", kind)
    return maybe_row(Document, row)


async def versions(conn: Any, kind: str) -> list[Document]:
    """Every version of ``kind``, newest first."""
    rows = await conn.fetch(f"{_SELECT} WHERE d.kind = $1 ORDER BY d.version DESC", kind)
    return [to_row(Document, row) for row in rows]


async def publish(conn: Any, *, kind: str, source: str, html: str,
                  created_by: int | None) -> Document:
    """Insert the next version of ``kind``. Two concurrent publications cannot take the
    same number: the second one fails on the primary key (asyncpg.UniqueViolationError)."""
    version = await conn.fetchval(
        "INSERT INTO legal_documents (kind, version, source, html, created_by)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4"
        " FROM legal_documents WHERE kind = $1 RETURNING version",
        kind, source, html, created_by)
    row = await conn.fetchrow(f"{_SELECT} WHERE d.kind = $1 AND d.version = $2",
                              kind, version)
    return to_row(Document, row)


async def accept(conn: Any, account_id: int, kind: str, version: int) -> None:
    """Record the acceptance (a repeated one keeps the first time)."""
    await conn.execute(
        "INSERT INTO legal_acceptances (account_id, kind, version) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING", account_id, kind, version)


async def acceptances(conn: Any, account_id: int) -> list[Acceptance]:
    rows = await conn.fetch(
        "SELECT * FROM legal_acceptances WHERE account_id = $1 ORDER BY accepted_at, kind",
        account_id)
    return [to_row(Acceptance, row) for row in rows]


async def due(conn: Any, account_id: int) -> list[Document]:
    """The current versions this account still has to accept (see fedi/forum/terms.py
    for the rule): published by the administration (version 2 and up) after the account
    was created, and neither it nor a later version accepted."""
    rows = await conn.fetch(
        f"""{_SELECT}
        JOIN accounts me ON me.id = $1
        WHERE d.kind IN ('terms', 'privacy')
          AND d.version = (SELECT max(version) FROM legal_documents WHERE kind = d.kind)
          AND d.version > 1
          AND d.created_at > me.created_at
          AND NOT EXISTS (SELECT 1 FROM legal_acceptances x
                          WHERE x.account_id = me.id AND x.kind = d.kind
                            AND x.version >= d.version)
        ORDER BY d.kind DESC""",
        account_id)
    return [to_row(Document, row) for row in rows]


async def published_kinds(conn: Any) -> dict[str, int]:
    """The highest version of each kind that has one."""
    rows = await conn.fetch("SELECT kind, max(version) AS version FROM legal_documents"
                            " GROUP BY kind")
    return {row["kind"]: row["version"] for row in rows}
