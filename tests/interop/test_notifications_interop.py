"""Notifications against the Fedify peer (issue 14, "Done when"): a local user asks a
question, the peer (a Mastodon-like third-party implementation) replies; the asker has
a ``reply`` notification in the API and the bell's count in the page header. The mail
half of the scenario is N2's test."""

from __future__ import annotations

from typing import Any

import httpx

from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import follow_group, group_activities, new_thread
from tests.support.federation_helpers import eventually
from tests.web.conftest import log_in


async def test_a_reply_from_the_peer_notifies_the_asker(peer: FedifyPeer, ours: Demisa
                                                        ) -> None:
    anna = await ours.user("anna")
    await follow_group(peer, ours)
    thread = await new_thread(ours, anna, "Glasfaser in der Schulstraße?",
                              "Weiß jemand, wann gebaut wird?")
    await group_activities(peer, ours, "Announce", 2)  # both forms of the thread
    # The way Mastodon answers: to the post, its author mentioned.
    sent = await peer.post("<p>@anna Im Frühjahr, sagt die Stadt.</p>",
                           inReplyTo=thread["ap_id"], mentions=[f"anna@{ours.host}"])

    async def notified() -> dict[str, Any]:
        page = await ours.call("GET", "/api/v1/notifications", anna, status=200)
        assert [i["type"] for i in page["items"]] == ["reply"], page
        return dict(page)

    page = await eventually(notified)
    (item,) = page["items"]
    assert page["unread"] == 1
    assert item["actor"]["ap_id"] == peer.actor and item["actor"]["local"] is False
    assert item["thread_id"] == thread["id"]
    stored = await ours.fetchval("SELECT ap_id FROM posts WHERE id = $1", item["post_id"])
    assert stored == sent["note_id"]

    # The bell in the page header says it, in words for screen readers too.
    async with httpx.AsyncClient(base_url=ours.server.url,
                                 headers={"Accept-Language": "de"}) as browser:
        await log_in(browser, "anna")
        start = (await browser.get("/")).text
    assert 'aria-label="Benachrichtigungen, 1 ungelesen"' in start
