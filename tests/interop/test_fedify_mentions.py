"""Mentions across servers with Fedify (issue 14, part 5): a local post mentioning the
peer's user reaches that user's inbox with a ``Mention`` tag of its actor id (and the
actor in ``cc``), as Mastodon needs to notify; a Fedify Note mentioning a local user is
stored with a ``post_mentions`` row, and the user gets a ``mention`` notification."""

from __future__ import annotations

from typing import Any

from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import (
    assert_stays_on_cavage,
    assert_verified_by_http_signature,
    follow_group,
    new_reply,
    new_thread,
    thread_by_ap_id,
)
from tests.support.federation_helpers import eventually


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


async def test_a_local_post_mentioning_the_peer_user_reaches_its_inbox(
        peer: FedifyPeer, ours: Demisa) -> None:
    anna = await ours.user("anna")
    thread = await new_thread(ours, anna, "Erfahrungen?",
                              f"Hallo @{peer.handle}, wie lief es bei euch? #Glasfaser")
    assert thread["warnings"] == []
    assert thread["content"].count('class="u-url mention"') == 1
    # WebFinger and the actor fetch went through the cache: the peer is a known actor now.
    known = await ours.fetchval("SELECT id FROM actors WHERE ap_id = $1", peer.actor)
    mentioned = await ours.fetch("SELECT actor_id FROM post_mentions WHERE post_id = $1",
                                 thread["id"])
    assert [r["actor_id"] for r in mentioned] == [known]

    async def arrived(kind: str) -> dict[str, Any]:
        found = [a for a in await peer.inbox(actor=anna.actor.ap_id) if a["type"] == kind]
        assert len(found) == 1, found
        return found[0]

    entry = await eventually(lambda: arrived("Create"))
    assert anna.actor.public_key_id is not None
    assert_verified_by_http_signature(entry, anna.actor.public_key_id)
    create = entry["raw"]
    note = create["object"]
    assert note["id"] == thread["ap_id"]
    assert {"type": "Mention", "href": peer.actor, "name": "@" + peer.handle} in as_list(
        note["tag"])
    assert peer.actor in as_list(note["cc"]) and peer.actor in as_list(create["cc"])
    hashtags = [t for t in as_list(note["tag"]) if t["type"] == "Hashtag"]
    assert hashtags == [{"type": "Hashtag", "name": "#glasfaser",
                         "href": f"{ours.server.url}/tags/glasfaser"}]
    # The tag's href resolves (it 404ed before issue 14).
    tag_page = await ours.client.get("/tags/glasfaser")
    assert tag_page.status_code == 200 and thread["ap_id"].rsplit("/", 1)[1] in tag_page.text

    # An edit reaches the mentioned user as well (Mastodon updates the status it shows).
    await ours.call("PATCH", f"/api/v1/posts/{thread['id']}", anna,
                    json={"content": f"Hallo @{peer.handle}, wie lief es bei Ihnen?"})
    update = await eventually(lambda: arrived("Update"))
    assert peer.actor in as_list(update["raw"]["object"]["cc"])
    # A reply mentioning the peer's user goes to its inbox too.
    reply = await new_reply(ours, anna, thread["id"], f"@{peer.handle} Noch eine Frage.")
    assert reply["warnings"] == []

    async def replied() -> None:
        notes = [a["raw"]["object"]["id"] for a in await peer.inbox(actor=anna.actor.ap_id)
                 if a["type"] == "Create"]
        assert reply["ap_id"] in notes, notes

    await eventually(replied)
    await assert_stays_on_cavage(peer, ours)


async def test_a_fedify_note_mentioning_a_local_user_notifies_them(
        peer: FedifyPeer, ours: Demisa) -> None:
    anna = await ours.user("anna")
    await follow_group(peer, ours)
    sent = await peer.post(
        f'<p><a href="{ours.group_id}" class="u-url mention">@breitband</a> '
        f'<a href="{anna.actor.ap_id}" class="u-url mention">@anna</a> '
        "Wissen Sie, wann der Ausbau beginnt?</p>",
        mentions=[ours.group_handle, f"anna@{ours.host}"])
    assert anna.actor.ap_id in sent["recipients"]

    thread = await thread_by_ap_id(ours, sent["note_id"])
    rows = await ours.fetch("SELECT actor_id FROM post_mentions WHERE post_id = $1",
                            thread["id"])
    group_actor = await ours.fetchval("SELECT id FROM actors WHERE ap_id = $1", ours.group_id)
    assert {r["actor_id"] for r in rows} == {anna.actor.id, group_actor}

    async def notified() -> dict[str, Any]:
        page = await ours.get("/api/v1/notifications", anna)
        found = [n for n in page["items"] if n["type"] == "mention"]
        assert len(found) == 1, page
        return dict(found[0])

    notice = await eventually(notified)
    assert notice["post_id"] == thread["id"]
    assert notice["read"] is False
    await assert_stays_on_cavage(peer, ours)
