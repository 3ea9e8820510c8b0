"""Profiles of local accounts (bio, organisation, municipality, affiliation), their
language, display name and rendered bio on the Person actor, and official positions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import to_row

AFFILIATIONS = ("administration", "mayor", "council", "business", "citizen", "association",
                "research", "other")


@dataclass(frozen=True)
class Profile:
    account_id: int
    bio_source: str
    organisation: str
    municipality: str
    affiliation: str | None
    updated_at: datetime | None


async def get(conn: Any, account_id: int) -> Profile:
    """The account's profile; an empty one when it never saved one."""
    row = await conn.fetchrow("SELECT * FROM profiles WHERE account_id = $1", account_id)
    if row is None:
        return Profile(account_id, "", "", "", None, None)
    return to_row(Profile, row)


async def save(conn: Any, profile: Profile) -> None:
    await conn.execute(
        "INSERT INTO profiles (account_id, bio_source, organisation, municipality, affiliation)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO UPDATE SET"
        " bio_source = EXCLUDED.bio_source, organisation = EXCLUDED.organisation,"
        " municipality = EXCLUDED.municipality, affiliation = EXCLUDED.affiliation,"
        " updated_at = now()",
        profile.account_id, profile.bio_source, profile.organisation, profile.municipality,
        profile.affiliation,
    )


async def update_actor(conn: Any, actor_id: int, *, name: str, summary_html: str) -> None:
    """The display name and rendered bio that the Person document carries."""
    await conn.execute(
        "UPDATE actors SET name = $2, summary = $3, updated_at = now() WHERE id = $1",
        actor_id, name, summary_html or None,
    )


async def touch_actor(conn: Any, actor_id: int) -> None:
    await conn.execute("UPDATE actors SET updated_at = now() WHERE id = $1", actor_id)


async def set_locale(conn: Any, account_id: int, locale: str | None) -> None:
    await conn.execute("UPDATE accounts SET locale = $2 WHERE id = $1", account_id, locale)


async def set_official(conn: Any, actor_id: int, position: str | None) -> None:
    """Mark the actor as an official voice with ``position``; None withdraws it."""
    await conn.execute(
        "UPDATE actors SET official_position = $2, updated_at = now() WHERE id = $1",
        actor_id, position,
    )



async def known_inboxes(conn: Any, actor_id: int) -> list[str]:
    """Inboxes that received an activity of this actor: servers that show its posts."""
    rows = await conn.fetch(
        "SELECT DISTINCT d.inbox_url FROM deliveries d JOIN activities a"
        " ON a.id = d.activity_id WHERE a.actor_id = $1 AND d.state = 'delivered'",
        actor_id,
    )
    return [str(r["inbox_url"]) for r in rows]


async def delete_other_tokens(conn: Any, account_id: int, keep_id: int | None) -> int:
    """End every session and token of the account but ``keep_id``; how many ended."""
    result: str = await conn.execute(
        "DELETE FROM api_tokens WHERE account_id = $1 AND id IS DISTINCT FROM $2",
        account_id, keep_id)
    return int(result.rsplit(" ", 1)[1])


# --- e-mail changes -----------------------------------------------------------------------


async def insert_email_change(conn: Any, *, account_id: int, new_email: str,
                              token_hash: bytes, expires_at: datetime) -> None:
    """A new pending change; the account's earlier pending ones stop working."""
    await conn.execute(
        "UPDATE email_changes SET used_at = now() WHERE account_id = $1 AND used_at IS NULL",
        account_id)
    await conn.execute(
        "INSERT INTO email_changes (account_id, new_email, token_hash, expires_at)"
        " VALUES ($1, $2, $3, $4)", account_id, new_email, token_hash, expires_at)


async def use_email_change(conn: Any, token_hash: bytes) -> tuple[int, str] | None:
    """Spend a working token: (account id, new address), or None (unknown, used,
    expired)."""
    row = await conn.fetchrow(
        "UPDATE email_changes SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL"
        " AND expires_at > now() RETURNING account_id, new_email", token_hash)
    return None if row is None else (int(row["account_id"]), str(row["new_email"]))


async def peek_email_change(conn: Any, token_hash: bytes) -> str | None:
    """The new address of a working token, without spending it."""
    value = await conn.fetchval(
        "SELECT new_email FROM email_changes WHERE token_hash = $1 AND used_at IS NULL"
        " AND expires_at > now()", token_hash)
    return None if value is None else str(value)


async def set_email(conn: Any, account_id: int, email: str) -> None:
    """The new address, confirmed now (the link in the mail to it was followed)."""
    await conn.execute(
        "UPDATE accounts SET email = $2, email_confirmed_at = now() WHERE id = $1",
        account_id, email)
