"""Keys for verifying inbound HTTP signatures: from the actor cache, else fetched.

:class:`KeyStore` gives :func:`activitypub.httpsig.verify_request` its two resolvers:
``resolve`` (cached key by key id; an unknown key is fetched) and ``refresh`` (fetch
again, for a rotated key; verify_request calls it at most once per request).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag

from activitypub import vocab
from activitypub.errors import ProtocolError, SignatureError
from activitypub.httpsig import ResolvedKey
from fedi.context import Context
from fedi.federation.remote import fetch, resolve_actor, store_actor
from storage import actors as actor_store
from storage.actors import Actor


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
            return ResolvedKey(key_id, actor.ap_id, actor.public_key_pem)
        return await self._fetch(key_id, refresh=False)

    async def refresh(self, key_id: str) -> ResolvedKey | None:
        return await self._fetch(key_id, refresh=True)

    async def _fetch(self, key_id: str, *, refresh: bool) -> ResolvedKey | None:
        try:
            actor = await fetch_key_owner(self.ctx, key_id, refresh=refresh)
        except ProtocolError as exc:
            raise SignatureError(f"unknown key: {key_id} could not be fetched: {exc.reason}"
                                 ) from exc
        if actor is None or actor.public_key_id != key_id or not actor.public_key_pem:
            return None
        return ResolvedKey(key_id, actor.ap_id, actor.public_key_pem)


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
