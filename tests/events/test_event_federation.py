"""Events between two dEMiSA instances (issue 16): an event of A's group appears on B
(which follows the group), B's user registers from B (a Join to A's group, A's Accept),
A's organiser sees the participant; B's user withdraws (a Leave) and A counts it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.federation_helpers import Instance, Side, eventually, idle, join
from tests.support.helpers import make_group, make_user


@pytest.fixture
async def sides(instance: Instance) -> AsyncIterator[tuple[Side, Side]]:
    a = await instance(workers=1)
    b = await instance(workers=1)
    async with httpx.AsyncClient(base_url=a.url) as ca, \
            httpx.AsyncClient(base_url=b.url) as cb:
        yield Side(a, ca), Side(b, cb)


async def test_event_of_a_appears_on_b_and_b_registers(sides: tuple[Side, Side]) -> None:
    a, b = sides
    anna = await make_user(a.ctx, "anna")
    await make_group(a.ctx, "breitband", moderators=[anna.actor])
    bert = await make_user(b.ctx, "bert")
    await join(b, f"breitband@{a.host}", bert)

    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    created = await a.call("POST", "/api/v1/groups/breitband/events", anna, status=201, json={
        "title": "Kreistag: Netzausbau", "starts_at": start.isoformat(),
        "timezone": "Europe/Berlin", "registration": "free", "capacity": 20,
        "place": {"name": "Kreishaus", "locality": "Kreisstadt"}})

    # On B: the event, with its place and time, in the group's list.
    async def arrived() -> dict[str, Any]:
        page = await b.get(f"/api/v1/events?group=breitband@{a.host}")
        assert [e["ap_id"] for e in page["items"]] == [created["ap_id"]], page
        return dict(page["items"][0])

    copy = await eventually(arrived, timeout=30)
    assert copy["local"] is False and copy["title"] == "Kreistag: Netzausbau"
    assert copy["starts_at"] == created["starts_at"] and copy["timezone"] == "Europe/Berlin"
    assert copy["place"]["name"] == "Kreishaus" and copy["capacity"] == 20
    assert copy["group"] == f"breitband@{a.host}"
    assert copy["organiser"] == f"anna@{a.host}"

    # B's user registers from B: pending until A's Accept, then accepted.
    r = await b.client.post(f"/api/v1/events/{copy['id']}/participation",
                            headers=bert.headers)
    assert r.status_code == 202 and r.json()["state"] == "pending", r.text

    async def accepted() -> None:
        event = await b.get(f"/api/v1/events/{copy['id']}", bert)
        assert event["my_participation"] == "accepted", event["my_participation"]

    await eventually(accepted, timeout=30)

    # A's organiser sees the participant, and the count.
    listing = await a.call("GET", f"/api/v1/events/{created['id']}/participants", anna)
    assert [(p["actor"], p["state"], p["local"]) for p in listing["items"]] == \
        [(f"bert@{b.host}", "accepted", False)]
    assert (await a.get(f"/api/v1/events/{created['id']}"))["participant_count"] == 1

    # The count travels back to B with A's Update.
    async def counted(n: int) -> None:
        event = await b.get(f"/api/v1/events/{copy['id']}")
        assert event["participant_count"] == n, event["participant_count"]

    await eventually(lambda: counted(1), timeout=30)

    # B's user withdraws: a Leave; A counts it.
    r = await b.client.delete(f"/api/v1/events/{copy['id']}/participation",
                              headers=bert.headers)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"

    async def left() -> None:
        assert (await a.get(f"/api/v1/events/{created['id']}"))["participant_count"] == 0

    await eventually(left, timeout=30)

    # Cancelled on A: cancelled on B.
    await a.call("PATCH", f"/api/v1/events/{created['id']}", anna,
                 json={"status": "cancelled"})

    async def cancelled() -> None:
        assert (await b.get(f"/api/v1/events/{copy['id']}"))["status"] == "cancelled"

    await eventually(cancelled, timeout=30)
    await idle(a, b)
