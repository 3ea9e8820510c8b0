"""A local group towards its remote followers (issue 20): the outbox lists every thread
from the group's first day and nothing else; microblog followers get threads only unless
the group asks for everything; one delivery per host; every activity id we send answers.

Our instance runs on loopback, the followers are the inbound peer's hosts (real HTTP,
real signatures, NodeInfo naming each host's software)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.helpers import User, make_user
from tests.support.inbound_fixtures import Fed, fed, follow, mastodon_create, peer

__all__ = ["fed", "peer"]  # fixtures

AP = {"Accept": "application/activity+json"}


@pytest.fixture
async def api(fed: Fed) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        yield client


async def call(api: httpx.AsyncClient, method: str, path: str, user: User | None,
               status: int = 200, **kwargs: Any) -> Any:
    r = await api.request(method, path, headers=user.headers if user else None, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def thread(api: httpx.AsyncClient, user: User, title: str) -> dict[str, Any]:
    return dict(await call(api, "POST", "/api/v1/groups/breitband/threads", user, 201,
                           json={"title": title, "content": f"Text zu {title}"}))


async def reply(api: httpx.AsyncClient, user: User, post_id: int, text: str
                ) -> dict[str, Any]:
    return dict(await call(api, "POST", f"/api/v1/posts/{post_id}/replies", user, 201,
                           json={"content": text}))


def netloc(base: str) -> str:
    return base.removeprefix("http://")


async def follower(fed: Fed, host: int, name: str, software: str) -> dict[str, Any]:
    """A follower of the group on the peer's host ``host``, running ``software``."""
    fed.peer.software[netloc(fed.peer.hosts[host])] = software
    actor = fed.remote(host, name)
    await fed.send(actor, follow(actor, fed.group.ap_id))
    await fed.process()
    return actor


async def get_ap(api: httpx.AsyncClient, url: str, status: int = 200) -> Any:
    r = await api.get(url, headers=AP)
    assert r.status_code == status, (url, r.text)
    return r.json()


async def test_outbox_lists_every_thread_from_the_first_day(
        fed: Fed, api: httpx.AsyncClient) -> None:
    anna = await make_user(fed.ctx, "anna")
    # Before anyone follows: a local thread and a thread by someone on another server.
    first = await thread(api, anna, "Der erste Faden")
    carol = fed.remote(2, "carol")
    remote_thread = mastodon_create(carol, fed.group, text="Faden von anderswo")
    await fed.send(carol, remote_thread)
    await fed.process()
    await follower(fed, 1, "alice", "lemmy")
    later = [await thread(api, anna, f"Faden {n}") for n in range(2, 22)]
    await reply(api, anna, later[-1]["id"], "Eine Antwort")
    await call(api, "POST", f"/api/v1/posts/{later[-1]['id']}/like", anna)
    await fed.process()
    likes = [a for a in await fed.queued("Announce")
             if isinstance(a["object"], dict) and a["object"]["type"] == "Like"]
    assert likes  # the group relayed the like to its forum follower ...

    outbox_url = f"{fed.group.ap_id}/outbox"
    outbox = await get_ap(api, outbox_url)
    assert outbox["totalItems"] == 22  # ... and the outbox counts threads only
    items: list[dict[str, Any]] = []
    page_url: str | None = outbox["first"]
    while page_url:
        page = await get_ap(api, page_url)
        items += page["orderedItems"]
        page_url = page.get("next")
    assert len(items) == 22
    assert all(item["type"] == "Announce" and item["actor"] == fed.group.ap_id
               for item in items)
    # Newest first; announced threads as the group's stored Announce(Create).
    assert [item["object"]["object"]["id"] for item in items[:20]] == [
        t["ap_id"] for t in reversed(later)]
    sent = {a["id"] for a in await fed.queued("Announce")}
    assert all(item["id"] in sent for item in items[:20])
    # Threads from before the first follower: built on the fly, fetchable at their ids.
    old_remote, old_local = items[20], items[21]
    assert old_local["id"] == f"{first['ap_id']}/announce"
    assert old_local["object"]["type"] == "Create"
    assert old_local["object"]["actor"].endswith("/users/anna")
    fetched = await get_ap(api, old_local["id"])
    assert {k: v for k, v in fetched.items() if k != "@context"} == old_local
    create = await get_ap(api, old_local["object"]["id"])
    assert create["type"] == "Create" and create["object"]["id"] == first["ap_id"]
    assert old_remote["object"] == remote_thread["object"]["id"]  # fetched from its origin
    assert old_remote["id"].endswith("/announce")
    # No Like, no reply, no Undo among the items.
    assert not [i for i in items if not isinstance(i["object"], str)
                and i["object"]["type"] != "Create"]
    # A reply or a post of no local group has no such Announce.
    tree = await call(api, "GET", f"/api/v1/posts/{later[-1]['id']}", None)
    await get_ap(api, f"{tree['replies'][0]['ap_id']}/announce", 404)

    # A removed thread leaves the outbox and its count.
    admin = await make_user(fed.ctx, "chefin", admin=True)
    await call(api, "POST", f"/api/v1/admin/posts/{first['id']}/remove", admin,
               json={"reason": "Test"})
    outbox = await get_ap(api, outbox_url)
    assert outbox["totalItems"] == 21
    await get_ap(api, f"{first['ap_id']}/announce", 410)


