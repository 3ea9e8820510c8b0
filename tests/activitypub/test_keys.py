"""Key generation, PEM loading, and how actors publish keys (publicKey, Multikey)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from activitypub.errors import InvalidObject
from activitypub.keys import (
    KeyPair,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
    multikey_json,
    public_key_from_multibase,
    public_key_json,
    public_key_to_multibase,
)

DATA = Path(__file__).parent / "data"
ACTOR = "https://groups.example/g/cats"


@pytest.fixture(scope="module")
def rsa_pair() -> KeyPair:
    return generate_rsa_keypair()


def test_rsa_keypair_is_2048_bit_pkcs8_and_spki(rsa_pair: KeyPair) -> None:
    assert rsa_pair.private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert rsa_pair.public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    private = load_private_key(rsa_pair.private_pem)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    assert private.public_key() == load_public_key(rsa_pair.public_pem)


def test_ed25519_keypair() -> None:
    pair = generate_ed25519_keypair()
    assert pair.private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    private = load_private_key(pair.private_pem)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert private.public_key() == load_public_key(pair.public_pem)
    assert generate_ed25519_keypair() != pair


def test_public_key_json_is_mastodons_shape(rsa_pair: KeyPair) -> None:
    assert public_key_json(ACTOR, rsa_pair.public_pem) == {
        "id": f"{ACTOR}#main-key",
        "owner": ACTOR,
        "publicKeyPem": rsa_pair.public_pem,
    }


def test_multikey_of_the_rfc9421_test_key() -> None:
    pem = (DATA / "rfc9421-test-key-ed25519.pub.pem").read_text()
    document = multikey_json(ACTOR, pem)
    assert document == {
        "id": f"{ACTOR}#ed25519-key",
        "type": "Multikey",
        "controller": ACTOR,
        "publicKeyMultibase": document["publicKeyMultibase"],
    }
    # "z6Mk" is the prefix every base58btc Ed25519 Multikey shares (0xed01 + 32 bytes).
    assert document["publicKeyMultibase"].startswith("z6Mk")
    assert len(document["publicKeyMultibase"]) == 48
    assert public_key_from_multibase(document["publicKeyMultibase"]) == load_public_key(pem)


def test_multibase_known_value() -> None:
    # A Multikey as published in the W3C EdDSA cryptosuite examples.
    multibase = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    key = public_key_from_multibase(multibase)
    assert public_key_to_multibase(key) == multibase


def test_multibase_round_trips_keys_with_leading_zero_bytes() -> None:
    raw = bytes(2) + bytes(range(30))
    key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    assert public_key_from_multibase(public_key_to_multibase(key)) == key


@pytest.mark.parametrize(
    "value",
    [
        "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
        "z0OIl",  # not base58
        "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # a secp256k1 key
        "z6Mk",  # too short
    ],
)
def test_multibase_rejects(value: str) -> None:
    with pytest.raises(InvalidObject):
        public_key_from_multibase(value)


def test_multikey_needs_ed25519(rsa_pair: KeyPair) -> None:
    with pytest.raises(ValueError):
        multikey_json(ACTOR, rsa_pair.public_pem)


def test_load_public_key_accepts_pkcs1_rsa() -> None:
    key = load_public_key((DATA / "rfc9421-test-key-rsa.pub.pem").read_text())
    assert isinstance(key, rsa.RSAPublicKey)


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        # An EC P-256 key: valid, but not a type we verify.
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf\n"
        "w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==\n"
        "-----END PUBLIC KEY-----\n",
    ],
)
def test_load_public_key_rejects(pem: str) -> None:
    with pytest.raises(InvalidObject):
        load_public_key(pem)


def test_load_private_key_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        load_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
