"""FEP-8b32 integrity proofs (activitypub/proofs.py): the W3C eddsa-jcs-2022 test vector,
round trips, tampering. Fedify verifying ours (and we Fedify's) is in
tests/interop/test_fedify_security.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.keys import generate_ed25519_keypair, public_key_to_multibase
from activitypub.proofs import (
    DATA_INTEGRITY_CONTEXT,
    ProofError,
    proof_of,
    sign_document,
    verify_document,
)

# W3C "Data Integrity EdDSA Cryptosuites v1.0", test vectors for eddsa-jcs-2022
# (the Alumni credential, the key pair of "Private and Public Keys for Signature",
# the proof options and "Signature of Combined Hashes (base58-btc)").
W3C_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_METHOD = f"did:key:{W3C_PUBLIC}#{W3C_PUBLIC}"
W3C_CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
W3C_PROOF_VALUE = (
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
)


def _w3c_private_pem() -> str:
    raw = base58.b58decode(W3C_SECRET[1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[2:])
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_w3c_eddsa_jcs_2022_vector_is_reproduced_and_verifies() -> None:
    signed = sign_document(W3C_CREDENTIAL, _w3c_private_pem(), W3C_METHOD,
                           created=W3C_CREATED, add_context=False)
    assert signed["proof"] == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": W3C_METHOD,
        "proofPurpose": "assertionMethod",
        "created": "2023-02-24T23:36:38Z",
        "proofValue": W3C_PROOF_VALUE,
    }
    assert verify_document(signed, W3C_PUBLIC).verification_method == W3C_METHOD


ACTIVITY: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/activitystreams"],
    "id": "https://town.example/activities/1",
    "type": "Create",
    "actor": "https://town.example/users/anna",
    "object": {"id": "https://town.example/posts/1", "type": "Note", "content": "Glasfaser",
               "attributedTo": "https://town.example/users/anna"},
}


@pytest.fixture(scope="module")
def pair() -> tuple[str, str]:
    keys = generate_ed25519_keypair()
    return keys.private_pem, public_key_to_multibase(keys.public_pem)


def test_round_trip_adds_the_data_integrity_context(pair: tuple[str, str]) -> None:
    private, public = pair
    signed = sign_document(ACTIVITY, private, "https://town.example/users/anna#ed25519-key")
    assert signed["@context"] == ["https://www.w3.org/ns/activitystreams", DATA_INTEGRITY_CONTEXT]
    assert signed["proof"]["created"].endswith("Z")
    proof = verify_document(signed, public)
    assert proof.verification_method == "https://town.example/users/anna#ed25519-key"
    assert proof_of(signed) == proof
    assert "proof" not in ACTIVITY  # the input is not changed


@pytest.mark.parametrize("tamper", ["content", "context", "created", "method", "value"])
def test_tampering_fails(pair: tuple[str, str], tamper: str) -> None:
    private, public = pair
    signed = copy.deepcopy(sign_document(ACTIVITY, private, "https://town.example/a#k"))
    if tamper == "content":
        signed["object"]["content"] = "Kupfer"
    elif tamper == "context":
        signed["@context"] = signed["@context"][:1]
    elif tamper == "created":
        signed["proof"]["created"] = "2020-01-01T00:00:00Z"
    elif tamper == "method":
        signed["proof"]["verificationMethod"] = "https://evil.example/a#k"
    else:
        value = signed["proof"]["proofValue"]
        signed["proof"]["proofValue"] = value[:-2] + ("11" if value[-2:] != "11" else "22")
    with pytest.raises(ProofError) as exc:
        verify_document(signed, public)
    assert exc.value.reason.startswith(("bad proof", "malformed proof"))


def test_another_key_fails(pair: tuple[str, str]) -> None:
    private, _ = pair
    other = public_key_to_multibase(generate_ed25519_keypair().public_pem)
    with pytest.raises(ProofError, match="does not verify"):
        verify_document(sign_document(ACTIVITY, private, "https://town.example/a#k"), other)


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        ({"type": "Ed25519Signature2020"}, "unsupported proof"),
        ([{}, {}], "unsupported proof: 2 proofs"),
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
          "proofPurpose": "assertionMethod"}, "malformed proof"),
        ("x", "malformed proof"),
    ],
)
def test_unreadable_proofs_are_refused_clearly(proof: Any, reason: str) -> None:
    with pytest.raises(ProofError) as exc:
        proof_of({**ACTIVITY, "proof": proof})
    assert exc.value.reason.startswith(reason)
    assert proof_of(ACTIVITY) is None
