"""Body digests: Digest (draft-cavage, SHA-256) and Content-Digest (RFC 9530, for RFC 9421)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from activitypub.errors import SignatureError
from activitypub.httpsig.model import ParsedSignature
from activitypub.httpsig.structured import parse_dictionary, serialize_bare

__all__ = ["check_digest", "content_digest", "sha256_digest"]


def sha256_digest(body: bytes) -> str:
    """The Digest header for ``body``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest(body: bytes) -> str:
    """The Content-Digest header for ``body``."""
    return f"sha-256={serialize_bare(hashlib.sha256(body).digest())}"


def check_digest(parsed: ParsedSignature, body: bytes | None) -> None:
    """The covered digest must match the body."""
    if parsed.digest is None:
        return  # coverage already demanded a digest wherever there is a body
    if parsed.scheme == "cavage":
        _check_cavage_digest(parsed.digest, body or b"")
    else:
        _check_content_digest(parsed.digest, body or b"")


def _check_cavage_digest(value: str, body: bytes) -> None:
    for part in value.split(","):
        name, _, encoded = part.strip().partition("=")
        if name.strip().lower() == "sha-256":
            expected = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
            if not hmac.compare_digest(encoded.strip(), expected):
                raise SignatureError("digest mismatch")
            return
    raise SignatureError(f"unsupported digest: {value}")


def _check_content_digest(value: str, body: bytes) -> None:
    try:
        members = parse_dictionary(value)
    except ValueError as exc:
        raise SignatureError(f"malformed signature: Content-Digest: {exc}") from exc
    checked = False
    for name, algorithm in (("sha-256", hashlib.sha256), ("sha-512", hashlib.sha512)):
        if name not in members:
            continue
        digest = members[name][0]
        if not isinstance(digest, bytes) or not hmac.compare_digest(
            digest, algorithm(body).digest()
        ):
            raise SignatureError("digest mismatch")
        checked = True
    if not checked:
        raise SignatureError(f"unsupported digest: {value}")
