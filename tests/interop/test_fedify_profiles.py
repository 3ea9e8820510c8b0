"""Profiles that federate (issue 13): the Fedify peer follows a local person, who then
fills in the profile and is made an official account; the peer receives Update(Person)
activities it verified, carrying the bio as ``summary`` and the fields as
``PropertyValue`` attachments, and Fedify itself parses them from our actor document."""

from __future__ import annotations

from typing import Any

from fedi.forum.officials import set_official
from fedi.forum.staff import staff_of
from tests.interop.conftest import Demisa, FedifyPeer
from tests.support.federation_helpers import eventually
from tests.support.helpers import make_user


def _fields(activity: dict[str, Any]) -> dict[str, str]:
    attachments = activity["object"].get("attachment") or []
    if isinstance(attachments, dict):
        attachments = [attachments]
    return {a["name"]: a["value"] for a in attachments if a.get("type") == "PropertyValue"}


async def test_profile_fields_reach_a_follower_in_an_update(peer: FedifyPeer,
                                                             ours: Demisa) -> None:
    anna = await ours.user("anna")
    answer = await peer.follow(f"anna@{ours.host}")
    assert answer["target"] == anna.actor.ap_id

    async def accepted() -> None:
        record = await peer.following(anna.actor.ap_id)
        assert record is not None and record["state"] == "accepted", record

    await eventually(accepted)

    await ours.call("PATCH", "/api/v1/me", anna, json={
        "display_name": "Anna Amtmann", "bio": "Ich plane den **Glasfaserausbau**.",
        "organisation": "Gemeinde Musterstadt", "municipality": "Musterstadt",
        "affiliation": "administration"})

    async def updated() -> dict[str, Any]:
        updates = [a for a in await peer.inbox(actor=anna.actor.ap_id)
                   if a["type"] == "Update" and a["raw"]["object"]["type"] == "Person"]
        assert updates, "no Update(Person) verified by the peer yet"
        return updates[-1]["raw"]

    update = await eventually(updated)
    person = update["object"]
    assert person["id"] == anna.actor.ap_id and person["name"] == "Anna Amtmann"
    assert "<strong>Glasfaserausbau</strong>" in person["summary"]
    assert _fields(update) == {"Spricht als": "Verwaltung",
                               "Organisation": "Gemeinde Musterstadt",
                               "Gemeinde": "Musterstadt"}

    # An admin makes Anna an official voice: the position goes out in the next Update.
    admin = await make_user(ours.ctx, "chefin", admin=True)
    await set_official(ours.ctx, await staff_of(ours.ctx, admin.account), "anna",
                       "Bürgermeisterin der Gemeinde Musterstadt")

    async def official() -> None:
        raws = [a["raw"] for a in await peer.inbox(actor=anna.actor.ap_id)
                if a["type"] == "Update"]
        assert any(_fields(r).get("Offizielle Funktion")
                   == "Bürgermeisterin der Gemeinde Musterstadt" for r in raws), raws

    await eventually(official)

    # Fedify parses our actor document itself (the admin's, which it has not cached
    # yet): the fields are PropertyValues to it too, the position among them.
    await set_official(ours.ctx, await staff_of(ours.ctx, admin.account), "chefin",
                       "Breitbandkoordinatorin Landkreis X")
    fetched = (await peer.lookup(f"chefin@{ours.host}"))["json"]
    attachments = fetched["attachment"]
    attachments = attachments if isinstance(attachments, list) else [attachments]
    assert {"type": "PropertyValue", "name": "Offizielle Funktion",
            "value": "Breitbandkoordinatorin Landkreis X"} in attachments
    await ours.idle()
