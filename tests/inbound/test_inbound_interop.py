"""End to end over loopback with real remote servers (tests/support/inbound_peer.py) that verify
every signature with keys fetched from our server:

* a Note in Mastodon's exact shape that mentions a group becomes a thread and is
  announced to the group's followers (issue 5, "Done when");
* a remote follower follows a group, gets the Accept, and receives both Announce forms
  of a thread and a reply that local users post through the JSON API, then fetches the
  Create and the Note (issue 4, "Done when").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from activitypub.keys import generate_rsa_keypair
from fedi.worker import run_once
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, follow, mastodon_create, peer
from tests.support.inbound_peer import AP_JSON

__all__ = ["fed", "peer"]  # fixtures


def netloc(base: str) -> str:
    return base.removeprefix("http://")


async def follow_group(fed: Fed, actor: dict[str, Any], **options: Any) -> None:
    request = follow(actor, fed.group.ap_id)
    await fed.send(actor, request, **options)
    await fed.process()
    accepts = [d for d in fed.peer.received("Accept") if d.url == actor["inbox"]]
    assert len(accepts) == 1, fed.peer.deliveries
    accept = accepts[0]
    assert accept.signature is not None, accept.error
    assert accept.signature.owner == fed.group.ap_id
    assert accept.activity["object"]["id"] == request["id"]


async def test_a_mastodon_mention_becomes_a_thread_announced_to_followers(fed: Fed) -> None:
    alice = fed.remote(0, "alice")  # the Mastodon user who writes
    mastodon_follower = fed.remote(1, "mfollower")
    forum_follower = fed.remote(2, "lfollower")
    fed.peer.software.update({netloc(fed.peer.hosts[1]): "mastodon",
                              netloc(fed.peer.hosts[2]): "lemmy"})
    await follow_group(fed, mastodon_follower)
    await follow_group(fed, forum_follower)

    create = mastodon_create(alice, fed.group,
                             text="Wann kommt der Glasfaserausbau nach Musterdorf?")
    await fed.send(alice, create)
    await fed.process()

    thread = await fed.fetchrow("SELECT * FROM posts WHERE ap_id = $1", create["object"]["id"])
    assert thread["parent_id"] is None and thread["group_id"] == fed.group.id
    assert thread["title"] == "Wann kommt der Glasfaserausbau nach Musterdorf?"
    announces = await fed.peer.wait_for("Announce", 2)
    by_host = {d.url.rsplit("/", 1)[0]: d for d in announces}
    boost = by_host[fed.peer.hosts[1]]
    embedded = by_host[fed.peer.hosts[2]]
    for delivery in (boost, embedded):
        assert delivery.signature is not None, delivery.error
        assert delivery.signature.key_id == fed.group.public_key_id
        assert delivery.activity["actor"] == fed.group.ap_id
    assert boost.activity["object"] == create["object"]["id"]
    assert embedded.activity["object"]["id"] == create["id"]
    assert embedded.activity["object"]["object"]["id"] == create["object"]["id"]


async def test_a_remote_follower_gets_both_announce_forms_of_local_posts(fed: Fed) -> None:
    # A follower with its own keys whose server has no NodeInfo (unknown software: it gets
    # both forms, the microblog one for threads only: the group's default), and one that
    # runs Lemmy (the embedded form only).
    keys = generate_rsa_keypair()
    unknown = fed.remote(0, "unknown")
    unknown["publicKey"]["publicKeyPem"] = keys.public_pem
    lemmy = fed.remote(1, "lemmy")
    fed.peer.software[netloc(fed.peer.hosts[1])] = "lemmy"
    await follow_group(fed, unknown, pem=keys.private_pem)
    await follow_group(fed, lemmy)

    anna = await make_user(fed.ctx, "anna")
    ben = await make_user(fed.ctx, "ben")
    async with httpx.AsyncClient(base_url=fed.server.url) as api:
        answer = await api.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                                json={"title": "Glasfaser", "content": "Wann?"})
        assert answer.status_code == 201, answer.text
        thread = answer.json()
        answer = await api.post(f"/api/v1/posts/{thread['id']}/replies", headers=ben.headers,
                                json={"content": "Nächstes Jahr."})
        assert answer.status_code == 201, answer.text
    await fed.process()

    try:
        announces = await fed.peer.wait_for("Announce", 5)
    except AssertionError:
        # Delivery is at least once with retries: on a loaded machine a send can time out
        # and wait for its retry (a minute later). Seen once in CI; run the retries now,
        # and keep what the queue held in the message in case they do not help either.
        async with fed.ctx.pool.acquire() as conn:
            held = [dict(r) for r in await conn.fetch(
                "SELECT inbox_url, state, attempts, last_error FROM deliveries ORDER BY id")]
        print("deliveries before the retries:", held)
        await run_once(fed.ctx, clock=lambda: datetime.now(UTC) + timedelta(minutes=2))
        announces = await fed.peer.wait_for("Announce", 5)
    for delivery in announces:
        assert delivery.signature is not None, delivery.error
        assert delivery.signature.owner == fed.group.ap_id
    to_unknown = [d.activity for d in announces if d.url.startswith(fed.peer.hosts[0])]
    to_lemmy = [d.activity for d in announces if d.url.startswith(fed.peer.hosts[1])]
    creates = [a["object"] for a in to_unknown if isinstance(a["object"], dict)]
    boosts = [a["object"] for a in to_unknown if isinstance(a["object"], str)]
    assert len(creates) == 2 and len(boosts) == 1 and len(to_lemmy) == 2
    assert all(isinstance(a["object"], dict) for a in to_lemmy)
    assert boosts == [thread["ap_id"]]
    assert thread["ap_id"] in {c["object"]["id"] for c in creates}

    async with httpx.AsyncClient() as client:
        for create in creates:
            for url in (create["id"], create["object"]["id"]):
                answer = await client.get(url, headers={"Accept": AP_JSON})
                assert answer.status_code == 200
                assert answer.headers["content-type"].split(";")[0] == AP_JSON
                assert answer.json()["id"] == url
