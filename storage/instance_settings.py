"""The instance's own settings as a group of keys in ``instance_settings`` (the admin
area's "instance settings": name, description, start page text, contact, language)."""

from __future__ import annotations

from typing import Any


async def get_many(conn: Any, keys: list[str]) -> dict[str, Any]:
    """The stored JSON value of each key that has one."""
    rows = await conn.fetch(
        "SELECT key, value FROM instance_settings WHERE key = ANY($1::text[])", keys)
    return {row["key"]: row["value"] for row in rows}


async def set_many(conn: Any, values: dict[str, Any]) -> None:
    """Store each value; None removes the key (the config's value applies again)."""
    for key, value in values.items():
        if value is None:
            await conn.execute("DELETE FROM instance_settings WHERE key = $1", key)
        else:
            await conn.execute(
                "INSERT INTO instance_settings (key, value) VALUES ($1, $2)"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
                key, value)


async def instance_name(conn: Any) -> str | None:
    """The name an admin gave the instance, or None (the config's name applies)."""
    value = await conn.fetchval(
        "SELECT value FROM instance_settings WHERE key = 'instance_name'")
    return value if isinstance(value, str) and value else None


async def rename_actor(conn: Any, ap_id: str, name: str) -> None:
    """The instance actor's display name follows the instance's name."""
    await conn.execute("UPDATE actors SET name = $2, updated_at = now()"
                       " WHERE ap_id = $1 AND local", ap_id, name)
