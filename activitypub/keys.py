"""Key pairs for HTTP signatures and how actors publish them.

RSA-2048 keys serve Mastodon's ``publicKey`` (every server verifies those);
Ed25519 keys are published as FEP-521a ``Multikey`` for RFC 9421 peers that
support them (Mastodon 4.7+). Keys travel as PEM text (PKCS#8 private,
SubjectPublicKeyInfo public) so they can be stored in a text column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from .errors import InvalidObject

__all__ = [
    "KeyPair",
    "PrivateKey",
    "PublicKey",
    "generate_ed25519_keypair",
    "generate_rsa_keypair",
    "load_private_key",
    "load_public_key",
    "multikey_json",
    "public_key_from_multibase",
    "public_key_json",
    "public_key_to_multibase",
    "public_pem",
]

PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

# multicodec "ed25519-pub" (0xed) as an unsigned varint: 0xed 0x01.
_ED25519_PUB_PREFIX = b"\xed\x01"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True)
class KeyPair:
    """A private key and its public key, both as PEM text."""

    private_pem: str
    public_pem: str


def generate_rsa_keypair(bits: int = 2048) -> KeyPair:
    """A new RSA key pair (takes 50-100 ms for 2048 bits)."""
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=bits))


def generate_ed25519_keypair() -> KeyPair:
    """A new Ed25519 key pair."""
    return _pair(ed25519.Ed25519PrivateKey.generate())


def _pair(private: PrivateKey) -> KeyPair:
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(private_pem.decode("ascii"), public_pem(private.public_key()))


def public_pem(key: PublicKey) -> str:
    """The SubjectPublicKeyInfo PEM of a public key."""
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def load_private_key(pem: str | bytes) -> PrivateKey:
    """Our own private key from PEM; a bad key is a configuration error (ValueError)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key(pem: str | bytes) -> PublicKey:
    """A public key from PEM (SPKI or PKCS#1 RSA), as remote actors publish it.

    Raises :class:`InvalidObject`: the PEM comes from a remote document.
    """
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data.strip())
    except (ValueError, TypeError) as exc:
        raise InvalidObject(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise InvalidObject(f"unsupported public key type {type(key).__name__}")
    return key


def public_key_json(actor_id: str, public_key_pem: str) -> dict[str, str]:
    """The actor's ``publicKey`` as Mastodon expects it (key id ``<actor>#main-key``)."""
    return {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": public_key_pem}


def multikey_json(actor_id: str, ed25519_public: ed25519.Ed25519PublicKey | str) -> dict[str, str]:
    """A FEP-521a ``Multikey`` (for ``assertionMethod``) from a key or its PEM."""
    return {
        "id": f"{actor_id}#ed25519-key",
        "type": "Multikey",
        "controller": actor_id,
        "publicKeyMultibase": public_key_to_multibase(ed25519_public),
    }


def public_key_to_multibase(key: ed25519.Ed25519PublicKey | str) -> str:
    """``z`` + base58btc(0xed01 + raw key): the FEP-521a encoding of an Ed25519 key."""
    if isinstance(key, str):
        loaded = load_public_key(key)
        if not isinstance(loaded, ed25519.Ed25519PublicKey):
            raise ValueError("a Multikey needs an Ed25519 public key")
        key = loaded
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _base58_encode(_ED25519_PUB_PREFIX + raw)


def public_key_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    """Parse a ``publicKeyMultibase``; raises :class:`InvalidObject` if it is not Ed25519."""
    if not value.startswith("z"):
        raise InvalidObject("publicKeyMultibase is not base58btc (no 'z' prefix)")
    try:
        data = _base58_decode(value[1:])
    except ValueError as exc:
        raise InvalidObject(f"publicKeyMultibase: {exc}") from exc
    if not data.startswith(_ED25519_PUB_PREFIX) or len(data) != 34:
        raise InvalidObject("publicKeyMultibase is not an Ed25519 public key")
    return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])


def _base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[rest])
    # Each leading zero byte is written as a leading "1".
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _BASE58_ALPHABET.find(char)
        if index < 0:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
