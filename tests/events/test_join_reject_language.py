"""The Rejects of remote Joins speak the group's language with English beside it, as the
Rejects of posts and Follows do (tests/inbound/test_reject_language.py): the policy's
sentence (a cancelled event) and the organisers' decline, in ``summary``/``content`` in
German for a German group, both languages in ``contentMap``/``summaryMap``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fedi.forum import events as event_service
from storage import events as event_store
from storage import groups as group_store
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, peer

__all__ = ["fed", "peer"]  # fixtures


def _join(actor: dict[str, Any], event_ap_id: str, n: int) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor['id']}/join/{n}", "type": "Join", "actor": actor["id"],
            "object": event_ap_id}


async def _reject_of(fed: Fed, join_id: str) -> dict[str, Any]:
    (reject,) = [r for r in await fed.queued("Reject") if r["object"]["id"] == join_id]
    return reject


async def test_join_rejects_in_the_groups_language(fed: Fed) -> None:
    mod = await make_user(fed.ctx, "mod")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    start = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    admin = fed.peer.actor(1, "/@admin")

    # A cancelled event: the policy's sentence.
    cancelled = await event_service.create_event(
        fed.ctx, organiser=mod.actor, group=fed.group,
        data={"title": "Abgesagt", "starts_at": start, "status": "cancelled"})
    join = _join(admin, cancelled.ap_id, 1)
    await fed.send(admin, join)
    await fed.process()
    reject = await _reject_of(fed, join["id"])
    german = "Diese Veranstaltung wurde abgesagt: Anmeldungen sind nicht möglich."
    english = "This event was cancelled: no registrations."
    assert reject["actor"] == fed.group.ap_id
    assert reject["summary"] == reject["content"] == german
    assert reject["contentMap"] == reject["summaryMap"] == {"de": german, "en": english}

    # A restricted event: the organisers decline the registration.
    restricted = await event_service.create_event(
        fed.ctx, organiser=mod.actor, group=fed.group,
        data={"title": "Werkstatt", "starts_at": start, "registration": "restricted"})
    join = _join(admin, restricted.ap_id, 2)
    await fed.send(admin, join)
    await fed.process()
    async with fed.ctx.pool.acquire() as conn:
        (item,) = await event_store.participants(conn, restricted.id)
    await event_service.decide(fed.ctx, actor=mod.actor, event=restricted,
                               participant_id=item.participant.id, accept=False)
    reject = await _reject_of(fed, join["id"])
    german = "Ihre Anmeldung wurde von den Veranstaltenden abgelehnt."
    english = "Your registration was declined by the organisers."
    assert reject["content"] == german
    assert reject["contentMap"] == {"de": german, "en": english}
    await fed.process()
    delivered = [d for d in await fed.peer.wait_for("Reject", count=2)
                 if d.activity["object"]["id"] == join["id"]]
    assert [d.activity["contentMap"]["en"] for d in delivered] == [english]
