"""The values that signing and verification pass around: keys, and signatures parsed or
verified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from activitypub.keys import PublicKey

__all__ = [
    "KeyResolver",
    "ParsedSignature",
    "ResolvedKey",
    "Scheme",
    "SigningKey",
    "VerifiedSignature",
]

Scheme = Literal["cavage", "rfc9421"]


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
