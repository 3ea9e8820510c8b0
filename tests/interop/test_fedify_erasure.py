"""Account deletion (DSGVO Art. 17, issue 13) against Fedify: the peer follows a local
user, the user deletes the account, and Fedify receives and verifies the Delete of the
actor; afterwards the actor answers 410 and no table holds the person's data."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from tests.interop.conftest import Demisa, FedifyPeer
from tests.support.federation_helpers import eventually
from tests.support.personal_data import find_traces

PASSWORD = "correct horse battery"
BIO = "Erreichbar unter 0171 555 1234, Lindenstraße 7"
SHOWN = "Anna Amtfrau"


async def test_account_deletion_sends_a_verified_delete_and_erases_the_data(
        peer: FedifyPeer, ours: Demisa) -> None:
    anna = await ours.user("anna")
    answer = await peer.follow(f"anna@{ours.host}")
    assert answer["target"] == anna.actor.ap_id

    async def accepted() -> None:
        record = await peer.following(anna.actor.ap_id)
        assert record is not None and record["state"] == "accepted", record

    await eventually(accepted)
    # The profile goes to the follower as an Update (stored with the bio in it).
    await ours.call("PATCH", "/api/v1/me", anna, json={"bio": BIO, "display_name": SHOWN})
    await ours.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                    json={"title": "Bald weg", "content": "Dieser Beitrag geht mit."})
    await ours.idle()
    async with ours.ctx.pool.acquire() as conn:
        secrets: dict[str, str | bytes] = {
            "e-mail": "anna@example.org", "bio": BIO, "display name": SHOWN,
            "password hash": await conn.fetchval(
                "SELECT password_hash FROM accounts WHERE id = $1", anna.account.id),
            "token hash": hashlib.sha256(anna.token.encode()).digest(),
            "private key": (await conn.fetchval(
                "SELECT rsa_private_pem FROM actor_keys WHERE actor_id = $1",
                anna.actor.id)).splitlines()[5],
        }
        before = await find_traces(conn, secrets)
        assert "bio in activities.payload (1 rows)" in before, before
        assert len(before) >= 5, before

    await ours.call("DELETE", "/api/v1/me", anna, status=202, json={"password": PASSWORD})

    async def delete_arrived() -> dict[str, Any]:
        found = [a for a in await peer.inbox(actor=anna.actor.ap_id) if a["type"] == "Delete"
                 and a["object_id"] == anna.actor.ap_id]
        assert len(found) == 1, await peer.inbox_requests(host=ours.host)
        return found[0]

    delete = await eventually(delete_arrived)
    # Fedify calls its inbox listener only for an activity it verified, signed by a key of
    # the activity's actor (here: Anna's, which it cached when it took her Accept).
    assert delete["verified"] is True
    assert delete["checks"]["key_id"] == anna.actor.public_key_id
    assert delete["raw"]["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    await ours.idle()

    async with httpx.AsyncClient() as client:
        gone = await client.get(anna.actor.ap_id,
                                headers={"Accept": "application/activity+json"})
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"

    async def keys_dropped() -> None:
        left = await ours.fetchval(
            "SELECT count(*) FROM actor_keys WHERE actor_id = $1", anna.actor.id)
        assert left == 0

    await eventually(keys_dropped, timeout=30)
    async with ours.ctx.pool.acquire() as conn:
        assert await find_traces(conn, secrets) == []
