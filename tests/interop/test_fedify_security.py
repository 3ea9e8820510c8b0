"""Signatures and proofs with Fedify (issue 20, part 5): Fedify verifies our FEP-8b32
integrity proofs and we verify its; in secure mode (FEDI_AUTHORIZED_FETCH=1) an unsigned
GET of a post gets 401 while Fedify's signed lookup gets 200."""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import follow_group, new_thread, thread_by_ap_id
from tests.support.federation_helpers import eventually
from tests.support.helpers import make_group

AP_ACCEPT = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def test_fedify_verifies_our_integrity_proofs(peer: FedifyPeer, ours: Demisa) -> None:
    anna = await ours.user("anna")
    thread = await new_thread(ours, anna, "Nachweise", f"Hallo @{peer.handle}, signiert?")

    async def arrived() -> dict[str, Any]:
        found = [a for a in await peer.inbox(actor=anna.actor.ap_id) if a["type"] == "Create"]
        assert len(found) == 1, found
        return found[0]

    entry = await eventually(arrived)
    create = entry["raw"]
    assert create["proof"]["type"] == "DataIntegrityProof"
    assert create["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert create["proof"]["verificationMethod"] == anna.actor.ap_id + "#ed25519-key"
    assert "https://w3id.org/security/data-integrity/v1" in create["@context"]
    # Fedify took it on the proof's word (its inbox tries the proof before the HTTP
    # signature), and its independent re-run of both agrees.
    assert entry["verified_by"] == "object-integrity-proof", entry["checks"]
    assert entry["checks"]["object_integrity_proof"] is True, entry["checks"]
    assert entry["checks"]["http_signature"] is True, entry["checks"]

    # The activity served at its id carries the same proof, and Fedify's verifyObject
    # accepts it; a changed word breaks it.
    served = (await ours.client.get(create["id"], headers={"Accept": AP_ACCEPT})).json()
    assert served["proof"] == create["proof"]
    good = await peer.call("verify_object", {"json": served})
    assert good["verified"] is True, good
    tampered = copy.deepcopy(served)
    tampered["object"]["content"] = tampered["object"]["content"].replace("signiert", "echt")
    bad = await peer.call("verify_object", {"json": tampered})
    assert bad["verified"] is False, bad
    assert thread["ap_id"] == create["object"]["id"]


async def test_we_verify_fedifys_integrity_proofs(peer: FedifyPeer, ours: Demisa) -> None:
    await follow_group(peer, ours)
    posted = await peer.post("<p>Fedify mit Nachweis</p>", name="Beweis",
                             mentions=[ours.group_id], audience=ours.group_id)
    await thread_by_ap_id(ours, posted["note_id"])
    payload = await ours.fetchval(
        "SELECT payload FROM inbox_activities WHERE ap_id = $1", posted["create_id"])
    create = payload if isinstance(payload, dict) else json.loads(payload)
    assert create["proof"]["cryptosuite"] == "eddsa-jcs-2022", create

    # The same Create with a changed text, sent with alice's valid HTTP signature: the
    # proof no longer holds, and our inbox says so.
    tampered = copy.deepcopy(create)
    tampered["id"] = create["id"] + "-tampered"
    tampered["object"]["content"] = "<p>Fedify ohne Nachweis</p>"
    answer = await peer.raw(ours.server.url + "/groups/breitband/inbox", tampered, "none")
    assert answer["status"] == 400, answer
    assert "invalid integrity proof" in answer["body"], answer
    assert "bad proof" in answer["body"], answer


async def test_secure_mode_wants_signed_fetches(
        peer: FedifyPeer, instance: Callable[..., Awaitable[LiveServer]]) -> None:
    server = await instance(workers=1, authorized_fetch=True)
    ctx = server.app.state.ctx
    await make_group(ctx)
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        ours = Demisa(server, client, "", "")
        anna = await ours.user("anna")
        thread = await new_thread(ours, anna, "Geheim?", "Nur signiert lesbar.")
        unsigned = await client.get(thread["ap_id"], headers={"Accept": AP_ACCEPT})
        assert unsigned.status_code == 401, unsigned.text
        assert unsigned.json()["error"] == "signature_required"
        # Open: the instance actor, WebFinger, NodeInfo and the page for browsers.
        assert (await client.get("/actor", headers={"Accept": AP_ACCEPT})).status_code == 200
        webfinger = await client.get("/.well-known/webfinger",
                                     params={"resource": f"acct:breitband@{ours.host}"})
        assert webfinger.status_code == 200
        assert (await client.get("/.well-known/nodeinfo")).status_code == 200
        page = await client.get(thread["ap_id"], headers={"Accept": "text/html"})
        assert page.status_code == 200

        # Fedify's signed GET (draft-cavage, alice's key) and its lookup through the
        # authenticated document loader get the post.
        fetched = await peer.fetch(thread["ap_id"], signed=True)
        assert fetched["status"] == 200, fetched
        assert fetched["json"]["id"] == thread["ap_id"]
        lookup = await peer.call("signed_lookup", {"url": thread["ap_id"]})
        assert lookup["id"] == thread["ap_id"] and lookup["type"] == "Note", lookup
        unsigned_by_fedify = await peer.fetch(thread["ap_id"], signed=False)
        assert unsigned_by_fedify["status"] == 401
