"""Inboxes: ``POST /inbox`` (shared) and the personal ones of users, groups and the
instance actor.

Only the cheap part happens here (ARCHITECTURE.md, performance notes): size and JSON
checks, the signature, one statement. Everything slow (remote fetches, the handlers)
runs in the workers (fedi/inbound/queue.py). Answers: 415 for a Content-Type that is not
ActivityPub's (or plain JSON), 413 over 1 MB, 400 for a body that is not a JSON activity
(nested deeper than 64 levels included), 401 without a valid signature (with the reason),
403 for a blocked domain, 404 for the inbox of an actor we do not have, otherwise 202.

Database round trips per accepted activity: one. The signer's key, once it verified a
request, stays in this process (:class:`_VerifiedKeys`); the next request from that key
is verified with it (CPU only) and then checked, decided and stored by one statement
(storage.inbox.accept): the key is still the one the actors table has for that key id
(else nothing is stored and the request takes the full path below), no domain is
blocked (read afresh each time: a block an admin adds is honoured by the next request,
whichever process serves it), the recipient exists, the row is inserted. The pool does
not reset a connection on release (storage/db.py). The workers are woken once per batch
(:class:`_Waker`), not once per row. Any other case (a key not cached or not current, a
signature that does not verify with it, an unknown type, a relayed activity) takes the
full path: one preflight query (key, blocks, recipient), the verification (fetching the
key when needed), the insert.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
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
    ResolvedKey,
    VerifiedSignature,
    parse_signature,
    verify_request,
)
from activitypub.jsontext import JsonHasNul, JsonTooDeep, parse_json
from activitypub.proofs import ProofError
from fedi.core.context import Context
from fedi.core.errors import AppError, NotFound, PayloadTooLarge, Unauthorized
from fedi.federation.integrity import check_proof, has_proof
from fedi.federation.signatures import KeyStore, NeedsLookup, resolved_key
from fedi.forum.policy import Refusal
from fedi.inbound.types import KNOWN_TYPES
from storage import inbox as inbox_store
from storage import instances as instance_store
from storage.moderation import domain_candidates

log = logging.getLogger("fedi.inbox")

MAX_BODY = 1_000_000  # bytes; Mastodon's limit too
# What ActivityPub senders use (with or without parameters such as ld+json's profile);
# plain JSON too, as some servers send it. Anything else is not meant for an inbox.
ACCEPTED_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"})


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


def _lowered_headers(request: Request) -> dict[str, str]:
    """The request's headers by lower-case name, repeated ones joined as HTTP allows
    (activitypub.httpsig's lower_headers, from the raw ASGI pairs: Starlette's Headers
    decode every pair again on each lookup, which the signature code does many times)."""
    lowered: dict[str, str] = {}
    for raw_name, raw_value in request.scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1").strip()
        lowered[name] = f"{lowered[name]}, {value}" if name in lowered else value
    return lowered


def _check_content_type(headers: dict[str, str]) -> None:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        shown = media_type or "none"
        raise UnsupportedMediaType(
            f"an inbox takes application/activity+json (or application/ld+json, "
            f"application/json), not {shown}")


async def _read_body(request: Request, headers: dict[str, str]) -> bytes:
    declared = headers.get("content-length", "")
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
        # Without NUL escapes: the body is stored as jsonb, which cannot hold U+0000.
        payload = parse_json(body, allow_nul=False)
    except (JsonTooDeep, JsonHasNul) as exc:
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


@functools.lru_cache(maxsize=4096)
def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


@functools.lru_cache(maxsize=4096)
def _candidates(host: str) -> tuple[str, ...]:
    return tuple(domain_candidates(host))


class _VerifiedKeys:
    """Keys that verified a request in this process, by key id: (the key, its PEM).

    Never trusted alone: the statement that stores an activity verified with one also
    checks that the actors table still has this PEM for this key id and owner, so a key
    rotated, removed or taken over by another process's fetch is noticed by the next
    request (which then takes the full path). Bounded, least recently used out.
    """

    SIZE = 1024

    def __init__(self) -> None:
        self._keys: OrderedDict[str, tuple[ResolvedKey, str]] = OrderedDict()

    def get(self, key_id: str) -> tuple[ResolvedKey, str] | None:
        found = self._keys.get(key_id)
        if found is not None:
            self._keys.move_to_end(key_id)
        return found

    def put(self, key: ResolvedKey, pem: str) -> None:
        self._keys[key.key_id] = (key, pem)
        self._keys.move_to_end(key.key_id)
        while len(self._keys) > self.SIZE:
            self._keys.popitem(last=False)

    def forget(self, key_id: str) -> None:
        self._keys.pop(key_id, None)


_KEYS = _VerifiedKeys()


class _Waker:
    """``pg_notify`` for the inbound workers once per batch of stored rows, not per row.

    A request that stored a new row pokes; the first poke starts a task that sends one
    notification on its own connection after the rows of the current loop iteration have
    joined; pokes while it is under way make it send one more afterwards (a row committed
    while the notification was in flight is not missed). Every row is committed before
    a notification sent after it. A notification that cannot be sent (database gone,
    shutting down) is logged: the workers also poll every few seconds.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def poke(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        else:
            self._again = True

    async def _run(self) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # the requests finishing now join this batch
                self._again = False
                async with self.ctx.pool.acquire() as conn:
                    await inbox_store.wake(conn)
                if not self._again:
                    return
        except Exception as exc:  # the workers poll; nothing is lost
            log.info("could not wake the inbound workers: %r", exc)
        finally:
            self._task = None


def _waker(request: Request) -> _Waker:
    state = request.app.state
    waker: _Waker | None = getattr(state, "inbox_waker", None)
    if waker is None:
        waker = _Waker(state.ctx)
        state.inbox_waker = waker
    return waker


async def receive(request: Request, recipient: str | None) -> Response:
    ctx: Context = request.app.state.ctx
    headers = _lowered_headers(request)
    _check_content_type(headers)
    body = await _read_body(request, headers)
    payload, ap_id, kind, actor = _read_activity(body)
    # The URL as the sender saw it (behind a proxy request.url is the internal one).
    request_url = request.url
    query = request_url.query
    url = ctx.settings.base_url + request_url.path + (f"?{query}" if query else "")
    now = datetime.now(UTC)
    try:
        parsed = parse_signature(request.method, url, headers)
    except SignatureError as exc:
        raise Unauthorized(exc.reason, code="invalid_signature") from None
    if has_proof(payload) and kind in KNOWN_TYPES:
        # FEP-8b32: a proof that is there must hold (the actor's assertionMethod key).
        try:
            await check_proof(ctx, payload, actor)
        except ProofError as exc:
            raise AppError(f"invalid integrity proof: {exc.reason}",
                           code="invalid_proof") from None
    domains = [*_candidates(_host(actor)), *_candidates(_host(parsed.key_id))]
    cached = _KEYS.get(parsed.key_id) if kind in KNOWN_TYPES else None
    if cached is not None:
        answer = await _fast(request, ctx, headers, url, body, parsed, now, cached, domains,
                             recipient, ap_id, kind, actor)
        if answer is not None:
            return answer
    return await _full(request, ctx, headers, url, body, parsed, now, domains, recipient,
                       payload, ap_id, kind, actor)


async def _fast(request: Request, ctx: Context, headers: dict[str, str], url: str,
                body: bytes, parsed: ParsedSignature, now: datetime,
                cached: tuple[ResolvedKey, str], domains: list[str], recipient: str | None,
                ap_id: str, kind: str, actor: str) -> Response | None:
    """One statement for a request signed with a key this process verified before;
    None when the full path must decide (it answers exactly as before this path)."""
    key, pem = cached
    keys = KeyStore(ctx, known=key)
    try:
        verified = await _verify(request, headers, url, body, parsed, now,
                                 keys.offline_resolve, keys.offline_refresh)
    except (NeedsLookup, Unauthorized):
        return None  # a rotated key, or refused: the full path says which, in its order
    if verified.owner != actor and _host(ap_id) != _host(actor):
        return None
    async with ctx.pool.acquire() as conn:
        done = await inbox_store.accept(
            conn, key_id=key.key_id, key_owner=key.owner, key_pem=pem, domains=domains,
            recipient_ap_id=recipient, ap_id=ap_id, type_=kind, actor_ap_id=actor,
            # The body as received (parse_json checked it is strict UTF-8 JSON within the
            # depth limit): jsonb parses it, sparing a json.dumps of what we parsed.
            payload_json=body.decode("utf-8-sig"), domain=_host(verified.owner))
        if done.stored and done.failing:
            # A host that sends us a verified request is up (Mastodon's rule).
            await instance_store.record_success(conn, _host(verified.owner), now=now,
                                                scheme=None)
    if not done.key_current:
        _KEYS.forget(key.key_id)
        return None
    if done.blocked:
        raise Refusal("domain_blocked", {"domain": _host(actor)}).error()
    if not done.recipient_exists:
        raise NotFound("no such inbox")
    if done.new:
        _waker(request).poke()
    return Response(status_code=202)


async def _full(request: Request, ctx: Context, headers: dict[str, str], url: str,
                body: bytes,
                parsed: ParsedSignature, now: datetime, domains: list[str],
                recipient: str | None, payload: dict[str, Any], ap_id: str, kind: str,
                actor: str) -> Response:
    """The preflight query, the verification (fetching the key when needed), the insert."""
    # One pool connection for the preflight and the insert. Verifying in between is CPU
    # only when the key is cached; a verification that needs a query or a fetch is
    # finished after releasing it, so no request holds a connection over remote I/O or
    # waits for a second one.
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
            verified = await _verify(request, headers, url, body, parsed, now,
                                     keys.offline_resolve, keys.offline_refresh)
        except NeedsLookup:
            pass
        else:
            if facts.key_pem is not None and known is not None and verified.key_id == (
                    known.key_id):
                _KEYS.put(known, facts.key_pem)
            return await _accept(request, conn, verified, payload, ap_id, kind, actor, now)

    # The key is not cached, or it did not verify and is fetched again: the whole
    # verification once more (the same policy checks), now with the real resolvers.
    verified = await _verify(request, headers, url, body, parsed, now, keys.resolve,
                             keys.refresh)
    async with ctx.pool.acquire() as conn:
        return await _accept(request, conn, verified, payload, ap_id, kind, actor, now)


async def _verify(request: Request, headers: dict[str, str], url: str, body: bytes,
                  parsed: ParsedSignature,
                  now: datetime, resolve: KeyResolver,
                  refresh: KeyResolver) -> VerifiedSignature:
    try:
        return await verify_request(request.method, url, headers, body, resolve, now,
                                    refresh_key=refresh, parsed=parsed)
    except SignatureError as exc:
        raise Unauthorized(exc.reason, code="invalid_signature") from None


async def _accept(request: Request, conn: Any, verified: VerifiedSignature,
                  payload: dict[str, Any], ap_id: str, kind: str, actor: str,
                  now: datetime) -> Response:
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
    new, failing = await inbox_store.insert(
        conn, ap_id=ap_id, type_=kind, actor_ap_id=actor, signer_key_id=verified.key_id,
        payload=payload, domain=_host(verified.owner),
    )
    if failing:
        # A host that sends us a verified request is up (Mastodon's rule).
        await instance_store.record_success(conn, _host(verified.owner), now=now, scheme=None)
    if new:
        _waker(request).poke()
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
