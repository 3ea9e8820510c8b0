"""Remote documents and actors: signed fetches as the instance actor, and the actor cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from activitypub import vocab
from activitypub.auth import HttpSignatureAuth
from activitypub.errors import FetchStatusError, InvalidObject, OriginMismatch
from activitypub.fetch import fetch_document
from activitypub.httpsig import Scheme
from activitypub.webfinger import webfinger_lookup
from fedi.core.actors import instance_actor, signing_key
from fedi.core.context import Context
from fedi.core.markup import sanitize_html
from storage import actors as actor_store
from storage import instances as instance_store
from storage.actors import Actor

# A cached remote actor is refetched when older than this (keys rotate, names change).
ACTOR_MAX_AGE = timedelta(days=1)


def host_of(url: str) -> str:
    """The host as it appears in actor ids, with a port when there is one."""
    return urlsplit(url).netloc.lower()


async def instance_auth(ctx: Context, scheme: Scheme = "cavage") -> HttpSignatureAuth:
    """Signs GETs as the instance actor (Mastodon in secure mode requires signed fetches)."""
    actor = await instance_actor(ctx)
    async with ctx.pool.acquire() as conn:
        key = await signing_key(conn, actor)
    return HttpSignatureAuth(key, scheme=scheme)


async def fetch(ctx: Context, url: str) -> dict[str, Any]:
    """Fetch one remote ActivityPub document safely (see activitypub.fetch), signed as
    the instance actor with the scheme that last worked for the host (draft-cavage
    unless RFC 9421 did). Like a delivery, it double-knocks: a 400 or 401 is tried once
    more at once with the other scheme, which is remembered for the host when it works
    (``instances.signature_scheme``, shared with the deliveries)."""
    domain = host_of(url)
    async with ctx.pool.acquire() as conn:
        known = await instance_store.get(conn, domain)
    first: Scheme = "rfc9421" if known and known.signature_scheme == "rfc9421" else "cavage"
    try:
        return await _fetch_signed(ctx, url, first)
    except FetchStatusError as exc:
        if exc.status not in (400, 401):
            raise
    second: Scheme = "cavage" if first == "rfc9421" else "rfc9421"
    document = await _fetch_signed(ctx, url, second)
    async with ctx.pool.acquire() as conn:
        await instance_store.record_success(conn, domain, now=datetime.now(UTC), scheme=second)
    return document


async def _fetch_signed(ctx: Context, url: str, scheme: Scheme) -> dict[str, Any]:
    return await fetch_document(
        ctx.http, url, auth=await instance_auth(ctx, scheme),
        allow_private=ctx.settings.allow_private_addresses,
    )


def actor_values(doc: vocab.Actor) -> dict[str, Any]:
    """Columns of the actors table from a fetched actor document."""
    assert doc.id is not None
    key = doc.public_key
    if key is not None and key.owner != doc.id:
        raise InvalidObject(f"the key {key.id} of {doc.id} is owned by {key.owner}")
    return {
        "type": doc.type,
        "username": doc.preferred_username or urlsplit(doc.id).path.rstrip("/").split("/")[-1],
        "domain": host_of(doc.id),
        "name": doc.name,
        "summary": sanitize_html(doc.summary) if doc.summary else None,
        "inbox": doc.inbox,
        "outbox": doc.outbox,
        "shared_inbox": doc.shared_inbox,
        "followers_url": doc.followers,
        "following_url": doc.following,
        "featured_url": doc.featured,
        "moderators_url": doc.moderators if doc.type == "Group" else None,
        "url": doc.url or doc.id,
        "icon_url": doc.icon,
        "image_url": doc.image,
        "public_key_id": key.id if key else None,
        "public_key_pem": key.pem if key else None,
        "manually_approves_followers": doc.manually_approves_followers,
        "posting_restricted_to_mods": doc.posting_restricted_to_mods,
        "moved_to": doc.moved_to,
        "raw": doc.raw,
    }


async def store_actor(ctx: Context, data: dict[str, Any], *, expected_id: str | None = None
                      ) -> Actor:
    """Parse and cache a remote actor document (its id must be where it came from)."""
    doc = vocab.parse(data)
    if not isinstance(doc, vocab.Actor) or doc.id is None:
        raise InvalidObject(f"expected an actor, got a {doc.type}")
    if expected_id is not None and doc.id != expected_id:
        raise OriginMismatch(f"asked for {expected_id}, got the actor {doc.id}")
    if host_of(doc.id) == ctx.settings.host:
        raise InvalidObject(f"{doc.id} claims to be one of our own actors")
    values = actor_values(doc)
    async with ctx.pool.acquire() as conn:
        return await actor_store.upsert_remote(conn, doc.id, values)


async def resolve_actor(ctx: Context, ap_id: str, *, refresh: bool = False) -> Actor:
    """A known actor from the cache, fetched when unknown, stale or ``refresh``."""
    async with ctx.pool.acquire() as conn:
        known = await actor_store.by_ap_id(conn, ap_id)
    if known is not None and (known.local or known.deleted_at is not None):
        return known
    fresh_enough = (
        known is not None and known.fetched_at is not None
        and datetime.now(UTC) - known.fetched_at < ACTOR_MAX_AGE
    )
    if fresh_enough and not refresh:
        assert known is not None
        return known
    return await store_actor(ctx, await fetch(ctx, ap_id), expected_id=ap_id)


async def resolve_handle(ctx: Context, handle: str) -> Actor:
    """``name@host`` -> actor, via our cache or WebFinger."""
    name, _, host = handle.strip().lstrip("@!").partition("@")
    if name and host:
        async with ctx.pool.acquire() as conn:
            known = await actor_store.by_handle(conn, name, host.lower())
        if known is not None:
            return known if known.local else await resolve_actor(ctx, known.ap_id)
    ap_id = await webfinger_lookup(ctx.http, handle,
                                   allow_private=ctx.settings.allow_private_addresses)
    return await resolve_actor(ctx, ap_id)
