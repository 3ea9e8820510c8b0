"""draft-cavage HTTP signatures (what every fediverse server speaks): parse and sign."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub.errors import SignatureError
from activitypub.httpsig.crypto import b64decode, private_key, sign_bytes
from activitypub.httpsig.digest import sha256_digest
from activitypub.httpsig.model import ParsedSignature, SigningKey
from activitypub.httpsig.policy import CAVAGE_ALGORITHMS
from activitypub.httpsig.request import Target, aware, header_value, lower_headers, timestamp

__all__ = ["parse_cavage", "sign_cavage"]

# What we sign, like Mastodon.
_CAVAGE_POST_HEADERS = ("(request-target)", "host", "date", "digest")
_CAVAGE_GET_HEADERS = ("(request-target)", "host", "date")

_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,"\s]*))\s*(?:,|$)')


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
    private = private_key(key.private_key_pem)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("draft-cavage signatures need an RSA key")
    target = Target.from_url(url)
    lowered = lower_headers(headers)
    added = {
        "Date": format_datetime(aware(now).astimezone(UTC), usegmt=True),
        "Host": lowered.get("host") or target.authority,
    }
    if body is not None:
        added["Digest"] = sha256_digest(body)
    merged = {**lowered, **{name.lower(): value for name, value in added.items()}}
    names = tuple(components or (_CAVAGE_POST_HEADERS if body is not None else _CAVAGE_GET_HEADERS))
    base = "\n".join(f"{name}: {_cavage_value(name, method, target, merged, {})}" for name in names)
    signature = sign_bytes("rsa-sha256", private, base.encode("utf-8"))
    added["Signature"] = (
        f'keyId="{key.key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return added


def parse_cavage(
    method: str, target: Target, headers: Mapping[str, str], value: str
) -> ParsedSignature:
    """Take a Signature (or Authorization: Signature) header apart and rebuild its base."""
    params = _cavage_params(value)
    key_id, encoded = params.get("keyid"), params.get("signature")
    if not key_id or not encoded:
        raise SignatureError("malformed signature: keyId and signature are required")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError(f"unsupported algorithm: {algorithm}")
    signature = b64decode(encoded)
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
        expires=timestamp(times["expires"]) if "(expires)" in names else None,
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
    target: Target,
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
    return header_value(name, headers)


def _cavage_created(
    names: tuple[str, ...], headers: Mapping[str, str], times: Mapping[str, int | None]
) -> datetime | None:
    if "(created)" in names:
        return timestamp(times["created"])
    if "date" not in names:
        return None
    try:
        return aware(parsedate_to_datetime(headers["date"]))
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"malformed date: {headers['date']!r}") from exc
