"""Local actors: creating them with their keys, the instance actor, signing keys."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from activitypub.httpsig import SigningKey
from activitypub.keys import generate_ed25519_keypair, generate_rsa_keypair, public_key_to_multibase
from fedi.core.context import Context
from fedi.core.errors import Conflict, ValidationFailed
from fedi.core.urls import Urls
from storage import actors as actor_store
from storage import instance_settings as instance_settings_store
from storage.actors import Actor

# ASCII names as Mastodon requires to mention them: [a-z0-9_] with inner '.' or '-'.
NAME_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$")
NAME_MAX = 30
# Names that would clash with routes or confuse people.
RESERVED = frozenset({
    "actor", "admin", "api", "inbox", "outbox", "users", "groups", "posts", "static",
    "well-known", "healthz", "login", "logout", "signup", "settings", "search", "root",
    "administrator", "moderator", "support", "system", "instance", "nodeinfo",
    "instance.actor", "tags", "feeds", "web", "me",
})
INSTANCE_ACTOR_NAME = "instance.actor"


def check_name(name: str, *, field: str = "username") -> str:
    """Validate a user or group name; returns it lower-cased."""
    value = name.strip().lower()
    if not value:
        raise ValidationFailed(f"{field} is required", field=field)
    if len(value) > NAME_MAX:
        raise ValidationFailed(f"{field} must be at most {NAME_MAX} characters", field=field)
    if not NAME_RE.match(value) or ".." in value:
        raise ValidationFailed(
            f"{field} may contain only a-z, 0-9 and _, with . or - inside (got {name!r})",
            field=field,
        )
    if value in RESERVED:
        raise ValidationFailed(f"{field} {value!r} is reserved", field=field)
    return value


async def _new_keys() -> dict[str, str]:
    # RSA generation takes ~50-100 ms of CPU: keep it off the event loop.
    rsa_pair, ed_pair = await asyncio.to_thread(
        lambda: (generate_rsa_keypair(), generate_ed25519_keypair())
    )
    return {
        "rsa_private_pem": rsa_pair.private_pem,
        "rsa_public_pem": rsa_pair.public_pem,
        "ed25519_private_pem": ed_pair.private_pem,
        "ed25519_public_multibase": public_key_to_multibase(ed_pair.public_pem),
    }


async def create_local_actor(
    conn: Any, ctx: Context, *, type_: str, username: str, name: str | None,
    summary: str | None = None, extra: dict[str, Any] | None = None,
) -> Actor:
    """Insert a local Person/Group/Application with fresh keys.

    Raises Conflict when the name is taken by a user or a group (one namespace).
    """
    import asyncpg

    urls = Urls(ctx.settings.base_url)
    if type_ == "Application":
        ap_id = urls.instance_actor()
    else:
        ap_id = urls.actor(type_, username)
    keys = await _new_keys()
    values: dict[str, Any] = {
        "ap_id": ap_id,
        "type": type_,
        "username": username,
        "domain": ctx.settings.host,
        "name": name,
        "summary": summary,
        "inbox": urls.inbox(ap_id),
        "outbox": urls.outbox(ap_id),
        "shared_inbox": urls.shared_inbox(),
        "followers_url": urls.followers(ap_id),
        "following_url": urls.following(ap_id),
        "featured_url": urls.featured(ap_id) if type_ == "Group" else None,
        "moderators_url": urls.moderators(ap_id) if type_ == "Group" else None,
        "url": ap_id,
        "public_key_id": urls.key_id(ap_id),
        "public_key_pem": keys["rsa_public_pem"],
        **(extra or {}),
    }
    try:
        async with conn.transaction():
            return await actor_store.insert_local(conn, values=values, keys=keys)
    except asyncpg.UniqueViolationError:
        raise Conflict(f"the name {username!r} is already taken", field="username") from None


async def instance_actor(ctx: Context) -> Actor:
    """The instance's Application actor (FEP-2677), created on first use."""
    async with ctx.pool.acquire() as conn:
        found = await actor_store.by_ap_id(conn, Urls(ctx.settings.base_url).instance_actor())
        if found is not None:
            return found
        try:
            return await create_local_actor(
                conn, ctx, type_="Application", username=INSTANCE_ACTOR_NAME,
                name=await instance_settings_store.instance_name(conn)
                or ctx.settings.instance_name,
            )
        except Conflict:
            # Another process created it at the same moment.
            again = await actor_store.by_ap_id(conn, Urls(ctx.settings.base_url).instance_actor())
            assert again is not None
            return again


async def signing_key(conn: Any, actor: Actor) -> SigningKey:
    """The RSA key a local actor signs HTTP requests with."""
    keys = await actor_store.keys_for(conn, actor.id)
    if keys is None or actor.public_key_id is None:
        raise LookupError(f"{actor.ap_id} has no private key")
    return SigningKey(key_id=actor.public_key_id, private_key_pem=keys.rsa_private_pem)
