"""Secure mode (``FEDI_AUTHORIZED_FETCH=1``, Mastodon's AUTHORIZED_FETCH): a GET of an
ActivityPub document needs a valid HTTP signature, draft-cavage or RFC 9421, checked
with the inbox's verifier and key store, by a signer whose domain is not blocked.

Open without one: the instance actor (``/actor``, which servers fetch to verify the
instance's own signed GETs), WebFinger, NodeInfo, host-meta (none of them is under the
guarded prefixes) and every page for browsers (only requests asking for ActivityPub
JSON are guarded). The answer to an unsigned or badly signed request is a 401 with
``{"error": "signature_required" | "invalid_signature", "message": ...}``; a blocked
signer gets a 403.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from activitypub.errors import SignatureError
from activitypub.httpsig import parse_signature, verify_request
from fedi.core.context import Context
from fedi.federation.signatures import KeyStore
from fedi.routes.negotiation import wants_activitypub
from storage import moderation as moderation_store

__all__ = ["GUARDED_PREFIXES", "SignedFetch", "guarded"]

#: Paths of ActivityPub documents (actors, their collections, posts, activities).
GUARDED_PREFIXES = ("/users/", "/groups/", "/posts/", "/activities/", "/actor/")


def guarded(method: str, path: str, accept: str | None) -> bool:
    """Whether secure mode asks this request for a signature."""
    if method not in ("GET", "HEAD") or not wants_activitypub(accept):
        return False
    return path.startswith(GUARDED_PREFIXES)


class SignedFetch:
    """ASGI middleware: refuses unsigned ActivityPub GETs when secure mode is on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx: Context | None = getattr(scope["app"].state, "ctx", None)
        if ctx is None or not ctx.settings.authorized_fetch:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        if not guarded(scope["method"], scope["path"], headers.get("accept")):
            await self.app(scope, receive, send)
            return
        refusal = await _refusal(ctx, scope, headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        body = json.dumps({"error": code, "message": message}).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"vary", b"Accept, Signature, Signature-Input"),
        ]})
        await send({"type": "http.response.body", "body": body})


async def _refusal(ctx: Context, scope: Scope, headers: dict[str, str]
                   ) -> tuple[int, str, str] | None:
    query = scope.get("query_string", b"").decode("latin-1")
    url = ctx.settings.base_url + scope["path"] + (f"?{query}" if query else "")
    method = scope["method"]
    try:
        parsed = parse_signature(method, url, headers)
    except SignatureError as exc:
        if exc.reason == "no signature":
            return (401, "signature_required",
                    "This server requires signed requests (authorized fetch): sign the GET"
                    " with an HTTP signature (draft-cavage or RFC 9421).")
        return 401, "invalid_signature", f"invalid HTTP signature: {exc.reason}"
    keys = KeyStore(ctx)
    try:
        verified = await verify_request(method, url, headers, None, keys.resolve,
                                        datetime.now(UTC), refresh_key=keys.refresh,
                                        parsed=parsed)
    except SignatureError as exc:
        return 401, "invalid_signature", f"invalid HTTP signature: {exc.reason}"
    domain = urlsplit(verified.owner).netloc.lower()
    async with ctx.pool.acquire() as conn:
        refused = await moderation_store.refused_domains(conn, {domain})
    if refused:
        return 403, "domain_blocked", f"requests from {domain} are not accepted here"
    return None
