"""Inbound FEP-8b32 integrity proofs: checking a document's proof against its actor's
``assertionMethod`` key (the actor from the cache, refreshed once when the key is not
there: keys rotate)."""

from __future__ import annotations

from typing import Any

from activitypub.errors import ProtocolError
from activitypub.proofs import ProofError, proof_of, verify_document
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from storage import actors as actor_store
from storage.actors import Actor

__all__ = ["check_proof", "has_proof"]


def has_proof(document: Any) -> bool:
    """Whether ``document`` is a JSON object carrying a ``proof``."""
    return isinstance(document, dict) and "proof" in document


def _assertion_key(actor: Actor, method: str) -> str | None:
    raw = actor.raw if isinstance(actor.raw, dict) else {}
    entries = raw.get("assertionMethod")
    for entry in entries if isinstance(entries, list) else [entries]:
        if (isinstance(entry, dict) and entry.get("id") == method
                and entry.get("type") == "Multikey"
                and entry.get("controller", actor.ap_id) == actor.ap_id
                and isinstance(entry.get("publicKeyMultibase"), str)):
            return str(entry["publicKeyMultibase"])
    return None


async def check_proof(ctx: Context, document: dict[str, Any], actor_id: str) -> None:
    """Verify the document's proof as made by ``actor_id`` (the activity's actor).

    The ``verificationMethod`` must be an Ed25519 Multikey that the actor's own document
    lists in ``assertionMethod``. The actor comes from the cache whatever its age (no
    fetch on the inbox's path for a known actor); when the key is not there or the proof
    does not verify with it, the actor is fetched once more (keys rotate). Raises
    :class:`ProofError` (reason says why) otherwise.
    """
    proof = proof_of(document)
    if proof is None:
        raise ProofError("no proof")
    async with ctx.pool.acquire() as conn:
        cached = await actor_store.by_ap_id(conn, actor_id)
    if cached is not None:
        key = _assertion_key(cached, proof.verification_method)
        if key is not None:
            try:
                verify_document(document, key)
                return
            except ProofError:
                if cached.local:
                    raise
    try:
        actor = await resolve_actor(ctx, actor_id, refresh=cached is not None)
    except ProtocolError as exc:
        raise ProofError(f"unknown key: the actor {actor_id} could not be fetched:"
                         f" {exc.reason}") from exc
    key = _assertion_key(actor, proof.verification_method)
    if key is None:
        raise ProofError(f"unknown key: {actor_id} lists no assertionMethod"
                         f" {proof.verification_method}")
    verify_document(document, key)
