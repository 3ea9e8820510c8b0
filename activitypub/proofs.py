"""FEP-8b32 Object Integrity Proofs: ``DataIntegrityProof`` with ``eddsa-jcs-2022``.

The cryptosuite (W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.3): the proof
configuration is the proof without ``proofValue``, with the document's ``@context``;
both it and the document without ``proof`` are canonicalised with JCS (RFC 8785) and
hashed with SHA-256; the Ed25519 signature over ``hash(config) + hash(document)`` is
``proofValue``, multibase base58btc (``z...``). Fedify (``sig/proof.ts``) builds the
same bytes, so each side verifies the other's proofs.

:func:`sign_document` adds a proof (and the data-integrity context the proof's terms
need); :func:`verify_document` checks one with the signer's Ed25519 key and raises
:class:`ProofError` (``reason`` says why) when it does not hold; :func:`proof_of`
reads a document's proof without checking it (to find the key to fetch).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.errors import InvalidObject, ProtocolError
from activitypub.httpsig.crypto import private_key
from activitypub.keys import public_key_from_multibase

__all__ = [
    "CRYPTOSUITE",
    "DATA_INTEGRITY_CONTEXT",
    "Proof",
    "ProofError",
    "proof_of",
    "sign_document",
    "verify_document",
    "with_data_integrity_context",
]

CRYPTOSUITE = "eddsa-jcs-2022"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"
_PROOF_TYPE = "DataIntegrityProof"
_PURPOSE = "assertionMethod"


class ProofError(ProtocolError):
    """An integrity proof is malformed or does not verify (reason in ``.reason``)."""


@dataclass(frozen=True)
class Proof:
    """A document's proof as read: who signed (``verification_method``) and when."""

    verification_method: str
    created: str
    proof_value: str
    options: dict[str, Any]  # the proof without proofValue


def with_data_integrity_context(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` whose ``@context`` includes the data-integrity context."""
    context = document.get("@context")
    if context is None:
        contexts: list[Any] = []
    elif isinstance(context, list):
        contexts = list(context)
    else:
        contexts = [context]
    if DATA_INTEGRITY_CONTEXT not in contexts:
        contexts.append(DATA_INTEGRITY_CONTEXT)
    return {**document, "@context": contexts}


def sign_document(
    document: dict[str, Any],
    private_key_pem: str,
    verification_method: str,
    *,
    created: datetime | None = None,
    add_context: bool = True,
) -> dict[str, Any]:
    """``document`` with an ``eddsa-jcs-2022`` proof made with the Ed25519 key.

    The data-integrity context is added first unless ``add_context`` is false (the
    proof covers the final ``@context``);
    a proof already present is replaced. ``created`` is written to the second, in UTC
    with ``Z`` (the form Fedify's Temporal.Instant writes back unchanged).
    Raises ValueError for a key that is not Ed25519 or a document JCS cannot write.
    """
    private = private_key(private_key_pem)  # parsed once per key (cached)
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise ValueError("eddsa-jcs-2022 needs an Ed25519 private key")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if add_context:
        unsecured = with_data_integrity_context(unsecured)
    moment = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    options: dict[str, Any] = {
        "type": _PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": _PURPOSE,
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    signature = private.sign(_hash_data(unsecured, options))
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return {**unsecured, "proof": proof}


def proof_of(document: dict[str, Any]) -> Proof | None:
    """The document's ``eddsa-jcs-2022`` proof, unchecked; None when it has no proof.

    Raises :class:`ProofError` for a proof we cannot read (several proofs, another
    type or cryptosuite, missing fields): a sender that signs must sign readably.
    """
    raw = document.get("proof")
    if raw is None:
        return None
    if isinstance(raw, list):
        if len(raw) != 1:
            raise ProofError(f"unsupported proof: {len(raw)} proofs (we verify exactly one)")
        raw = raw[0]
    if not isinstance(raw, dict):
        raise ProofError("malformed proof: not an object")
    if raw.get("type") != _PROOF_TYPE or raw.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"unsupported proof: {raw.get('type')!r} / {raw.get('cryptosuite')!r}"
            f" (we verify {_PROOF_TYPE} / {CRYPTOSUITE})"
        )
    if raw.get("proofPurpose") != _PURPOSE:
        raise ProofError(f"malformed proof: proofPurpose is {raw.get('proofPurpose')!r}")
    method, created, value = (raw.get(k) for k in ("verificationMethod", "created", "proofValue"))
    if not isinstance(method, str) or not isinstance(created, str) or not isinstance(value, str):
        raise ProofError("malformed proof: verificationMethod, created and proofValue are"
                         " required strings")
    options = {k: v for k, v in raw.items() if k != "proofValue"}
    return Proof(method, created, value, options)


def verify_document(
    document: dict[str, Any], public_key: ed25519.Ed25519PublicKey | str
) -> Proof:
    """Check the document's proof with ``public_key`` (a key or its publicKeyMultibase).

    Returns the proof; raises :class:`ProofError` when there is none or it does not
    verify. Matching the key to the actor (its ``assertionMethod``) is the caller's. An
    LD signature (``signature``, which senders such as Fedify add after the proof) is not
    part of what the proof covers, as in Fedify's ``detachSignature``.
    """
    proof = proof_of(document)
    if proof is None:
        raise ProofError("no proof")
    if isinstance(public_key, str):
        try:
            public_key = public_key_from_multibase(public_key)
        except InvalidObject as exc:
            raise ProofError(f"unusable key: {exc.reason}") from exc
    if not proof.proof_value.startswith("z"):
        raise ProofError("malformed proof: proofValue is not multibase base58btc")
    try:
        signature = base58.b58decode(proof.proof_value[1:])
    except ValueError as exc:
        raise ProofError(f"malformed proof: proofValue: {exc}") from exc
    options = dict(proof.options)
    proof_context = options.pop("@context", None)
    unsecured = {k: v for k, v in document.items() if k not in ("proof", "signature")}
    if proof_context is not None and not _starts_with(unsecured.get("@context"), proof_context):
        raise ProofError("bad proof: the proof's @context is not the document's")
    try:
        public_key.verify(signature, _hash_data(unsecured, options))
    except (InvalidSignature, ValueError) as exc:
        raise ProofError("bad proof: the signature does not verify") from exc
    return proof


def _starts_with(context: Any, prefix: Any) -> bool:
    contexts = context if isinstance(context, list) else [context]
    wanted = prefix if isinstance(prefix, list) else [prefix]
    return contexts[: len(wanted)] == wanted


def _hash_data(unsecured: dict[str, Any], options: dict[str, Any]) -> bytes:
    config = dict(options)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    try:
        config_bytes = rfc8785.dumps(config)
        document_bytes = rfc8785.dumps(unsecured)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"JCS cannot write this document: {exc}") from exc
    return hashlib.sha256(config_bytes).digest() + hashlib.sha256(document_bytes).digest()
