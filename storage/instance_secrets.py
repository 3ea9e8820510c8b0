"""Secrets of the instance itself (migration 0033): random keys made by the database, one
per use, the same for every process on it."""

from __future__ import annotations

from typing import Any


async def secret(conn: Any, name: str) -> bytes:
    """The secret called ``name``, made (randomly, once) when there is none yet."""
    value = await conn.fetchval("SELECT secret FROM instance_secrets WHERE name = $1", name)
    if value is None:
        value = await conn.fetchval(
            "INSERT INTO instance_secrets (name) VALUES ($1)"
            " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING secret", name)
    return bytes(value)
