"""Messages sent through the accessibility statement's feedback form
(``accessibility_feedback``, migration 0025)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.rows import to_row


@dataclass(frozen=True)
class Feedback:
    id: int
    name: str
    # The writer's address stays out of repr() so it never lands in logs by accident.
    email: str = field(repr=False)
    message: str = field(repr=False)
    page: str
    created_at: datetime


async def insert(conn: Any, *, name: str, email: str, message: str, page: str) -> Feedback:
    row = await conn.fetchrow(
        "INSERT INTO accessibility_feedback (name, email, message, page)"
        " VALUES ($1, $2, $3, $4) RETURNING *", name, email, message, page)
    return to_row(Feedback, row)


async def newest(conn: Any, *, limit: int, before: int | None = None) -> list[Feedback]:
    """The newest messages first; ``before``: only those with a smaller id."""
    if before is None:
        rows = await conn.fetch(
            "SELECT * FROM accessibility_feedback ORDER BY id DESC LIMIT $1", limit)
    else:
        rows = await conn.fetch(
            "SELECT * FROM accessibility_feedback WHERE id < $2 ORDER BY id DESC LIMIT $1",
            limit, before)
    return [to_row(Feedback, row) for row in rows]


async def delete(conn: Any, feedback_id: int) -> bool:
    result = await conn.execute("DELETE FROM accessibility_feedback WHERE id = $1",
                                feedback_id)
    return bool(result == "DELETE 1")


async def admin_recipients(conn: Any) -> list[tuple[str, str | None]]:
    """The e-mail address and language of every active administrator."""
    rows = await conn.fetch(
        "SELECT email, locale FROM accounts WHERE role = 'admin' AND status = 'active'"
        " AND email <> '' ORDER BY id")
    return [(row["email"], row["locale"]) for row in rows]
