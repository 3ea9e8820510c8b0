"""dEMiSA against Fedify 1.5 (a real third-party ActivityPub implementation, strict about
signatures, WebFinger, content types and ids) on loopback: issue 8.

Fedify does every ActivityPub step on its side (WebFinger, actor fetching, signing,
verifying, document loading); the peer's control API only tells it what to do and
reports what it saw. Our side is observed through its JSON API and its database.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.interop.conftest import Demisa, FedifyPeer
from tests.support.constants import AS, PUBLIC
from tests.support.federation_helpers import eventually
from tests.support.helpers import User


async def follow_group(peer: FedifyPeer, ours: Demisa) -> dict[str, Any]:
    """The peer follows our group; returns its follow record once Fedify took our Accept."""
    answer = await peer.follow(ours.group_handle)
    assert answer["target"] == ours.group_id and answer["state"] == "pending"

    async def accepted() -> dict[str, Any]:
        record = await peer.following(ours.group_id)
        assert record is not None and record["state"] == "accepted", record
        return record

    record = await eventually(accepted)
    assert record["follow_id"] == answer["follow_id"]
    return record


async def new_thread(ours: Demisa, user: User, title: str, content: str) -> dict[str, Any]:
    """A thread by a local user in our group, through the JSON API."""
    thread: dict[str, Any] = await ours.call(
        "POST", "/api/v1/groups/breitband/threads", user, status=201,
        json={"title": title, "content": content})
    return thread


async def new_reply(ours: Demisa, user: User, post_id: int, content: str) -> dict[str, Any]:
    reply: dict[str, Any] = await ours.call(
        "POST", f"/api/v1/posts/{post_id}/replies", user, status=201, json={"content": content})
    return reply


async def group_activities(peer: FedifyPeer, ours: Demisa, kind: str, count: int
                           ) -> list[dict[str, Any]]:
    """The ``count`` activities of type ``kind`` from our group in the peer's inbox, once
    they are all there (and no more)."""

    async def arrived() -> list[dict[str, Any]]:
        found = [a for a in await peer.inbox(actor=ours.group_id) if a["type"] == kind]
        assert len(found) == count, found
        return found

    return await eventually(arrived)


def assert_verified_by_http_signature(entry: dict[str, Any], key_id: str) -> None:
    """Fedify verified the delivery, and our draft-cavage HTTP signature made with
    ``key_id`` verifies too. Since issue 20 our activities carry an FEP-8b32 proof, which
    Fedify tries first: when there is one, it must be what Fedify went by."""
    assert entry["verified"] is True
    checks = entry["checks"]
    if "proof" in entry["raw"]:
        assert entry["verified_by"] == "object-integrity-proof", entry
        assert checks["object_integrity_proof"] is True, checks
    else:
        assert entry["verified_by"] == "http-signature", entry
    assert checks["http_signature"] is True, checks
    assert checks["key_id"] == key_id
    assert checks["signature_input_present"] is False, "Fedify 1.5 reads no RFC 9421"


async def assert_stays_on_cavage(peer: FedifyPeer, ours: Demisa, *, knocks: int = 0) -> None:
    """Everything we sent the peer was delivered, Fedify refused none of it but the
    ``knocks`` RFC 9421 first attempts, and what we remember for its host is
    draft-cavage (or nothing yet): Fedify 1.5 cannot read RFC 9421."""
    await ours.idle()
    refused = [r for r in await peer.inbox_requests(host=ours.host) if r["status"] >= 400]
    assert len(refused) == knocks, refused
    assert all(r["checks"]["signature_input_present"] for r in refused), refused
    problems = await peer.call("errors")
    assert problems["errors"] == [] and problems["unmatched_follow_responses"] == [], problems
    states = await ours.fetch(
        "SELECT state, count(*) AS n FROM deliveries WHERE domain = $1 GROUP BY state",
        peer.host)
    assert {r["state"] for r in states} <= {"delivered"}, [dict(r) for r in states]
    scheme = await ours.fetchval(
        "SELECT signature_scheme FROM instances WHERE domain = $1", peer.host)
    assert scheme in ("cavage", None)


async def thread_by_ap_id(ours: Demisa, ap_id: str) -> dict[str, Any]:
    """Our API's view of the thread ``ap_id`` (found in the group's list), once it is
    there."""

    async def listed() -> dict[str, Any]:
        page = await ours.get("/api/v1/groups/breitband/threads")
        found = [t for t in page["items"] if t["ap_id"] == ap_id]
        assert len(found) == 1, page
        return dict(found[0])

    return await eventually(listed)


async def test_peer_finds_and_follows_a_group(peer: FedifyPeer, ours: Demisa) -> None:
    found = await peer.lookup(ours.group_handle)
    assert found["via"] == "webfinger-http+fedify-lookupObject"
    assert found["webfinger"]["subject"] == f"acct:{ours.group_handle}"
    assert found["webfinger"]["self"] == ours.group_id
    assert found["id"] == ours.group_id and found["type"] == "Group"
    assert found["preferredUsername"] == "breitband"
    assert found["inbox"] == ours.group_id + "/inbox"
    assert found["shared_inbox"] == f"{ours.server.url}/inbox"
    assert found["public_key_id"] == ours.group_key_id

    record = await follow_group(peer, ours)
    assert record["matched_by"] == "id"  # our Accept names the peer's Follow by its id
    assert record["response_actor_is_target"] is True
    (accept,) = await group_activities(peer, ours, "Accept", 1)
    assert_verified_by_http_signature(accept, ours.group_key_id)
    assert accept["object_id"] == record["follow_id"]

    state = await ours.fetchval(
        "SELECT f.state FROM follows f JOIN actors a ON a.id = f.follower_id"
        " WHERE a.ap_id = $1", peer.actor)
    assert state == "accepted"
    group = await ours.get("/api/v1/groups/breitband")
    assert group["follower_count"] == 1
    await assert_stays_on_cavage(peer, ours)


async def test_the_proof_carries_an_rfc9421_delivery_fedify_cannot_read(
        peer: FedifyPeer, ours: Demisa) -> None:
    # As if the peer's host had once taken RFC 9421 (a Mastodon 4.5 before it was
    # replaced by this Fedify): the first knock is RFC 9421, which Fedify 1.5 cannot
    # read. Before issue 20 it refused that knock and took the second (draft-cavage);
    # now our FEP-8b32 proof, which Fedify checks before the HTTP signature, carries
    # the first one. (The double-knock itself: tests/activitypub, tests/federation.)
    await ours.fetchval(
        "INSERT INTO instances (domain, signature_scheme) VALUES ($1, 'rfc9421')", peer.host)
    record = await follow_group(peer, ours)

    async def taken() -> dict[str, Any]:
        requests = [r for r in await peer.inbox_requests(host=ours.host)
                    if r["type"] == "Accept"]
        assert len(requests) == 1 and requests[0]["reached_listener"], requests
        return requests[0]

    request = await eventually(taken)
    assert request["status"] == 202
    assert request["checks"]["signature_input_present"] is True
    assert request["checks"]["http_signature"] is False  # Fedify 1.5 reads no RFC 9421
    assert request["checks"]["object_integrity_proof"] is True
    assert request["raw"]["object"]["id"] == record["follow_id"]


async def test_a_local_thread_is_announced_and_fetchable(peer: FedifyPeer, ours: Demisa
                                                         ) -> None:
    anna = await ours.user("anna")
    await follow_group(peer, ours)
    thread = await new_thread(ours, anna, "Glasfaser in Musterdorf", "Wann geht es los?")
    note_id = thread["ap_id"]

    # The peer's host has no NodeInfo (software unknown): it gets both forms.
    announces = await group_activities(peer, ours, "Announce", 2)
    for announce in announces:
        assert_verified_by_http_signature(announce, ours.group_key_id)
    boost = next(a for a in announces if isinstance(a["raw"]["object"], str))
    embedded = next(a for a in announces if isinstance(a["raw"]["object"], dict))
    assert boost["object_id"] == note_id
    create = embedded["raw"]["object"]
    assert create["type"] == "Create" and create["actor"] == anna.actor.ap_id
    assert create["object"]["id"] == note_id

    # Fedify's document loader fetches both, unsigned and signed (as the peer's alice).
    for url, kind in ((note_id, "Note"), (create["id"], "Create")):
        for signed in (False, True):
            fetched = await peer.fetch(url, signed=signed)
            assert fetched["checks"] == {"status_200": True, "content_type": True,
                                         "json": True, "id_matches": True}, fetched
            assert fetched["fedify"]["ok"] is True, fetched
            assert fetched["fedify"]["type"] == kind and fetched["fedify"]["id"] == url
            assert fetched["ok"] is True, fetched
    await assert_stays_on_cavage(peer, ours)


async def test_a_fedify_note_mentioning_the_group_becomes_a_thread(
        peer: FedifyPeer, ours: Demisa) -> None:
    await follow_group(peer, ours)
    sent = await peer.post(
        f'<p><a href="{ours.group_id}" class="u-url mention">@breitband</a> '
        "Wann kommt der Glasfaserausbau nach Musterdorf?</p><p>Gruß, Alice</p>",
        mentions=[ours.group_handle])
    assert ours.group_id in sent["recipients"]

    # What Fedify sent, as we stored it: signed three ways, compacted to single values.
    payload = await ours.fetchval(
        "SELECT payload FROM inbox_activities WHERE ap_id = $1", sent["create_id"])
    assert payload is not None, "the Create did not reach our inbox"
    assert payload["signature"]["type"] == "RsaSignature2017"
    assert payload["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert payload["to"] == "as:Public" and payload["object"]["to"] == "as:Public"
    assert isinstance(payload["object"]["tag"], dict)  # one Mention, not a list

    thread = await thread_by_ap_id(ours, sent["note_id"])
    assert thread["title"] == "Wann kommt der Glasfaserausbau nach Musterdorf?"
    assert "Gruß, Alice" in thread["content"]
    assert thread["author"]["ap_id"] == peer.actor
    assert thread["author"]["handle"] == peer.handle
    assert thread["group"]["ap_id"] == ours.group_id

    # Announced back to the peer (its host's software is unknown: both forms).
    announces = await group_activities(peer, ours, "Announce", 2)
    for announce in announces:
        assert_verified_by_http_signature(announce, ours.group_key_id)
    objects = sorted(a["raw"]["object"] if isinstance(a["raw"]["object"], str)
                     else a["raw"]["object"]["id"] for a in announces)
    assert objects == sorted([sent["note_id"], sent["create_id"]])
    await assert_stays_on_cavage(peer, ours)


async def test_reply_to_a_reply_like_and_unfollow(peer: FedifyPeer, ours: Demisa) -> None:
    anna, ben = await ours.user("anna"), await ours.user("ben")
    await follow_group(peer, ours)
    thread = await new_thread(ours, anna, "Leerrohre", "Liegen sie schon?")
    answer = await new_reply(ours, ben, thread["id"], "In der Hauptstraße ja.")
    reply_id = answer["ap_id"]
    # Both forms of the thread, the embedded one of the reply: the group boosts threads
    # only for microblog software (and unknown software like the peer's), by default.
    await group_activities(peer, ours, "Announce", 3)

    # The peer answers Ben's reply the way Mastodon does: to the post's author, who is
    # mentioned; the group is not addressed (the thread tells us which group it is).
    sent = await peer.post("<p>@ben Und in der Schulstraße?</p>", inReplyTo=reply_id,
                           mentions=[f"ben@{ours.host}"])
    assert sent["recipients"] == [ben.actor.ap_id]

    async def nested() -> dict[str, Any]:
        tree = await ours.get(f"/api/v1/posts/{thread['id']}")
        (bens,) = tree["replies"]
        assert bens["ap_id"] == reply_id
        assert [r["ap_id"] for r in bens["replies"]] == [sent["note_id"]], tree
        return dict(bens["replies"][0])

    answer_view = await eventually(nested)
    assert answer_view["in_reply_to"] == answer["id"]
    assert answer_view["author"]["ap_id"] == peer.actor
    assert "Schulstraße" in answer_view["content"]

    # Fedify fetches the reply, finds Ben as its author and sends him the Like.
    liked = await peer.like(reply_id)

    async def counted() -> None:
        tree = await ours.get(f"/api/v1/posts/{thread['id']}")
        assert tree["replies"][0]["like_count"] == 1, tree

    await eventually(counted)
    like_row = await ours.fetchval("SELECT ap_id FROM likes WHERE ap_id = $1", liked["like_id"])
    assert like_row == liked["like_id"]
    await assert_stays_on_cavage(peer, ours)

    # Unfollow: once our group has processed the Undo, nothing more goes to the peer.
    undo = await peer.unfollow(ours.group_id)
    assert undo["follow_id"]

    async def unfollowed() -> None:
        group = await ours.get("/api/v1/groups/breitband")
        assert group["follower_count"] == 0, group

    await eventually(unfollowed)
    await ours.idle()
    seen = len(await peer.inbox_requests(host=ours.host))
    last_delivery = await ours.fetchval("SELECT coalesce(max(id), 0) FROM deliveries")

    await new_thread(ours, anna, "Nach dem Abschied", "Liest das noch jemand?")
    await new_reply(ours, ben, thread["id"], "Noch eine Antwort.")
    await ours.idle()
    to_peer = await ours.fetchval(
        "SELECT count(*) FROM deliveries WHERE id > $1 AND domain = $2",
        last_delivery, peer.host)
    assert to_peer == 0
    assert len(await peer.inbox_requests(host=ours.host)) == seen


def raw_create(peer: FedifyPeer, ours: Demisa, text: str) -> dict[str, Any]:
    """A Create of a Note by the peer's alice that mentions our group, in Mastodon's
    shape, for the peer's raw (optionally tampered) sends."""
    token = uuid.uuid4().hex
    note = {
        "id": f"{peer.actor}/notes/raw-{token}", "type": "Note",
        "attributedTo": peer.actor, "content": f"<p>@breitband {text}</p>",
        "to": [PUBLIC], "cc": [ours.group_id],
        "tag": [{"type": "Mention", "href": ours.group_id, "name": f"@{ours.group_handle}"}],
        "published": "2026-01-05T10:00:00Z",
    }
    return {"@context": AS, "id": f"{peer.actor}/creates/raw-{token}", "type": "Create",
            "actor": peer.actor, "to": [PUBLIC], "cc": [ours.group_id], "object": note}


