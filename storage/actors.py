"""Actors, local and remote, and the private keys of local ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Actor:
    id: int
    ap_id: str
    type: str
    local: bool
    username: str
    domain: str
    name: str | None
    summary: str | None
    inbox: str | None
    outbox: str | None
    shared_inbox: str | None
    followers_url: str | None
    following_url: str | None
    featured_url: str | None
    moderators_url: str | None
    url: str | None
    icon_url: str | None
    public_key_id: str | None
    public_key_pem: str | None
    manually_approves_followers: bool
    posting_restricted_to_mods: bool
    moved_to: str | None
    raw: dict[str, Any] | None
    fetched_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    # Set by an administrator for an official voice (migration 0008); remote: always None.
    official_position: str | None = None
    # The banner (AS2 ``image``, migration 0027): a local upload's URL or the remote one.
    image_url: str | None = None
    # A local actor's other addresses (its ``alsoKnownAs``) and when it moved to
    # ``moved_to`` (migration 0031: groups that move, fedi/forum/group_move.py).
    also_known_as: Sequence[str] = ()
    moved_at: datetime | None = None

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def delivery_inbox(self) -> str | None:
        """Where to deliver: the shared inbox when the actor has one."""
        return self.shared_inbox or self.inbox


@dataclass(frozen=True)
class ActorKeys:
    actor_id: int
    rsa_private_pem: str
    rsa_public_pem: str
    ed25519_private_pem: str
    ed25519_public_multibase: str


# Columns an upsert of a remote actor may set (everything but identity and bookkeeping).
REMOTE_FIELDS = (
    "type", "username", "domain", "name", "summary", "inbox", "outbox", "shared_inbox",
    "followers_url", "following_url", "featured_url", "moderators_url", "url", "icon_url",
    "image_url", "public_key_id", "public_key_pem", "manually_approves_followers",
    "posting_restricted_to_mods", "moved_to", "raw",
)


async def get(conn: Any, actor_id: int) -> Actor | None:
    return maybe_row(Actor, await conn.fetchrow("SELECT * FROM actors WHERE id = $1", actor_id))


async def by_ids(conn: Any, actor_ids: Iterable[int]) -> dict[int, Actor]:
    """The actors with these ids, by id (deleted ones too: their posts still show them)."""
    rows = await conn.fetch(
        "SELECT * FROM actors WHERE id = ANY($1::bigint[])", list(actor_ids))
    return {r["id"]: to_row(Actor, r) for r in rows}


async def by_ap_id(conn: Any, ap_id: str) -> Actor | None:
    row = await conn.fetchrow("SELECT * FROM actors WHERE ap_id = $1", ap_id)
    return maybe_row(Actor, row)


@dataclass(frozen=True)
class DocumentRow:
    """An actor with what its ActivityPub document adds: the public Ed25519 key and a
    group's Markdown summary (one query for the actor route)."""

    actor: Actor
    ed25519_multibase: str | None
    summary_source: str | None


async def for_document(conn: Any, ap_id: str) -> DocumentRow | None:
    row = await conn.fetchrow(
        "SELECT a.*, k.ed25519_public_multibase AS doc_ed25519,"
        " g.summary_source AS doc_summary_source FROM actors a"
        " LEFT JOIN actor_keys k ON k.actor_id = a.id"
        " LEFT JOIN groups g ON g.actor_id = a.id WHERE a.ap_id = $1", ap_id)
    if row is None:
        return None
    return DocumentRow(to_row(Actor, row), row["doc_ed25519"], row["doc_summary_source"])


async def by_handle(conn: Any, username: str, domain: str,
                    type_: str | None = None) -> Actor | None:
    """The actor with this handle. Remote hosts may give several actors one name (a Lemmy
    user and community, or a reinstalled server): prefer ``type_``, then the live and most
    recently fetched one."""
    row = await conn.fetchrow(
        "SELECT * FROM actors WHERE lower(username) = lower($1) AND domain = $2"
        " ORDER BY (type = $3) DESC NULLS LAST, (deleted_at IS NULL) DESC, local DESC,"
        " fetched_at DESC NULLS LAST, id DESC LIMIT 1",
        username, domain, type_,
    )
    return maybe_row(Actor, row)


async def by_key_id(conn: Any, key_id: str) -> Actor | None:
    row = await conn.fetchrow(
        "SELECT * FROM actors WHERE public_key_id = $1 ORDER BY local DESC LIMIT 1", key_id
    )
    return maybe_row(Actor, row)


async def local_by_name(conn: Any, username: str, type_: str | None = None) -> Actor | None:
    row = await conn.fetchrow(
        "SELECT * FROM actors WHERE local AND lower(username) = lower($1)"
        " AND ($2::text IS NULL OR type = $2) AND deleted_at IS NULL",
        username, type_,
    )
    return maybe_row(Actor, row)


async def insert_local(conn: Any, *, values: dict[str, Any], keys: dict[str, str]) -> Actor:
    """Insert a local actor and its keys. Raises asyncpg.UniqueViolationError on a taken name."""
    columns = ["local", *values]
    params = [True, *values.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO actors ({', '.join(columns)}) VALUES ({placeholders}) RETURNING *",
        *params,
    )
    actor = to_row(Actor, row)
    await conn.execute(
        "INSERT INTO actor_keys (actor_id, rsa_private_pem, rsa_public_pem,"
        " ed25519_private_pem, ed25519_public_multibase) VALUES ($1, $2, $3, $4, $5)",
        actor.id, keys["rsa_private_pem"], keys["rsa_public_pem"],
        keys["ed25519_private_pem"], keys["ed25519_public_multibase"],
    )
    return actor


async def upsert_remote(conn: Any, ap_id: str, values: dict[str, Any]) -> Actor:
    """Insert or refresh a remote actor from its fetched document."""
    unknown = set(values) - set(REMOTE_FIELDS)
    if unknown:
        raise ValueError(f"not actor columns: {sorted(unknown)}")
    columns = list(values)
    params = list(values.values())
    placeholders = ", ".join(f"${i}" for i in range(2, len(params) + 2))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    row = await conn.fetchrow(
        f"INSERT INTO actors (ap_id, local, fetched_at, {', '.join(columns)})"
        f" VALUES ($1, false, now(), {placeholders})"
        f" ON CONFLICT (ap_id) DO UPDATE SET {updates}, fetched_at = now(), updated_at = now(),"
        " deleted_at = NULL WHERE NOT actors.local RETURNING *",
        ap_id, *params,
    )
    if row is None:
        raise ValueError(f"{ap_id} is a local actor")
    return to_row(Actor, row)


async def keys_for(conn: Any, actor_id: int) -> ActorKeys | None:
    row = await conn.fetchrow("SELECT * FROM actor_keys WHERE actor_id = $1", actor_id)
    return maybe_row(ActorKeys, row)


async def mark_deleted(conn: Any, actor_id: int) -> None:
    await conn.execute(
        "UPDATE actors SET deleted_at = now(), updated_at = now() WHERE id = $1", actor_id
    )


async def set_moved(conn: Any, actor_id: int, target: str) -> None:
    await conn.execute(
        "UPDATE actors SET moved_to = $2, updated_at = now() WHERE id = $1", actor_id, target
    )


async def count_local(conn: asyncpg.Connection | Any, type_: str) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM actors WHERE local AND type = $1 AND deleted_at IS NULL", type_
    )
    return int(value)
