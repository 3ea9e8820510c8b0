"""Notifications from what other servers send, over real HTTP and the workers: a
Mastodon reply to a local asker's thread and a remote Like notify her; a Flag notifies
the group's moderators; a moderator's removal of a remote post notifies nobody here and
of a local post its author, with the reason."""

from __future__ import annotations

import httpx

from fedi.forum.posts import create_reply, create_thread
from fedi.forum.staff import Staff
from fedi.forum.threads import remove_post
from storage import groups as group_store
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, mastodon_create, new_id, peer

__all__ = ["fed", "peer"]  # fixtures


async def notices(fed: Fed, token: str) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        r = await client.get(fed.server.url + "/api/v1/notifications",
                             headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    page: dict[str, object] = r.json()
    return page


async def test_remote_reply_like_flag_and_removals_notify(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    anna = await make_user(fed.ctx, "anna")
    mod = await make_user(fed.ctx, "mod")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    thread = await create_thread(fed.ctx, author=anna.actor, group=fed.group,
                                 title="Ausbau", content="Wann?")
    reply = mastodon_create(alice, fed.group, in_reply_to=thread.ap_id)
    await fed.send(alice, reply)
    like = {"id": new_id(fed.peer.hosts[0]), "type": "Like", "actor": alice["id"],
            "object": thread.ap_id}
    await fed.send(alice, like)
    flag = {"id": new_id(fed.peer.hosts[0]), "type": "Flag", "actor": alice["id"],
            "object": [thread.ap_id], "content": "Off topic"}
    await fed.send(alice, flag)
    # The inbound worker stores them and queues the events; the next round notifies.
    await fed.process()
    await fed.process()

    page = await notices(fed, anna.token)
    items = page["items"]
    assert isinstance(items, list)
    by_type = {i["type"]: i for i in items}
    assert set(by_type) == {"reply", "like"} and page["unread"] == 2
    remote_reply = by_type["reply"]
    assert remote_reply["actor"]["ap_id"] == alice["id"]
    assert remote_reply["actor"]["local"] is False
    assert remote_reply["thread_id"] == thread.id
    assert by_type["like"]["actor"]["ap_id"] == alice["id"]
    (report,) = (await notices(fed, mod.token))["items"]  # type: ignore[misc]
    assert report["type"] == "report" and report["data"]["reason"] == "Off topic"

    # The moderator removes the remote reply (nobody here to tell) and a local one.
    own = await create_reply(fed.ctx, author=anna.actor, parent=thread, content="Werbung")
    staff = Staff(mod.account, mod.actor)
    await remove_post(fed.ctx, staff, remote_reply["post_id"], reason="Spam")
    await remove_post(fed.ctx, staff, own.id, reason="Werbung")
    await fed.process()
    page = await notices(fed, anna.token)
    moderation = [i for i in page["items"] if i["type"] == "moderation"]  # type: ignore[union-attr]
    assert [(i["post_id"], i["data"]) for i in moderation] == [
        (own.id, {"action": "remove", "reason": "Werbung"})]
