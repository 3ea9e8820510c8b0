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
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal, Protocol, TypeAlias
from urllib.parse import quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from .errors import InvalidObject, SignatureError
from .keys import PrivateKey, PublicKey, load_private_key, load_public_key

Scheme = Literal["cavage", "rfc9421"]

#: Mastodon's tolerance: at most about an hour old, at most an hour ahead.
DEFAULT_WINDOW = timedelta(hours=1)

_CAVAGE_POST_HEADERS = ("(request-target)", "host", "date", "digest")
_CAVAGE_GET_HEADERS = ("(request-target)", "host", "date")
_RFC9421_BODY_COMPONENTS = ("@method", "@target-uri", "content-digest")
_RFC9421_GET_COMPONENTS = ("@method", "@target-uri")
_RFC9421_ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class SigningKey:
    """Our key for signing: the keyId peers fetch, and the PEM private key (RSA or Ed25519)."""

    key_id: str
    private_key_pem: str


@dataclass(frozen=True)
class ResolvedKey:
    """A remote public key: its id, the actor owning it, the key (object or PEM)."""

    key_id: str
    owner: str
    public_key: PublicKey | str


class KeyResolver(Protocol):
    """Looks up the public key for a keyId; None when there is none."""

    async def __call__(self, key_id: str) -> ResolvedKey | None: ...


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified: who signed, with which scheme and algorithm."""

    key_id: str
    owner: str
    scheme: Scheme
    algorithm: str


@dataclass(frozen=True)
class ParsedSignature:
    """A signature taken apart, with the exact bytes that were signed.

    ``covered`` holds lowercase component names; a component with parameters
    appears in its serialized form (so it never counts as the plain component).
    ``digest`` is the value of the covered Digest / Content-Digest header.
    """

    scheme: Scheme
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    created: datetime | None
    expires: datetime | None
    digest: str | None
    signature_base: bytes
    signature: bytes


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


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
    _check_coverage(parsed, method, body, {name.lower() for name in headers})
    _check_time(parsed, _aware(now), window)
    _check_digest(parsed, body)
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
    lowered = _lower_headers(headers)
    target = _Target.from_url(url)
    if "signature-input" in lowered:
        return _parse_rfc9421(method, target, lowered)
    value = lowered.get("signature")
    if value is None:
        authorization = lowered.get("authorization", "")
        if authorization[:10].lower() == "signature ":
            value = authorization
    if value is None:
        raise SignatureError("no signature")
    return _parse_cavage(method, target, lowered, value)


def verify_parsed(parsed: ParsedSignature, key: ResolvedKey) -> VerifiedSignature:
    """Check the signature bytes with ``key``; only cryptography, no policy."""
    public = key.public_key
    if isinstance(public, str):
        try:
            public = load_public_key(public)
        except InvalidObject as exc:
            raise SignatureError(f"unusable key: {exc.reason}") from exc
    algorithm = _effective_algorithm(parsed, public)
    try:
        _verify_bytes(algorithm, public, parsed.signature, parsed.signature_base)
    except InvalidSignature as exc:
        raise SignatureError("bad signature") from exc
    return VerifiedSignature(
        key_id=parsed.key_id,
        owner=key.owner,
        scheme=parsed.scheme,
        algorithm=parsed.algorithm if parsed.scheme == "cavage" and parsed.algorithm else algorithm,
    )


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: SigningKey,
    now: datetime,
    *,
    components: Sequence[str] | None = None,
) -> dict[str, str]:
    """Headers to add for a draft-cavage signature: Date, Host, Digest (with a body), Signature.

    Covers ``(request-target) host date digest`` (no digest without a body)
    unless ``components`` names others. Only RSA keys can sign cavage.
    """
    private = _private_key(key.private_key_pem)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("draft-cavage signatures need an RSA key")
    target = _Target.from_url(url)
    lowered = _lower_headers(headers)
    added = {
        "Date": format_datetime(_aware(now).astimezone(UTC), usegmt=True),
        "Host": lowered.get("host") or target.authority,
    }
    if body is not None:
        added["Digest"] = _sha256_digest(body)
    merged = {**lowered, **{name.lower(): value for name, value in added.items()}}
    names = tuple(components or (_CAVAGE_POST_HEADERS if body is not None else _CAVAGE_GET_HEADERS))
    base = "\n".join(f"{name}: {_cavage_value(name, method, target, merged, {})}" for name in names)
    signature = _sign_bytes("rsa-sha256", private, base.encode("utf-8"))
    added["Signature"] = (
        f'keyId="{key.key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return added


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: SigningKey,
    now: datetime,
    *,
    components: Sequence[str] | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """Headers to add for an RFC 9421 signature: Content-Digest (with a body), Signature-Input,
    Signature.

    Covers ``("@method" "@target-uri" "content-digest")`` (no content-digest
    without a body) with ``created`` and ``keyid``, like Mastodon; the algorithm
    follows from the key (rsa-v1_5-sha256 or ed25519) and is not named.
    """
    private = _private_key(key.private_key_pem)
    algorithm = "ed25519" if isinstance(private, ed25519.Ed25519PrivateKey) else "rsa-v1_5-sha256"
    added: dict[str, str] = {}
    if body is not None:
        added["Content-Digest"] = _content_digest(body)
    merged = {**_lower_headers(headers), **{name.lower(): v for name, v in added.items()}}
    default = _RFC9421_BODY_COMPONENTS if body is not None else _RFC9421_GET_COMPONENTS
    items: list[_Member] = [(name, {}) for name in (components or default)]
    params: _Params = {"created": int(_aware(now).timestamp()), "keyid": key.key_id}
    base = _rfc9421_base(items, params, method, _Target.from_url(url), merged)
    signature = _sign_bytes(algorithm, private, base)
    added["Signature-Input"] = f"{label}={_serialize_inner_list(items, params)}"
    added["Signature"] = f"{label}={_serialize_bare(signature)}"
    return added


# --------------------------------------------------------------------------
# Policy: what a signature must cover, when it is fresh, whether the body matches
# --------------------------------------------------------------------------


def _needs_digest(method: str, body: bytes | None) -> bool:
    # Mastodon requires a signed digest on every POST, even an empty one.
    return method.upper() in _BODY_METHODS or bool(body)


def _check_coverage(
    parsed: ParsedSignature, method: str, body: bytes | None, header_names: set[str]
) -> None:
    covered = set(parsed.covered)
    if parsed.scheme == "cavage":
        digest = "digest"
        required = [("(request-target)",), ("host",), ("date", "(created)")]
    else:
        digest = "content-digest"
        if parsed.created is None:
            raise SignatureError("not covered: the signature has no created parameter")
        required = [("@method",)]
        if not _covers_rfc9421_target(covered):
            required.append(("@target-uri",))
    if _needs_digest(method, body):
        if digest not in header_names:
            raise SignatureError(f"missing digest: a {method.upper()} needs a signed {digest}")
        required.append((digest,))
    for alternatives in required:
        if covered.isdisjoint(alternatives):
            raise SignatureError(f"not covered: {' or '.join(alternatives)}")


def _covers_rfc9421_target(covered: set[str]) -> bool:
    # @target-uri, or its parts: authority plus path and query.
    if "@target-uri" in covered:
        return True
    has_authority = not covered.isdisjoint(("@authority", "host"))
    has_path = "@request-target" in covered or {"@path", "@query"} <= covered
    return has_authority and has_path


def _check_time(parsed: ParsedSignature, now: datetime, window: timedelta) -> None:
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


def _check_digest(parsed: ParsedSignature, body: bytes | None) -> None:
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
        members = _SFParser(value).dictionary()
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


def _sha256_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _content_digest(body: bytes) -> str:
    return f"sha-256={_serialize_bare(hashlib.sha256(body).digest())}"


# --------------------------------------------------------------------------
# The request as signatures see it
# --------------------------------------------------------------------------


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # Repeated fields are combined as HTTP allows (both schemes sign the joined value).
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key, value = name.lower(), value.strip()
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    return lowered


@dataclass(frozen=True)
class _Target:
    """The parts of the request URL that signatures cover."""

    scheme: str
    authority: str
    path: str
    query: str | None  # None: no "?" at all; "": an empty query

    @classmethod
    def from_url(cls, url: str) -> _Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        authority = parts.netloc.rpartition("@")[2].lower()
        default_port = {"http": ":80", "https": ":443"}.get(scheme)
        if default_port and authority.endswith(default_port):
            authority = authority[: -len(default_port)]
        has_query = "?" in url.partition("#")[0]
        return cls(scheme, authority, parts.path or "/", parts.query if has_query else None)

    @property
    def request_target(self) -> str:
        return self.path if self.query is None else f"{self.path}?{self.query}"

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.authority}{self.request_target}"


# --------------------------------------------------------------------------
# draft-cavage
# --------------------------------------------------------------------------

_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,"\s]*))\s*(?:,|$)')


def _parse_cavage(
    method: str, target: _Target, headers: Mapping[str, str], value: str
) -> ParsedSignature:
    params = _cavage_params(value)
    key_id, encoded = params.get("keyid"), params.get("signature")
    if not key_id or not encoded:
        raise SignatureError("malformed signature: keyId and signature are required")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ("hs2019", "rsa-sha256"):
        raise SignatureError(f"unsupported algorithm: {algorithm}")
    signature = _b64decode(encoded)
    names = _cavage_covered(params, algorithm)
    times = {name: _cavage_int(params, name) for name in ("created", "expires")}
    base = "\n".join(
        f"{name}: {_cavage_value(name, method, target, headers, times)}" for name in names
    )
    return ParsedSignature(
        scheme="cavage",
        key_id=key_id,
        algorithm=algorithm,
        covered=names,
        created=_cavage_created(names, headers, times),
        expires=_timestamp(times["expires"]) if "(expires)" in names else None,
        digest=headers.get("digest") if "digest" in names else None,
        signature_base=base.encode("utf-8"),
        signature=signature,
    )


def _cavage_params(value: str) -> dict[str, str]:
    text = value.strip()
    if text[:10].lower() == "signature ":  # the Authorization scheme, or a stray prefix
        text = text[10:].lstrip()
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _CAVAGE_PARAM.match(text, pos)
        if match is None or match.end() == pos:
            raise SignatureError("malformed signature: cannot parse the Signature header")
        name = match.group(1).lower()
        if name in params:
            raise SignatureError(f"malformed signature: duplicate parameter {name}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return params


def _cavage_covered(params: Mapping[str, str], algorithm: str) -> tuple[str, ...]:
    if "headers" not in params:
        # draft-cavage defaults, as Mastodon applies them.
        return ("date",) if algorithm == "rsa-sha256" else ("(created)",)
    names = tuple(params["headers"].lower().split())
    if not names:
        raise SignatureError("malformed signature: empty headers parameter")
    if len(set(names)) != len(names):
        raise SignatureError("malformed signature: a header is listed twice")
    if algorithm != "hs2019" and not {"(created)", "(expires)"}.isdisjoint(names):
        raise SignatureError("malformed signature: (created)/(expires) need algorithm hs2019")
    return names


def _cavage_int(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(params[name])
    except ValueError as exc:
        raise SignatureError(f"malformed signature: {name} is not an integer") from exc


def _cavage_value(
    name: str,
    method: str,
    target: _Target,
    headers: Mapping[str, str],
    times: Mapping[str, int | None],
) -> str:
    if name == "(request-target)":
        query = f"?{target.query}" if target.query else ""
        return f"{method.lower()} {target.path}{query}"
    if name in ("(created)", "(expires)"):
        value = times.get(name[1:-1])
        if value is None:
            raise SignatureError(f"malformed signature: {name} is covered but not given")
        return str(value)
    if name.startswith("("):
        raise SignatureError(f"malformed signature: unknown pseudo-header {name}")
    return _header_value(name, headers)


def _header_value(name: str, headers: Mapping[str, str]) -> str:
    if name in headers:
        return headers[name]
    if name in ("digest", "content-digest"):
        raise SignatureError(f"missing digest: the signed {name} header is absent")
    raise SignatureError(f"missing header: {name}")


def _cavage_created(
    names: tuple[str, ...], headers: Mapping[str, str], times: Mapping[str, int | None]
) -> datetime | None:
    if "(created)" in names:
        return _timestamp(times["created"])
    if "date" not in names:
        return None
    try:
        return _aware(parsedate_to_datetime(headers["date"]))
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"malformed date: {headers['date']!r}") from exc


# --------------------------------------------------------------------------
# RFC 9421
# --------------------------------------------------------------------------


def _parse_rfc9421(method: str, target: _Target, headers: Mapping[str, str]) -> ParsedSignature:
    if "signature" not in headers:
        raise SignatureError("malformed signature: Signature-Input without Signature")
    try:
        inputs = _SFParser(headers["signature-input"]).dictionary()
        signatures = _SFParser(headers["signature"]).dictionary()
    except ValueError as exc:
        raise SignatureError(f"malformed signature: {exc}") from exc
    # Several signatures may be present (proxies add theirs); we check the first.
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureError("malformed signature: no Signature for the Signature-Input label")
    components, params = inputs[label]
    signature = signatures[label][0]
    if not isinstance(components, list) or not isinstance(signature, bytes):
        raise SignatureError(f"malformed signature: {label} is not a signature")
    key_id, alg = params.get("keyid"), params.get("alg")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("malformed signature: keyid is required")
    if alg is not None and alg not in _RFC9421_ALGORITHMS:
        raise SignatureError(f"unsupported algorithm: {_serialize_bare(alg)}")
    base = _rfc9421_base(components, params, method, target, headers)
    covered = tuple(
        name if not cparams else _serialize_item(name, cparams)
        for name, cparams in components
        if isinstance(name, str)
    )
    return ParsedSignature(
        scheme="rfc9421",
        key_id=key_id,
        algorithm=alg if isinstance(alg, str) else None,
        covered=covered,
        created=_rfc9421_time(params, "created"),
        expires=_rfc9421_time(params, "expires"),
        digest=headers.get("content-digest") if "content-digest" in covered else None,
        signature_base=base,
        signature=signature,
    )


def _rfc9421_time(params: _Params, name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SignatureError(f"malformed signature: {name} is not an integer")
    return _timestamp(value)


def _rfc9421_base(
    components: list[_Member],
    params: _Params,
    method: str,
    target: _Target,
    headers: Mapping[str, str],
) -> bytes:
    lines = []
    seen: set[str] = set()
    for name, cparams in components:
        if not isinstance(name, str) or isinstance(name, _Token) or name != name.lower():
            raise SignatureError(f"malformed signature: bad component {name!r}")
        identifier = _serialize_item(name, cparams)
        if identifier in seen:
            raise SignatureError(f"malformed signature: {identifier} is covered twice")
        seen.add(identifier)
        value = _component_value(name, cparams, method, target, headers)
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {_serialize_inner_list(components, params)}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError as exc:
        raise SignatureError("malformed signature: non-ASCII signature base") from exc


def _component_value(
    name: str, params: _Params, method: str, target: _Target, headers: Mapping[str, str]
) -> str:
    if name.startswith("@"):
        return _derived_value(name, params, method, target)
    value = _header_value(name, headers)
    if not params:
        return value
    if set(params) <= {"key", "sf"} and ("key" in params or name in _DICTIONARY_FIELDS):
        return _structured_value(name, value, params)
    raise SignatureError(f"malformed signature: unsupported parameters on {name}")


# Fields we know to be Dictionaries, so ";sf" can re-serialize them.
_DICTIONARY_FIELDS = frozenset({"content-digest", "repr-digest", "signature", "signature-input"})


def _structured_value(name: str, value: str, params: _Params) -> str:
    try:
        members = _SFParser(value).dictionary()
    except ValueError as exc:
        raise SignatureError(f"malformed signature: {name} is not a dictionary") from exc
    key = params.get("key")
    if key is None:
        return _serialize_dictionary(members)
    if not isinstance(key, str) or key not in members:
        raise SignatureError(f"missing header: {name} has no member {key!r}")
    member, member_params = members[key]
    if isinstance(member, list):
        return _serialize_inner_list(member, member_params)
    return _serialize_item(member, member_params)


def _derived_value(name: str, params: _Params, method: str, target: _Target) -> str:
    if name == "@query-param" and set(params) == {"name"}:
        return _query_param(target, params["name"])
    if params:
        raise SignatureError(f"malformed signature: unsupported parameters on {name}")
    values = {
        "@method": method,
        "@target-uri": target.uri,
        "@authority": target.authority,
        "@scheme": target.scheme,
        "@request-target": target.request_target,
        "@path": target.path,
        "@query": f"?{target.query or ''}",
    }
    if name not in values:
        raise SignatureError(f"malformed signature: unknown component {name}")
    return values[name]


def _query_param(target: _Target, name: object) -> str:
    if not isinstance(name, str):
        raise SignatureError("malformed signature: @query-param name must be a string")
    wanted = unquote(name)
    found = [
        unquote(value.replace("+", " "))
        for key, _, value in (pair.partition("=") for pair in (target.query or "").split("&"))
        if unquote(key.replace("+", " ")) == wanted
    ]
    if len(found) != 1:
        raise SignatureError(f"missing header: query parameter {wanted!r} (not exactly once)")
    # RFC 9421 2.2.8: re-encode with the form percent-encode set, spaces as %20.
    return quote(found[0], safe="*").replace("~", "%7E")


# --------------------------------------------------------------------------
# Cryptography
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _private_key(pem: str) -> PrivateKey:
    # Parsing an RSA private key costs more than signing with it; our keys are few.
    return load_private_key(pem)


def _effective_algorithm(parsed: ParsedSignature, key: PublicKey) -> str:
    if parsed.scheme == "cavage" or parsed.algorithm in ("rsa-v1_5-sha256", "rsa-pss-sha512"):
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("unusable key: the algorithm needs an RSA key")
        return "rsa-v1_5-sha256" if parsed.algorithm != "rsa-pss-sha512" else "rsa-pss-sha512"
    if parsed.algorithm == "ed25519" and not isinstance(key, ed25519.Ed25519PublicKey):
        raise SignatureError("unusable key: ed25519 needs an Ed25519 key")
    return "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "rsa-v1_5-sha256"


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def _verify_bytes(algorithm: str, key: PublicKey, signature: bytes, data: bytes) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    elif algorithm == "rsa-pss-sha512":
        key.verify(signature, data, _pss(), hashes.SHA512())
    else:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def _sign_bytes(algorithm: str, key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise SignatureError("malformed signature: signature is not base64") from exc


def _timestamp(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError(f"malformed signature: timestamp {value} out of range") from exc


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------
# Structured Field Values (RFC 8941): just what signatures and digests need
# --------------------------------------------------------------------------


class _Token(str):
    """A Structured Field token (serialized bare, unlike a string)."""


_Bare: TypeAlias = bool | int | float | str | bytes
_Params: TypeAlias = dict[str, _Bare]
_Member: TypeAlias = tuple[_Bare, _Params]
_DictMember: TypeAlias = tuple["_Bare | list[_Member]", _Params]

_SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SF_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_SF_NUMBER = re.compile(r"-?(\d{1,15})(\.\d{1,3})?")
_SF_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class _SFParser:
    """A strict RFC 8941 parser for Dictionary fields."""

    def __init__(self, text: str) -> None:
        self.text = text.strip(" \t")
        self.pos = 0

    def dictionary(self) -> dict[str, _DictMember]:
        result: dict[str, _DictMember] = {}
        while self.pos < len(self.text):
            key = self._match(_SF_KEY, "a key").group(0)
            if key in result:  # RFC 8941 keeps the last; for signatures that is ambiguous
                raise ValueError(f"duplicate key {key}")
            if self._peek() == "=":
                self.pos += 1
                result[key] = self._member()
            else:
                result[key] = (True, self._params())
            self._skip(" \t")
            if self.pos < len(self.text):
                self._expect(",")
                self._skip(" \t")
                if self.pos == len(self.text):
                    raise ValueError("trailing comma")
        return result

    def _member(self) -> _DictMember:
        if self._peek() != "(":
            return self._bare(), self._params()
        self.pos += 1
        items: list[_Member] = []
        while True:
            self._skip(" ")
            if self._peek() == ")":
                self.pos += 1
                return items, self._params()
            items.append((self._bare(), self._params()))
            if self._peek() not in (" ", ")"):
                raise ValueError("bad inner list")

    def _params(self) -> _Params:
        params: _Params = {}
        while self._peek() == ";":
            self.pos += 1
            self._skip(" ")
            key = self._match(_SF_KEY, "a parameter key").group(0)
            value: _Bare = True
            if self._peek() == "=":
                self.pos += 1
                value = self._bare()
            params[key] = value
        return params

    def _bare(self) -> _Bare:
        char = self._peek()
        if char == '"':
            return self._string()
        if char == ":":
            return base64.b64decode(self._match(_SF_BYTES, "bytes").group(1), validate=True)
        if char == "?":
            flag = self.text[self.pos : self.pos + 2]
            if flag not in ("?0", "?1"):
                raise ValueError("bad boolean")
            self.pos += 2
            return flag == "?1"
        if char == "-" or char.isdigit():
            number = self._match(_SF_NUMBER, "a number").group(0)
            return float(number) if "." in number else int(number)
        return _Token(self._match(_SF_TOKEN, "an item").group(0))

    def _string(self) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.text[self.pos : self.pos + 1]
                if escaped not in ('"', "\\"):
                    raise ValueError("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise ValueError("bad character in string")
            else:
                out.append(char)
        raise ValueError("unterminated string")

    def _peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _skip(self, chars: str) -> None:
        while self._peek() and self._peek() in chars:
            self.pos += 1

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def _match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise ValueError(f"expected {what} at {self.pos}")
        self.pos = match.end()
        return match


def _serialize_bare(value: _Bare) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return f":{base64.b64encode(value).decode('ascii')}:"
    if isinstance(value, _Token):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_params(params: _Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare(value)}"
        for key, value in params.items()
    )


def _serialize_item(value: _Bare, params: _Params) -> str:
    return _serialize_bare(value) + _serialize_params(params)


def _serialize_inner_list(items: Sequence[_Member], params: _Params) -> str:
    inner = " ".join(_serialize_item(value, item_params) for value, item_params in items)
    return f"({inner}){_serialize_params(params)}"


def _serialize_dictionary(members: Mapping[str, _DictMember]) -> str:
    parts = []
    for key, (value, params) in members.items():
        if isinstance(value, list):
            parts.append(f"{key}={_serialize_inner_list(value, params)}")
        elif value is True:
            parts.append(key + _serialize_params(params))
        else:
            parts.append(f"{key}={_serialize_item(value, params)}")
    return ", ".join(parts)
