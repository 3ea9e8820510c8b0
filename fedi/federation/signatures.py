"""Keys for verifying inbound HTTP signatures: from the actor cache, else fetched.

:class:`KeyStore` gives :func:`activitypub.httpsig.verify_request` its two resolvers:
``resolve`` (cached key by key id; an unknown key is fetched) and ``refresh`` (fetch
again, for a rotated key; verify_request calls it at most once per request).
``offline_resolve`` and ``offline_refresh`` are their counterparts without I/O, for the
inbox's fast path while it holds its one pool connection: whatever would need a query or
a fetch raises :class:`NeedsLookup` instead, and the inbox verifies again with the
real resolvers after releasing the connection.

Parsing a PEM public key costs about as much as checking an RSA signature, and the same
few senders sign most requests: :func:`resolved_key` keeps the parsed keys in a small
LRU keyed by key id *and* PEM text, so a rotated key (new PEM) is parsed afresh and
the old one is never served for it.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urldefrag

from activitypub import vocab
from activitypub.errors import InvalidObject, ProtocolError, SignatureError
from activitypub.httpsig import ResolvedKey
from activitypub.keys import PublicKey, load_public_key
from fedi.core.context import Context
from fedi.federation.remote import fetch, resolve_actor, store_actor
from storage import actors as actor_store
from storage.actors import Actor

KEY_CACHE_SIZE = 512  # parsed public keys kept; an RSA-2048 key object is small


@functools.lru_cache(maxsize=KEY_CACHE_SIZE)
def _load_public_key(key_id: str, pem: str) -> PublicKey:
    # key_id is part of the cache key only; a PEM that fails to parse is not cached
    # (lru_cache does not keep exceptions).
    return load_public_key(pem)


def resolved_key(key_id: str, owner: str, pem: str) -> ResolvedKey:
    """The key for verification, its PEM parsed at most once while it stays cached.

    A PEM that does not parse is handed over as text: verify_parsed then reports it
    as an "unusable key" with the parser's reason, as it always did.
    """
    try:
        return ResolvedKey(key_id, owner, _load_public_key(key_id, pem))
    except InvalidObject:
        return ResolvedKey(key_id, owner, pem)


class NeedsLookup(Exception):
    """Verification needs a query or a fetch that the offline resolvers do not do."""


class KeyStore:
    """Resolvers for one request. ``known`` is a key already read from the cache (the
    inbox reads it together with other facts in one query), so resolve needs no query."""

    def __init__(self, ctx: Context, *, known: ResolvedKey | None = None) -> None:
        self.ctx = ctx
        self.known = known

    async def resolve(self, key_id: str) -> ResolvedKey | None:
        if self.known is not None and self.known.key_id == key_id:
            return self.known
        async with self.ctx.pool.acquire() as conn:
            actor = await actor_store.by_key_id(conn, key_id)
        if actor is not None and actor.public_key_pem:
            return resolved_key(key_id, actor.ap_id, actor.public_key_pem)
        return await self._fetch(key_id, refresh=False)

    async def refresh(self, key_id: str) -> ResolvedKey | None:
        return await self._fetch(key_id, refresh=True)

    async def offline_resolve(self, key_id: str) -> ResolvedKey | None:
        """``resolve`` when the key is ``known``; otherwise raises NeedsLookup."""
        if self.known is not None and self.known.key_id == key_id:
            return self.known
        raise NeedsLookup(key_id)

    async def offline_refresh(self, key_id: str) -> ResolvedKey | None:
        """A refresh always fetches: raises NeedsLookup."""
        raise NeedsLookup(key_id)

    async def _fetch(self, key_id: str, *, refresh: bool) -> ResolvedKey | None:
        try:
            actor = await fetch_key_owner(self.ctx, key_id, refresh=refresh)
        except ProtocolError as exc:
            raise SignatureError(f"unknown key: {key_id} could not be fetched: {exc.reason}"
                                 ) from exc
        if actor is None or actor.public_key_id != key_id or not actor.public_key_pem:
            return None
        return resolved_key(key_id, actor.ap_id, actor.public_key_pem)


async def fetch_key_owner(ctx: Context, key_id: str, *, refresh: bool) -> Actor | None:
    """The actor a key id belongs to, fetched: the key id without its fragment is the
    actor (Mastodon's ``#main-key``), or a key document naming its ``owner``."""
    url, _ = urldefrag(key_id)
    async with ctx.pool.acquire() as conn:
        cached = await actor_store.by_ap_id(conn, url)
    if cached is not None and cached.local:
        return cached
    if cached is not None or "#" in key_id:
        return await resolve_actor(ctx, url, refresh=True if refresh else cached is not None)
    document: dict[str, Any] = await fetch(ctx, url)
    owner = document.get("owner")
    if isinstance(owner, str) and "publicKeyPem" in document:
        if owner != url:
            return await resolve_actor(ctx, owner, refresh=True)
        return None
    parsed = vocab.parse(document)
    if isinstance(parsed, vocab.Actor):
        return await store_actor(ctx, document, expected_id=url)
    return None