async def stored_counts(ours: Demisa) -> tuple[int, int]:
    posts = await ours.fetchval("SELECT count(*) FROM posts")
    inbound = await ours.fetchval("SELECT count(*) FROM inbox_activities")
    return posts, inbound


async def test_an_untampered_raw_create_is_taken(peer: FedifyPeer, ours: Demisa) -> None:
    # The control for the tampering tests below: the same request, unchanged, works.
    activity = raw_create(peer, ours, "Gibt es Fördermittel?")
    before = await stored_counts(ours)
    answer = await peer.raw(ours.group_id + "/inbox", activity, "none")
    assert answer["status"] == 202, answer
    thread = await thread_by_ap_id(ours, activity["object"]["id"])
    assert thread["title"] == "Gibt es Fördermittel?"
    assert await stored_counts(ours) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize(("tamper", "reason"), [
    ("digest", "digest"),
    ("signature", "bad signature"),
    ("date", "expired"),
    ("unsigned", "no signature"),
    ("keyid", "unknown key"),
])
async def test_a_tampered_request_is_refused_and_nothing_stored(
        peer: FedifyPeer, ours: Demisa, tamper: str, reason: str) -> None:
    activity = raw_create(peer, ours, f"Manipuliert ({tamper})?")
    before = await stored_counts(ours)
    answer = await peer.raw(ours.group_id + "/inbox", activity, tamper)
    assert answer["status"] == 401, answer
    assert reason in answer["body"], answer["body"]
    await ours.idle()
    assert await stored_counts(ours) == before
    assert await ours.fetchval("SELECT count(*) FROM posts WHERE ap_id = $1",
                               activity["object"]["id"]) == 0

