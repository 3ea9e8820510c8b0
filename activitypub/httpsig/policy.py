"""What we require of a signature: the algorithms we verify, the components it must cover,
and the time window (clock skew) in which it counts as fresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from activitypub.errors import SignatureError
from activitypub.httpsig.model import ParsedSignature

__all__ = [
    "CAVAGE_ALGORITHMS",
    "DEFAULT_WINDOW",
    "RFC9421_ALGORITHMS",
    "check_coverage",
    "check_time",
]

#: Mastodon's tolerance: at most about an hour old, at most an hour ahead.
DEFAULT_WINDOW = timedelta(hours=1)

#: The ``algorithm`` values of draft-cavage we verify (hs2019: the key decides).
CAVAGE_ALGORITHMS = ("hs2019", "rsa-sha256")
#: The ``alg`` values of RFC 9421 we verify; without ``alg`` the key decides.
RFC9421_ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _needs_digest(method: str, body: bytes | None) -> bool:
    # Mastodon requires a signed digest on every POST, even an empty one.
    return method.upper() in _BODY_METHODS or bool(body)


def check_coverage(
    parsed: ParsedSignature, method: str, body: bytes | None, header_names: set[str],
    *, has_query: bool = True,
) -> None:
    """The signature must cover the target, the host (cavage), a time and the body's digest.

    ``has_query``: whether the request URL has a query; without one, RFC 9421's
    ``@authority`` + ``@path`` pin the whole target (bovine's and apsig's form).
    """
    covered = set(parsed.covered)
    if parsed.scheme == "cavage":
        digest = "digest"
        required = [("(request-target)",), ("host",), ("date", "(created)")]
    else:
        digest = "content-digest"
        if parsed.created is None:
            raise SignatureError("not covered: the signature has no created parameter")
        required = [("@method",)]
        if not _covers_rfc9421_target(covered, has_query):
            required.append(("@target-uri",))
    if _needs_digest(method, body):
        if digest not in header_names:
            raise SignatureError(f"missing digest: a {method.upper()} needs a signed {digest}")
        required.append((digest,))
    for alternatives in required:
        if covered.isdisjoint(alternatives):
            raise SignatureError(f"not covered: {' or '.join(alternatives)}")


def _covers_rfc9421_target(covered: set[str], has_query: bool) -> bool:
    # @target-uri, or its parts: authority plus path and query (the query may be left out
    # when the URL has none: a query added on the way would then fail this rule).
    if "@target-uri" in covered:
        return True
    has_authority = not covered.isdisjoint(("@authority", "host"))
    has_path = (
        "@request-target" in covered
        or {"@path", "@query"} <= covered
        or (not has_query and "@path" in covered)
    )
    return has_authority and has_path


def check_time(parsed: ParsedSignature, now: datetime, window: timedelta) -> None:
    """The signature must have been made within ``window`` of ``now`` and not have expired."""
    created = parsed.created
    if created is None:
        return  # coverage already demanded date or created
    if created > now + window:
        raise SignatureError(f"from the future: signed at {created.isoformat()}")
    if created < now - window:
        raise SignatureError(f"expired: signed at {created.isoformat()}")
    # Like Mastodon, the window also absorbs clock skew past an explicit expiry.
    if parsed.expires is not None and now > parsed.expires + window:
        raise SignatureError(f"expired: expired at {parsed.expires.isoformat()}")
