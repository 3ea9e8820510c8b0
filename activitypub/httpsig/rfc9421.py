"""RFC 9421 HTTP Message Signatures: parse and sign."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.errors import SignatureError
from activitypub.httpsig.crypto import private_key, sign_bytes
from activitypub.httpsig.digest import content_digest
from activitypub.httpsig.model import ParsedSignature, SigningKey
from activitypub.httpsig.policy import RFC9421_ALGORITHMS
from activitypub.httpsig.request import Target, aware, header_value, lower_headers, timestamp
from activitypub.httpsig.structured import (
    Member,
    Params,
    Token,
    parse_dictionary,
    serialize_bare,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
)

__all__ = ["parse_rfc9421", "sign_rfc9421"]

# What we sign: the target as @authority + @path (+ @query only when the URL has one),
# the method, and with a body its Content-Digest and Content-Type; params created, alg,
# keyid in that order. bovine and apsig rebuild exactly this form (apsig knows no
# @target-uri, and rebuilds the params in this order); http-message-signatures and our
# own verifier take any form. Mastodon (4.5+) wants @target-uri instead, but it always
# takes draft-cavage, which we send first: RFC 9421 goes only to hosts that refused
# cavage with 400/401 (the double-knock) or accepted RFC 9421 before.
_TARGET_COMPONENTS = ("@method", "@authority", "@path")
_BODY_HEADERS = ("content-digest", "content-type")

# Fields we know to be Dictionaries, so ";sf" can re-serialize them.
_DICTIONARY_FIELDS = frozenset({"content-digest", "repr-digest", "signature", "signature-input"})


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
    name_algorithm: bool = True,
) -> dict[str, str]:
    """Headers to add for an RFC 9421 signature: Content-Digest (with a body), Signature-Input,
    Signature.

    Covers ``("@method" "@authority" "@path")``, plus ``"@query"`` when the URL has a
    query, plus ``"content-digest"`` and (when the request has one) ``"content-type"``
    with a body; parameters ``created``, ``alg`` (rsa-v1_5-sha256 or ed25519, from
    the key; left out with ``name_algorithm=False``) and ``keyid``.
    """
    private = private_key(key.private_key_pem)
    algorithm = "ed25519" if isinstance(private, ed25519.Ed25519PrivateKey) else "rsa-v1_5-sha256"
    added: dict[str, str] = {}
    if body is not None:
        added["Content-Digest"] = content_digest(body)
    merged = {**lower_headers(headers), **{name.lower(): v for name, v in added.items()}}
    target = Target.from_url(url)
    if components is None:
        components = _default_components(target, merged, body is not None)
    items: list[Member] = [(name, {}) for name in components]
    params: Params = {"created": int(aware(now).timestamp())}
    if name_algorithm:
        params["alg"] = algorithm
    params["keyid"] = key.key_id
    base = _rfc9421_base(items, params, method, target, merged)
    signature = sign_bytes(algorithm, private, base)
    added["Signature-Input"] = f"{label}={serialize_inner_list(items, params)}"
    added["Signature"] = f"{label}={serialize_bare(signature)}"
    return added


def _default_components(
    target: Target, headers: Mapping[str, str], has_body: bool
) -> tuple[str, ...]:
    chosen = list(_TARGET_COMPONENTS)
    if target.query is not None:
        chosen.append("@query")
    if has_body:
        chosen.extend(name for name in _BODY_HEADERS if name in headers)
    return tuple(chosen)


def parse_rfc9421(method: str, target: Target, headers: Mapping[str, str]) -> ParsedSignature:
    """Take Signature-Input and Signature apart (the first label) and rebuild the base."""
    if "signature" not in headers:
        raise SignatureError("malformed signature: Signature-Input without Signature")
    try:
        inputs = parse_dictionary(headers["signature-input"])
        signatures = parse_dictionary(headers["signature"])
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
    if alg is not None and alg not in RFC9421_ALGORITHMS:
        raise SignatureError(f"unsupported algorithm: {serialize_bare(alg)}")
    base = _rfc9421_base(components, params, method, target, headers)
    covered = tuple(
        name if not cparams else serialize_item(name, cparams)
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


def _rfc9421_time(params: Params, name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SignatureError(f"malformed signature: {name} is not an integer")
    return timestamp(value)


def _rfc9421_base(
    components: list[Member],
    params: Params,
    method: str,
    target: Target,
    headers: Mapping[str, str],
) -> bytes:
    lines = []
    seen: set[str] = set()
    for name, cparams in components:
        if not isinstance(name, str) or isinstance(name, Token) or name != name.lower():
            raise SignatureError(f"malformed signature: bad component {name!r}")
        identifier = serialize_item(name, cparams)
        if identifier in seen:
            raise SignatureError(f"malformed signature: {identifier} is covered twice")
        seen.add(identifier)
        value = _component_value(name, cparams, method, target, headers)
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {serialize_inner_list(components, params)}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError as exc:
        raise SignatureError("malformed signature: non-ASCII signature base") from exc


def _component_value(
    name: str, params: Params, method: str, target: Target, headers: Mapping[str, str]
) -> str:
    if name.startswith("@"):
        return _derived_value(name, params, method, target)
    value = header_value(name, headers)
    if not params:
        return value
    if set(params) <= {"key", "sf"} and ("key" in params or name in _DICTIONARY_FIELDS):
        return _structured_value(name, value, params)
    raise SignatureError(f"malformed signature: unsupported parameters on {name}")


def _structured_value(name: str, value: str, params: Params) -> str:
    try:
        members = parse_dictionary(value)
    except ValueError as exc:
        raise SignatureError(f"malformed signature: {name} is not a dictionary") from exc
    key = params.get("key")
    if key is None:
        return serialize_dictionary(members)
    if not isinstance(key, str) or key not in members:
        raise SignatureError(f"missing header: {name} has no member {key!r}")
    member, member_params = members[key]
    if isinstance(member, list):
        return serialize_inner_list(member, member_params)
    return serialize_item(member, member_params)


def _derived_value(name: str, params: Params, method: str, target: Target) -> str:
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


def _query_param(target: Target, name: object) -> str:
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
