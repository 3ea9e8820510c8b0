"""HTTP signatures: draft-cavage (what every fediverse server speaks) and RFC 9421.

Signing: :func:`sign_cavage` and :func:`sign_rfc9421` return the headers to add.
Verification: :func:`verify_request` parses, enforces our policy (coverage, time
window, body digest), looks the key up through the caller's resolver and checks
the signature. It returns a :class:`VerifiedSignature` or raises
:class:`SignatureError` whose ``reason`` starts with one of these fixed phrases
(details follow after ": ")::

    no signature            neither Signature-Input nor Signature/Authorization
    malformed signature     the header cannot be parsed or names an unknown component
    unsupported algorithm   an algorithm we do not verify
    missing header          a covered header is absent from the request
    not covered             a component our policy requires is not signed
    expired                 Date/created older than the window (or past expires)
    from the future         Date/created later than now + window
    malformed date          the covered Date header cannot be read
    missing digest          a POST (or a body) without Digest/Content-Digest
    unsupported digest      no SHA-256 (cavage) / SHA-256 or SHA-512 (RFC 9421) digest
    digest mismatch         the digest does not match the body
    unknown key             the resolver knows no key for the keyId
    unusable key            the key cannot be parsed or does not fit the algorithm
    bad signature           the signature does not verify with the key

Refreshing a rotated key: pass ``refresh_key`` (a resolver that bypasses the
cache and re-fetches) to :func:`verify_request`. It is called at most once: when
``resolve_key`` returns None, or when verification with the cached key fails
("unusable key" / "bad signature"). Callers with their own flow can use
:func:`parse_signature` + :func:`verify_parsed` (which do no policy checks).

Modules: :mod:`.verify` (the three entry points above), :mod:`.policy` (algorithms,
required coverage, time window), :mod:`.cavage` and :mod:`.rfc9421` (parse and sign each
scheme), :mod:`.digest` (Digest / Content-Digest), :mod:`.crypto` (keys and signature
bytes), :mod:`.request` (headers and target URL as signed), :mod:`.structured` (the RFC 8941
parser and serializer), :mod:`.model` (the values passed around).
"""

from activitypub.httpsig.cavage import sign_cavage
from activitypub.httpsig.model import (
    KeyResolver,
    ParsedSignature,
    ResolvedKey,
    Scheme,
    SigningKey,
    VerifiedSignature,
)
from activitypub.httpsig.policy import DEFAULT_WINDOW
from activitypub.httpsig.rfc9421 import sign_rfc9421
from activitypub.httpsig.verify import parse_signature, verify_parsed, verify_request

__all__ = [
    "DEFAULT_WINDOW",
    "KeyResolver",
    "ParsedSignature",
    "ResolvedKey",
    "Scheme",
    "SigningKey",
    "VerifiedSignature",
    "parse_signature",
    "sign_cavage",
    "sign_rfc9421",
    "verify_parsed",
    "verify_request",
]
