"""The cryptography of signatures: which algorithm a key allows, signing and checking bytes."""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from activitypub.errors import SignatureError
from activitypub.httpsig.model import ParsedSignature
from activitypub.keys import PrivateKey, PublicKey, load_private_key

__all__ = ["b64decode", "effective_algorithm", "private_key", "sign_bytes", "verify_bytes"]


@functools.lru_cache(maxsize=64)
def private_key(pem: str) -> PrivateKey:
    # Parsing an RSA private key costs more than signing with it; our keys are few.
    return load_private_key(pem)


def effective_algorithm(parsed: ParsedSignature, key: PublicKey) -> str:
    """The algorithm to verify with: the one named, else the one the key implies."""
    if parsed.scheme == "cavage" or parsed.algorithm in ("rsa-v1_5-sha256", "rsa-pss-sha512"):
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("unusable key: the algorithm needs an RSA key")
        return "rsa-v1_5-sha256" if parsed.algorithm != "rsa-pss-sha512" else "rsa-pss-sha512"
    if parsed.algorithm == "ed25519" and not isinstance(key, ed25519.Ed25519PublicKey):
        raise SignatureError("unusable key: ed25519 needs an Ed25519 key")
    return "ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "rsa-v1_5-sha256"


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def verify_bytes(algorithm: str, key: PublicKey, signature: bytes, data: bytes) -> None:
    """Raises cryptography's InvalidSignature when ``signature`` does not fit ``data``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    elif algorithm == "rsa-pss-sha512":
        key.verify(signature, data, _pss(), hashes.SHA512())
    else:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def sign_bytes(algorithm: str, key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise SignatureError("malformed signature: signature is not base64") from exc
