"""FEP-8b32 proofs on inbound activities (issue 20): an ``Announce(Create)`` whose
embedded Create carries a valid proof by its actor is taken without fetching the Create
from its origin; with a broken proof it is fetched as before (and, when the origin does
not serve it, not taken); a direct delivery with a broken proof is refused with 400."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from activitypub import vocab
from activitypub.errors import FetchStatusError
from activitypub.keys import generate_ed25519_keypair, multikey_json
from activitypub.proofs import sign_document
from fedi.federation.remote import resolve_actor
from fedi.inbound.announce import receive_relayed
from storage import groups as group_store
from tests.support.inbound_fixtures import Fed, fed, mastodon_create, peer  # noqa: F401
from tests.support.inbound_peer import key_of

ED = generate_ed25519_keypair()


async def _setup(fed: Fed) -> tuple[Any, dict[str, Any], dict[str, Any]]:  # noqa: F811
    group_doc = fed.peer.actor(1, "/c/glasfaser", type_="Group")
    author_id = fed.peer.hosts[2] + "/users/emma"
    author = fed.peer.actor(2, "/users/emma",
                            assertionMethod=[multikey_json(author_id, ED.public_pem)])
    group = await resolve_actor(fed.ctx, group_doc["id"])
    async with fed.ctx.pool.acquire() as conn:
        await group_store.insert(conn, group.id)
    create = mastodon_create(author, group, text="Ausbau mit Nachweis")
    del create["signature"]
    signed = sign_document(create, ED.private_pem, author_id + "#ed25519-key")
    return group, author, signed


async def test_a_relayed_create_with_a_valid_proof_is_taken_without_a_fetch(
        fed: Fed) -> None:  # noqa: F811
    group, _, signed = await _setup(fed)
    post = await receive_relayed(fed.ctx, group, vocab.parse(copy.deepcopy(signed)))
    assert post is not None and post.ap_id == signed["object"]["id"]
    fetched = set(fed.peer.gets)
    assert key_of(signed["id"]) not in fetched and key_of(signed["object"]["id"]) not in fetched


async def test_a_relayed_create_with_a_broken_proof_is_fetched_from_its_origin(
        fed: Fed) -> None:  # noqa: F811
    group, _, signed = await _setup(fed)
    tampered = copy.deepcopy(signed)
    tampered["object"]["content"] = "<p>Ausbau ohne Nachweis</p>"
    # The origin does not serve the Create (404): without a proof that holds, nothing
    # vouches for the copy, so it is not taken.
    with pytest.raises(FetchStatusError):
        await receive_relayed(fed.ctx, group, vocab.parse(tampered))
    assert key_of(signed["id"]) in fed.peer.gets


async def test_a_delivery_with_a_broken_proof_is_refused(fed: Fed) -> None:  # noqa: F811
    _, author, signed = await _setup(fed)
    tampered = copy.deepcopy(signed)
    tampered["object"]["content"] = "<p>Ausbau ohne Nachweis</p>"
    answer = await fed.post(tampered, author["publicKey"]["id"])
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_proof"
    assert "bad proof" in answer.json()["message"]
    good = await fed.post(signed, author["publicKey"]["id"])
    assert good.status_code == 202, good.text
