"""Polls with the Fedify peer (issue 20, "Done when": a poll test with the Fedify peer
voting; counts right, duplicate votes ignored): a local poll reaches the peer, which
follows the group, as a Question that Fedify parses; the peer votes as Mastodon does
(Create(Note{name, inReplyTo}) to the poll's author, peer.mjs "poll votes"); the vote is
counted once (the same Create again, and a second vote for another option, change
nothing) and is no reply; the peer receives the Update(Question) with the new totals
(one for the votes of a minute)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fedi.forum import poll_updates
from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import assert_verified_by_http_signature, follow_group
from tests.support.federation_helpers import eventually


def _totals(question: dict[str, Any]) -> list[int]:
    return [o["replies"]["totalItems"] for o in question["oneOf"]]


async def test_the_fedify_peer_gets_a_poll_votes_once_and_gets_the_new_totals(
        peer: FedifyPeer, ours: Demisa) -> None:
    anna = await ours.user("anna")
    ben = await ours.user("ben")
    await follow_group(peer, ours)
    ends_at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    thread = await ours.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                             json={"title": "Wo soll der nächste Verteiler stehen?",
                                   "content": "Bitte stimmen Sie ab.",
                                   "poll": {"options": ["Marktplatz", "Schule", "Bahnhof"],
                                            "ends_at": ends_at}})
    question_id = thread["ap_id"]

    # The Question arrives in the group's Announce(Create), and Fedify reads it.
    async def announced() -> dict[str, Any]:
        found = [a for a in await peer.inbox(actor=ours.group_id)
                 if a["type"] == "Announce" and isinstance(a["raw"]["object"], dict)
                 and a["raw"]["object"]["type"] == "Create"]
        assert found, found
        return found[0]

    announce = await eventually(announced)
    assert_verified_by_http_signature(announce, ours.group_key_id)
    question = announce["raw"]["object"]["object"]
    assert question["type"] == "Question" and question["id"] == question_id
    assert [o["name"] for o in question["oneOf"]] == ["Marktplatz", "Schule", "Bahnhof"]
    assert _totals(question) == [0, 0, 0] and question["votersCount"] == 0
    assert question["endTime"]
    fetched = await peer.fetch(question_id)
    assert fetched["fedify"]["ok"] is True and fetched["fedify"]["type"] == "Question", \
        fetched

    # Ben (local) votes too; the peer votes for "Schule", sends it twice, then tries
    # another option.
    await ours.call("POST", f"/api/v1/posts/{thread['id']}/votes", ben, status=200,
                    json={"choices": [1]})
    vote = await peer.call("vote", {"question": question_id, "to": anna.actor.ap_id,
                                    "choice": "Schule"})
    await peer.call("vote", {"resend": vote["create_id"]})
    await peer.call("vote", {"question": question_id, "to": anna.actor.ap_id,
                             "choice": "Bahnhof"})
    await ours.idle()

    shown = await ours.call("GET", f"/api/v1/posts/{thread['id']}", anna, status=200)
    assert [o["votes"] for o in shown["poll"]["options"]] == [0, 2, 0]
    assert shown["poll"]["voters_count"] == 2 and shown["replies"] == []
    # The first vote counted; the second one (another option) ignored; the resent Create
    # is the same activity (stored once by its id).
    rows = await ours.fetch("SELECT state, last_error FROM inbox_activities"
                            " WHERE actor_ap_id = $1 AND type = 'Create' ORDER BY id",
                            peer.actor)
    assert [r["state"] for r in rows] == ["done", "ignored"], [dict(r) for r in rows]
    assert "voted already" in rows[1]["last_error"]
    assert await ours.fetchval("SELECT count(*) FROM poll_votes WHERE post_id = $1",
                               thread["id"]) == 2
    assert await ours.fetchval("SELECT count(*) FROM posts WHERE thread_id = $1",
                               thread["id"]) == 1

    # A minute after the first vote (votes are coalesced, forum/poll_updates.py) the peer
    # receives the Update(Question) with the new totals (relayed by the group).
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert await poll_updates.send_due_updates(ours.ctx, now=later) == 1
    async def updated() -> dict[str, Any]:
        updates = [a["raw"]["object"] for a in await peer.inbox(actor=ours.group_id)
                   if a["type"] == "Announce" and isinstance(a["raw"]["object"], dict)
                   and a["raw"]["object"]["type"] == "Update"]
        latest = [u["object"] for u in updates if _totals(u["object"]) == [0, 2, 0]]
        assert latest, updates
        return dict(latest[0])

    final = await eventually(updated)
    assert final["id"] == question_id and final["votersCount"] == 2
    fetched = await peer.fetch(question_id)
    assert fetched["ok"] is True
