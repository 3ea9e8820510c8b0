"""Inboxes: ``POST /inbox`` (shared) and the personal ones of users, groups and the
instance actor.

Only the cheap part happens here (ARCHITECTURE.md, performance notes): size and JSON
checks, one query for the signer's cached key and domain blocks, the signature, one
insert. Everything slow (remote fetches, the handlers) runs in the workers
(fedi/inbound/queue.py). Answers: 415 for a Content-Type that is not
ActivityPub's (or plain JSON), 413 over 1 MB, 400 for a body that is not a JSON activity
(nested deeper than 64 levels included), 401 without a valid signature (with the reason),
403 for a blocked domain, 404 for the inbox of an actor we do not have, otherwise 202.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from activitypub.errors import SignatureError
from activitypub.httpsig import (
    KeyResolver,
    ParsedSignature,
    VerifiedSignature,
    parse_signature,
    verify_request,
)
from activitypub.jsontext import JsonTooDeep, parse_json
from fedi.core.context import Context
from fedi.core.errors import AppError, NotFound, PayloadTooLarge, Unauthorized
from fedi.federation.signatures import KeyStore, NeedsLookup, resolved_key
from fedi.forum.policy import Refusal
from fedi.inbound.types import KNOWN_TYPES
from storage import inbox as inbox_store
from storage import instances as instance_store
from storage.moderation import domain_candidates

MAX_BODY = 1_000_000  # bytes; Mastodon's limit too
# What ActivityPub senders use (with or without parameters such as ld+json's profile);
# plain JSON too, as some servers send it. Anything else is not meant for an inbox.
ACCEPTED_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"})


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


def _check_content_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        shown = media_type or "none"
        raise UnsupportedMediaType(
            f"an inbox takes application/activity+json (or application/ld+json, "
            f"application/json), not {shown}")


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(f"the body is over {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge(f"the body is over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _id_of(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _http_url(value: str | None, what: str) -> str:
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppError(f"the activity's {what} must be an http(s) URL", code="invalid_activity")
    return value or ""


def _read_activity(body: bytes) -> tuple[dict[str, Any], str, str, str]:
    """(payload, id, type, actor) of the body, or a 400 saying what is wrong."""
    try:
        # Depth-limited: deep nesting would crash the parser here or a handler later.
        payload = parse_json(body)
    except JsonTooDeep as exc:
        raise AppError(str(exc), code="invalid_json") from None
    except ValueError:
        raise AppError("the body is not JSON", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise AppError("the body is not a JSON object", code="invalid_activity")
    kinds = payload.get("type")
    kind = next((k for k in kinds if isinstance(k, str)), None) if isinstance(
        kinds, list) else kinds
    if not isinstance(kind, str) or not kind:
        raise AppError("the activity has no type", code="invalid_activity")
    ap_id = _http_url(_id_of(payload.get("id")), "id")
    actor = _http_url(_id_of(payload.get("actor")), "actor")
    return payload, ap_id, kind.removeprefix("as:"), actor


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def receive(request: Request, recipient: str | None) -> Response:
    ctx: Context = request.app.state.ctx
    _check_content_type(request)
    body = await _read_body(request)
    payload, ap_id, kind, actor = _read_activity(body)
    # The URL as the sender saw it (behind a proxy request.url is the internal one).
    query = request.url.query
    url = ctx.settings.base_url + request.url.path + (f"?{query}" if query else "")
    now = datetime.now(UTC)
    try:
        parsed = parse_signature(request.method, url, request.headers)
    except SignatureError as exc:
        raise Unauthorized(exc.reason, code="invalid_signature") from None
    domains = [*domain_candidates(_host(actor)), *domain_candidates(_host(parsed.key_id))]
    # One pool connection for the preflight and the insert (each acquire costs a reset
    # round trip on release). Verifying in between is CPU only when the key is cached;
    # a verification that needs a query or a fetch is finished after releasing it, so no
    # request holds a connection over remote I/O or waits for a second one.
    async with ctx.pool.acquire() as conn:
        facts = await inbox_store.preflight(
            conn, key_id=parsed.key_id, actor_ap_id=actor, domains=domains,
            recipient_ap_id=recipient,
        )
        if facts.blocked:
            # The policy's sentence, as the Reject of a refused activity says it.
            raise Refusal("domain_blocked", {"domain": _host(actor)}).error()
        if not facts.recipient_exists:
            raise NotFound("no such inbox")
        if (kind == "Delete" and _id_of(payload.get("object")) == actor
                and facts.key_owner is None and not facts.actor_known):
            # Mastodon's rule: an account we never saw is gone; fetching its key would fail.
            return Response(status_code=202)

        known = None
        if facts.key_owner is not None and facts.key_pem is not None:
            known = resolved_key(parsed.key_id, facts.key_owner, facts.key_pem)
        keys = KeyStore(ctx, known=known)
        try:
            verified = await _verify(request, url, body, parsed, now, keys.offline_resolve,
                                     keys.offline_refresh)
        except NeedsLookup:
            pass
        else:
            return await _accept(conn, verified, payload, ap_id, kind, actor, now)

    # The key is not cached, or it did not verify and is fetched again: the whole
    # verification once more (the same policy checks), now with the real resolvers.
    verified = await _verify(request, url, body, parsed, now, keys.resolve, keys.refresh)
    async with ctx.pool.acquire() as conn:
        return await _accept(conn, verified, payload, ap_id, kind, actor, now)


async def _verify(request: Request, url: str, body: bytes, parsed: ParsedSignature,
                  now: datetime, resolve: KeyResolver,
                  refresh: KeyResolver) -> VerifiedSignature:
    try:
        return await verify_request(request.method, url, request.headers, body, resolve, now,
                                    refresh_key=refresh, parsed=parsed)
    except SignatureError as exc:
        raise Unauthorized(exc.reason, code="invalid_signature") from None


async def _accept(conn: Any, verified: VerifiedSignature, payload: dict[str, Any], ap_id: str,
                  kind: str, actor: str, now: datetime) -> Response:
    """The checks after the signature, and the insert: the 202."""
    if verified.owner != actor and _host(ap_id) != _host(actor):
        # A relayed activity is checked by fetching it from its origin; one whose id is
        # not on its actor's host has no origin to ask.
        raise Unauthorized(
            f"signed by {verified.owner}, not by the activity's actor {actor}",
            code="signer_not_actor",
        )
    if kind not in KNOWN_TYPES:
        return Response(status_code=202)
    _, failing = await inbox_store.insert(
        conn, ap_id=ap_id, type_=kind, actor_ap_id=actor, signer_key_id=verified.key_id,
        payload=payload, domain=_host(verified.owner),
    )
    if failing:
        # A host that sends us a verified request is up (Mastodon's rule).
        await instance_store.record_success(conn, _host(verified.owner), now=now, scheme=None)
    return Response(status_code=202)


async def shared_inbox(request: Request) -> Response:
    return await receive(request, None)


async def user_inbox(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    return await receive(request, ctx.url(f"/users/{request.path_params['name']}"))


async def group_inbox(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    return await receive(request, ctx.url(f"/groups/{request.path_params['name']}"))


async def instance_actor_inbox(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    return await receive(request, ctx.url("/actor"))


routes = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/users/{name}/inbox", user_inbox, methods=["POST"]),
    Route("/groups/{name}/inbox", group_inbox, methods=["POST"]),
    Route("/actor/inbox", instance_actor_inbox, methods=["POST"]),
]
