"""The claim statement the row queues share: take due rows with FOR UPDATE SKIP LOCKED and
push their next_attempt_at forward by a lease in the same statement, so other workers skip
them after commit without a lock being held while the work runs."""

from __future__ import annotations


def claim_statement(table: str) -> str:
    """``$1`` now, ``$2`` how many, ``$3`` the lease (interval). ``table`` is a constant of
    ours with ``id``, ``state`` and ``next_attempt_at`` columns, never user input."""
    return f"""
WITH due AS (
    SELECT id FROM {table}
    WHERE state = 'queued' AND next_attempt_at <= $1
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE {table} t SET next_attempt_at = $1 + $3::interval
FROM due WHERE t.id = due.id
RETURNING t.*
"""
