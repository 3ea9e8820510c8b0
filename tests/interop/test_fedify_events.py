"""Events against the Fedify peer (issue 16): it follows our group, receives the new event
through the group, looks the ``Event`` up strictly by its id, registers with a ``Join``
and gets the group's ``Accept``; the participant count goes up, a ``Leave`` brings it
down, and a ``Join`` beyond the capacity gets a ``Reject``. The Joins and the Leave are
sent signed by Fedify's own signRequest() (the peer's ``raw`` call)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import actors as actor_store
from storage import groups as group_store
from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import follow_group
from tests.support.constants import AS
from tests.support.federation_helpers import eventually
from tests.support.helpers import User


async def _moderator(ours: Demisa) -> User:
    mod = await ours.user("mod")
    async with ours.ctx.pool.acquire() as conn:
        group = await actor_store.by_ap_id(conn, ours.group_id)
        assert group is not None
        await group_store.add_moderator(conn, group.id, mod.actor.id)
    return mod


def _activity(peer: FedifyPeer, kind: str, event_id: str) -> dict[str, Any]:
    return {"@context": AS, "id": f"{peer.actor}/{kind.lower()}s/{uuid.uuid4()}",
            "type": kind, "actor": peer.actor, "object": event_id,
            "participationMessage": "Ich bin dabei"}


async def _answers(peer: FedifyPeer, ours: Demisa, kind: str, join_id: str
                   ) -> dict[str, Any]:
    async def arrived() -> dict[str, Any]:
        found = [a for a in await peer.inbox(actor=ours.group_id)
                 if a["type"] == kind and isinstance(a["raw"]["object"], dict)
                 and a["raw"]["object"].get("id") == join_id]
        assert len(found) == 1, [a["type"] for a in await peer.inbox()]
        return found[0]

    return await eventually(arrived, timeout=30)


async def _count(ours: Demisa, event_id: int, expected: int) -> None:
    async def check() -> None:
        event = await ours.get(f"/api/v1/events/{event_id}")
        assert event["participant_count"] == expected, event["participant_count"]

    await eventually(check, timeout=30)


async def test_fedify_follows_registers_leaves_and_is_rejected_when_full(
        peer: FedifyPeer, ours: Demisa) -> None:
    await follow_group(peer, ours)
    mod = await _moderator(ours)
    start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    event = await ours.call("POST", "/api/v1/groups/breitband/events", mod, status=201, json={
        "title": "Bürgerforum Breitband", "description": "Alle sind eingeladen.",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
        "timezone": "Europe/Berlin", "capacity": 1,
        "place": {"name": "Rathaus", "street": "Markt 1", "postal_code": "12345",
                  "locality": "Teststadt", "country": "Deutschland"}})
    event_id = event["ap_id"]

    # The group announces the event's Create (embedded, and the id for microblogs).
    async def announced() -> list[dict[str, Any]]:
        found = [a for a in await peer.inbox(actor=ours.group_id) if a["type"] == "Announce"
                 and (a["object_id"] == event_id or (
                     isinstance(a["raw"]["object"], dict)
                     and a["raw"]["object"].get("type") == "Create"
                     and a["raw"]["object"]["object"]["id"] == event_id))]
        assert found, [a["type"] for a in await peer.inbox()]
        return found

    for entry in await eventually(announced, timeout=30):
        assert entry["verified"] is True

    # Looked up strictly by its id: 200, ActivityPub content type, id == URL, Fedify
    # parses an Event.
    fetched = await peer.fetch(event_id)
    assert fetched["ok"], fetched
    assert all(fetched["checks"].values()), fetched["checks"]
    assert fetched["fedify"]["type"] == "Event", fetched["fedify"]
    doc = fetched["json"]
    assert doc["name"] == "Bürgerforum Breitband" and doc["joinMode"] == "free"
    assert doc["attributedTo"] == ours.group_id
    assert doc["location"]["address"]["addressLocality"] == "Teststadt"

    # Join -> the group's Accept; the count goes up.
    join = _activity(peer, "Join", event_id)
    sent = await peer.raw(ours.group_id + "/inbox", join, "none")
    assert sent["status"] == 202, sent
    accept = await _answers(peer, ours, "Accept", join["id"])
    assert accept["raw"]["actor"] == ours.group_id
    await _count(ours, event["id"], 1)
    participants = await ours.call("GET", f"/api/v1/events/{event['id']}/participants", mod)
    assert [(p["ap_id"], p["state"], p["message"]) for p in participants["items"]] == \
        [(peer.actor, "accepted", "Ich bin dabei")]

    # Leave -> down again.
    leave = _activity(peer, "Leave", event_id)
    sent = await peer.raw(ours.group_id + "/inbox", leave, "none")
    assert sent["status"] == 202, sent
    await _count(ours, event["id"], 0)

    # A local user takes the one place; the peer's next Join is rejected, with the reason.
    ben = await ours.user("ben")
    await ours.call("POST", f"/api/v1/events/{event['id']}/participation", ben, status=201)
    again = _activity(peer, "Join", event_id)
    sent = await peer.raw(ours.group_id + "/inbox", again, "none")
    assert sent["status"] == 202, sent
    reject = await _answers(peer, ours, "Reject", again["id"])
    # In the group's language (German here), English beside it (fedi/forum/rejects.py).
    assert reject["raw"]["summary"] == "Diese Veranstaltung ist ausgebucht."
    assert reject["raw"]["summaryMap"]["en"] == "This event is fully booked."
    await _count(ours, event["id"], 1)
    await ours.idle()