async def test_microblog_followers_get_threads_only_unless_the_group_says_everything(
        fed: Fed, api: httpx.AsyncClient) -> None:
    mastodon = await follower(fed, 0, "mona", "mastodon")
    lemmy = await follower(fed, 1, "lemmy_user", "lemmy")
    anna = await make_user(fed.ctx, "anna")
    admin = await make_user(fed.ctx, "chefin", admin=True)
    detail = await call(api, "GET", "/api/v1/groups/breitband", None)
    assert detail["microblog_fanout"] == "threads"  # the default
    fed.peer.deliveries.clear()

    started = await thread(api, anna, "Glasfaser")
    answer = await reply(api, anna, started["id"], "Eine Antwort")
    await fed.process()

    def announced(host: int) -> list[Any]:
        """What each Announce delivered to ``host`` is about: an object id (the
        Mastodon form) or the id of the embedded activity's object."""
        found = []
        for d in fed.peer.received("Announce"):
            if d.url.startswith(fed.peer.hosts[host]):
                obj = d.activity["object"]
                found.append(obj if isinstance(obj, str) else obj["object"]["id"])
        return found

    assert announced(0) == [started["ap_id"]]
    assert sorted(announced(1)) == sorted([started["ap_id"], answer["ap_id"]])
    assert mastodon["id"] and lemmy["id"]

    # Moderators choose; bad values and other people are refused.
    await call(api, "PATCH", "/api/v1/admin/groups/breitband", anna, 403,
               json={"microblog_fanout": "everything"})
    r = await api.patch("/api/v1/admin/groups/breitband", headers=admin.headers,
                        json={"microblog_fanout": "alles"})
    assert r.status_code == 422 and r.json()["field"] == "microblog_fanout", r.text
    changed = await call(api, "PATCH", "/api/v1/admin/groups/breitband", admin,
                         json={"microblog_fanout": "everything"})
    assert changed["microblog_fanout"] == "everything"
    fed.peer.deliveries.clear()
    second = await reply(api, anna, started["id"], "Noch eine Antwort")
    await fed.process()
    assert second["ap_id"] in announced(0)
    assert second["ap_id"] in announced(1)


async def test_one_delivery_per_host_for_personal_and_shared_inboxes(
        fed: Fed, api: httpx.AsyncClient) -> None:
    await follower(fed, 0, "mona", "mastodon")
    carol = fed.remote(0, "carol")  # the author lives on the follower's server
    created = mastodon_create(carol, fed.group, text="Werbung")
    await fed.send(carol, created)
    await fed.process()
    admin = await make_user(fed.ctx, "chefin", admin=True)
    post_id = await fed.fetchval("SELECT id FROM posts WHERE ap_id = $1",
                                 created["object"]["id"])
    fed.peer.deliveries.clear()
    await call(api, "POST", f"/api/v1/admin/posts/{post_id}/remove", admin,
               json={"reason": "Werbung"})
    await fed.process()
    deletes = fed.peer.received("Delete")
    assert [d.url for d in deletes] == [fed.peer.hosts[0] + "/inbox"], deletes
    rows = await fed.fetchval(
        "SELECT count(*) FROM deliveries d JOIN activities a ON a.id = d.activity_id"
        " WHERE a.type = 'Delete'")
    assert rows == 1


async def test_accept_reject_add_remove_and_block_answer_at_their_ids(
        fed: Fed, api: httpx.AsyncClient) -> None:
    await follower(fed, 0, "mona", "mastodon")
    admin = await make_user(fed.ctx, "chefin", admin=True)
    anna = await make_user(fed.ctx, "anna")
    started = await thread(api, anna, "Angeheftet")
    for action in ("pin", "unpin"):
        await call(api, "POST", f"/api/v1/admin/posts/{started['id']}/{action}", admin)
    bert = fed.remote(1, "bert")
    await call(api, "POST", "/api/v1/admin/bans", admin, 201,
               json={"actor": bert["id"], "group": "breitband", "reason": "Spam"})
    await fed.send(bert, follow(bert, fed.group.ap_id))  # refused: a Reject
    await fed.process()
    sent = {t: await fed.queued(t) for t in ("Accept", "Reject", "Add", "Remove", "Block")}
    for type_, activities in sent.items():
        assert activities, type_
        for activity in activities:
            document = await get_ap(api, activity["id"])
            assert document["type"] == type_ and document["id"] == activity["id"]
    assert (await get_ap(api, sent["Reject"][0]["id"]))["object"]["actor"] == bert["id"]
    # Reports stay between the servers concerned.
    flag_id = f"{fed.server.url}/activities/nicht-da"
    await get_ap(api, flag_id, 404)
