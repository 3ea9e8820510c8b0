"""Verifying a request's signature: parse it (either scheme), apply our policy, check it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature

from activitypub.errors import InvalidObject, SignatureError
from activitypub.httpsig.cavage import parse_cavage
from activitypub.httpsig.crypto import effective_algorithm, verify_bytes
from activitypub.httpsig.digest import check_digest
from activitypub.httpsig.model import KeyResolver, ParsedSignature, ResolvedKey, VerifiedSignature
from activitypub.httpsig.policy import DEFAULT_WINDOW, check_coverage, check_time
from activitypub.httpsig.request import Target, aware, lower_headers
from activitypub.httpsig.rfc9421 import parse_rfc9421
from activitypub.keys import load_public_key

__all__ = ["parse_signature", "verify_parsed", "verify_request"]


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    resolve_key: KeyResolver,
    now: datetime,
    *,
    refresh_key: KeyResolver | None = None,
    window: timedelta = DEFAULT_WINDOW,
    parsed: ParsedSignature | None = None,
) -> VerifiedSignature:
    """Verify the request's signature (cavage or RFC 9421) under our policy.

    ``parsed``: what :func:`parse_signature` returned for this same request, for a
    caller that needed the keyId first (parsing again would give the same result).
    """
    if parsed is None:
        parsed = parse_signature(method, url, headers)
    has_query = Target.from_url(url).query is not None
    check_coverage(parsed, method, body, {name.lower() for name in headers}, has_query=has_query)
    check_time(parsed, aware(now), window)
    check_digest(parsed, body)
    key = await resolve_key(parsed.key_id)
    if key is not None:
        try:
            return verify_parsed(parsed, key)
        except SignatureError:
            if refresh_key is None:
                raise
    elif refresh_key is None:
        raise SignatureError(f"unknown key: {parsed.key_id}")
    assert refresh_key is not None
    key = await refresh_key(parsed.key_id)
    if key is None:
        raise SignatureError(f"unknown key: {parsed.key_id}")
    return verify_parsed(parsed, key)


def parse_signature(method: str, url: str, headers: Mapping[str, str]) -> ParsedSignature:
    """Parse the request's signature and rebuild its signature base; no policy checks."""
    lowered = lower_headers(headers)
    target = Target.from_url(url)
    if "signature-input" in lowered:
        return parse_rfc9421(method, target, lowered)
    value = lowered.get("signature")
    if value is None:
        authorization = lowered.get("authorization", "")
        if authorization[:10].lower() == "signature ":
            value = authorization
    if value is None:
        raise SignatureError("no signature")
    return parse_cavage(method, target, lowered, value)


def verify_parsed(parsed: ParsedSignature, key: ResolvedKey) -> VerifiedSignature:
    """Check the signature bytes with ``key``; only cryptography, no policy."""
    public = key.public_key
    if isinstance(public, str):
        try:
            public = load_public_key(public)
        except InvalidObject as exc:
            raise SignatureError(f"unusable key: {exc.reason}") from exc
    algorithm = effective_algorithm(parsed, public)
    try:
        verify_bytes(algorithm, public, parsed.signature, parsed.signature_base)
    except InvalidSignature as exc:
        raise SignatureError("bad signature") from exc
    return VerifiedSignature(
        key_id=parsed.key_id,
        owner=key.owner,
        scheme=parsed.scheme,
        algorithm=parsed.algorithm if parsed.scheme == "cavage" and parsed.algorithm else algorithm,
    )
