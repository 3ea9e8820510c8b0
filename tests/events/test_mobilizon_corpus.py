"""Mobilizon's own payloads (tests/fixtures/corpus/mobilizon, from Mobilizon's test
fixtures) arrive at our inbox over real HTTP, signed, and take effect (issue 16): the
``Create`` of an ``Event`` (addressed to our group) is stored with its place and time and
relayed to the group's followers; the ``Join`` of one of our events gets the group's
``Accept`` and counts; the ``Leave`` withdraws it. Hosts are rewritten to the loopback
peer's (tests/support/inbound_peer.py), which serves the actors with the test key."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fedi.forum import events as event_service
from storage import events as event_store
from storage import groups as group_store
from tests.support.corpus import CORPUS
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, peer

__all__ = ["fed", "peer"]  # fixtures

MOBILIZON = CORPUS / "mobilizon" / "activities"


async def _delivered(fed: Fed, kind: str) -> list[Any]:
    """Run the queues until the peer got a ``kind`` (a delivery queued by an inbound job
    may be due only in the next round)."""
    for _ in range(100):
        await fed.process()
        if fed.peer.received(kind):
            return list(fed.peer.received(kind))
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} delivered: {[d.type for d in fed.peer.deliveries]}")


def _load(name: str, hosts: dict[str, str]) -> dict[str, Any]:
    text = (MOBILIZON / name).read_text()
    for old, new in hosts.items():
        text = text.replace(old, new)
    data: dict[str, Any] = json.loads(text)
    return data


async def test_create_of_an_event_is_stored_with_place_and_time(fed: Fed) -> None:
    mobilizon, framapiaf = fed.peer.hosts[0], fed.peer.hosts[1]
    alicia = fed.peer.actor(0, "/@Alicia")
    fed.peer.actor(1, "/users/tcit")
    create = _load("create_event.json", {"https://test.mobilizon.org": mobilizon,
                                         "https://framapiaf.org": framapiaf,
                                         "https://event1.tcit.fr": mobilizon})
    # Mobilizon addresses a group's event to the group: here, ours.
    create["to"].append(fed.group.ap_id)
    create["object"]["to"].append(fed.group.ap_id)
    await fed.send(alicia, create)
    await fed.process()
    row = await fed.row(create["id"])
    assert row.state == "done", row.last_error
    event_id = create["object"]["id"]
    async with fed.ctx.pool.acquire() as conn:
        event = await event_store.by_ap_id(conn, event_id)
    assert event is not None and not event.local
    assert event.title == "My first event" and event.group_id == fed.group.id
    assert event.starts_at == datetime(2018, 2, 12, 14, 8, 20, tzinfo=UTC)
    assert (event.place_name, event.street, event.postal_code, event.locality,
            event.country) == ("Locaux de Framasoft", "10 Rue Jangot", "69007", "Lyon",
                               "France")
    assert "tcit" in event.description_html
    # Shown: the API and the page.
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        r = await client.get(f"/api/v1/events/{event.id}")
        assert r.status_code == 200 and r.json()["place"]["locality"] == "Lyon"
        r = await client.get(f"/events/{event.id}", headers={"Accept": "text/html"})
        assert r.status_code == 200 and "My first event" in r.text


async def test_join_and_leave_of_our_event(fed: Fed) -> None:
    mod = await make_user(fed.ctx, "mod")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    start = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    event = await event_service.create_event(fed.ctx, organiser=mod.actor, group=fed.group,
                                             data={"title": "Ratssitzung", "starts_at": start})
    admin = fed.peer.actor(1, "/@admin")
    hosts = {"http://mobilizon2.test": fed.peer.hosts[1],
             "http://mobilizon.test/events/some-uuid": event.ap_id,
             "http://mobilizon.test": fed.peer.hosts[0]}
    join = _load("join_event.json", hosts)
    assert join["object"] == event.ap_id and join["actor"] == admin["id"]
    await fed.send(admin, join, url=fed.group.inbox)
    await fed.process()
    row = await fed.row(join["id"])
    assert row.state == "done", row.last_error
    (accept,) = await _delivered(fed, "Accept")
    assert accept.activity["actor"] == fed.group.ap_id
    assert accept.activity["object"]["id"] == join["id"]
    assert accept.signature is not None
    async with fed.ctx.pool.acquire() as conn:
        fresh = await event_store.get(conn, event.id)
        assert fresh is not None and fresh.participant_count == 1

    leave = _load("leave_event.json", hosts)
    # Mobilizon's fixture reuses the Join's id for the Leave; a real Leave has its own
    # (the inbox takes each activity id once).
    leave["id"] = join["id"] + "/leave"
    await fed.send(admin, leave)
    await fed.process()
    row = await fed.row(leave["id"])
    assert row.state == "done", row.last_error
    async with fed.ctx.pool.acquire() as conn:
        fresh = await event_store.get(conn, event.id)
        part = await event_store.participant(conn, event.id,
                                             (await conn.fetchval(
                                                 "SELECT id FROM actors WHERE ap_id = $1",
                                                 admin["id"])))
    assert fresh is not None and fresh.participant_count == 0
    assert part is not None and part.state == "cancelled"


async def test_restricted_join_waits_for_the_organiser_and_undo_withdraws(fed: Fed) -> None:
    mod = await make_user(fed.ctx, "mod")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    start = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    event = await event_service.create_event(
        fed.ctx, organiser=mod.actor, group=fed.group,
        data={"title": "Werkstatt", "starts_at": start, "registration": "restricted"})
    admin = fed.peer.actor(1, "/@admin")
    join = _load("join_event.json", {"http://mobilizon2.test": fed.peer.hosts[1],
                                     "http://mobilizon.test/events/some-uuid": event.ap_id,
                                     "http://mobilizon.test": fed.peer.hosts[0]})
    await fed.send(admin, join)
    await fed.process()
    assert (await fed.row(join["id"])).state == "done"
    assert fed.peer.received("Accept") == []  # waits for an organiser
    async with fed.ctx.pool.acquire() as conn:
        (item,) = await event_store.participants(conn, event.id)
    assert item.participant.state == "pending"
    await event_service.decide(fed.ctx, actor=mod.actor, event=event,
                               participant_id=item.participant.id, accept=True)
    await fed.process()
    (accept,) = await _delivered(fed, "Accept")
    assert accept.activity["object"]["id"] == join["id"]
    assert accept.activity["actor"] == fed.group.ap_id

    undo = {"@context": "https://www.w3.org/ns/activitystreams",
            "id": join["id"] + "/undo", "type": "Undo", "actor": admin["id"],
            "object": {"id": join["id"], "type": "Join", "actor": admin["id"],
                       "object": event.ap_id}}
    await fed.send(admin, undo)
    await fed.process()
    assert (await fed.row(undo["id"])).state == "done"
    async with fed.ctx.pool.acquire() as conn:
        fresh = await event_store.get(conn, event.id)
        (item,) = await event_store.participants(conn, event.id)
    assert fresh is not None and fresh.participant_count == 0
    assert item.participant.state == "cancelled"
