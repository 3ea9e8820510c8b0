"""Moderation activities arriving from other software, signed over real HTTP from a
loopback peer: a Mastodon Flag from the corpus becomes a report a moderator resolves;
Lemmy's Lock, Block, removal, featured and moderator changes from a remote group's
moderator take effect (and are refused from anyone else); a blocked domain's inbox
posts answer 403, its queued deliveries stop and its content is hidden, and unblocking
reverses the last two."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi.core.actors import instance_actor
from fedi.federation.remote import resolve_actor
from storage import groups as group_store
from storage import posts as post_store
from tests.support.constants import AS, PUBLIC
from tests.support.corpus import CORPUS as DEFAULT_CORPUS
from tests.support.helpers import User, make_user
from tests.support.inbound_fixtures import Fed, fed, follow, mastodon_create, new_id, peer  # noqa: F401

CORPUS = Path(os.environ.get("FEDI_CORPUS", DEFAULT_CORPUS))


def corpus(name: str, replacements: dict[str, str]) -> dict[str, Any]:
    """A corpus file with its hosts and ids rewritten (longest first)."""
    path = CORPUS / name
    assert path.is_file(), f"corpus file {path} is missing (tests/fixtures/corpus)"
    text = path.read_text()
    for old in sorted(replacements, key=len, reverse=True):
        text = text.replace(old, replacements[old])
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture
async def api(fed: Fed) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        yield client


async def call(client: httpx.AsyncClient, method: str, path: str, user: User | None,
               status: int = 200, **kwargs: Any) -> Any:
    r = await client.request(method, path, headers=user.headers if user else None, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def test_mastodon_flag_from_the_corpus_becomes_a_resolvable_report(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    mod = await make_user(fed.ctx, "mod")
    anna = await make_user(fed.ctx, "anna")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    posts = [await call(api, "POST", "/api/v1/groups/breitband/threads", anna, 201,
                        json={"title": f"Beitrag {i}", "content": "x"}) for i in (1, 2)]
    host = fed.peer.hosts[0]
    site = fed.peer.actor(0, "/actor", type_="Application")
    flag = corpus("mastodon/activities/flag.json", {
        "https://mastodon.example/actor": site["id"],
        "https://mastodon.example": host,
        "https://example.com/users/1": anna.actor.ap_id,
        "https://example.com/posts/380590": posts[0]["ap_id"],
        "https://example.com/posts/380591": posts[1]["ap_id"],
    })
    await fed.send(site, flag)
    await fed.process()
    assert (await fed.row(flag["id"])).state == "done"

    reports = (await call(api, "GET", "/api/v1/admin/reports", mod))["items"]
    assert len(reports) == 1
    report = reports[0]
    assert report["remote"] is True and report["reporter"] == f"actor@{host[7:]}"
    assert report["actor"] == anna.actor.handle
    assert sorted(report["post_ids"]) == sorted(p["id"] for p in posts)
    assert report["reason"] == "Please take a look at this user and their posts"
    assert report["group"] == fed.group.handle
    await call(api, "POST", f"/api/v1/admin/reports/{report['id']}/resolve", mod,
               json={"resolution": "Verwarnt"})
    await fed.process()
    resolve = (await fed.peer.wait_for("Resolve"))[0]
    assert resolve.activity["object"]["id"] == flag["id"]
    assert resolve.signature is not None  # signed, verified by the peer

    # A replay is a no-op; a Flag about nothing of ours is ignored.
    await fed.send(site, flag)
    other = dict(flag, id=new_id(host), object=[f"{host}/users/someone"])
    await fed.send(site, other)
    await fed.process()
    assert "nothing of this instance" in ((await fed.row(other["id"])).last_error or "")
    assert len((await call(api, "GET", "/api/v1/admin/reports?state=all", mod))["items"]) == 1


async def test_lemmy_moderation_from_a_remote_groups_moderator(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    anna = await make_user(fed.ctx, "anna")
    host = fed.peer.hosts[2]
    group_id = f"{host}/c/main"
    modi = fed.peer.actor(2, "/u/modi")
    nobody = fed.peer.actor(2, "/u/nobody")
    author = fed.peer.actor(2, "/u/autor")
    fed.peer.actor(2, "/c/main", type_="Group", moderators=f"{group_id}/moderators",
                   featured=f"{group_id}/featured", attributedTo=f"{group_id}/moderators")
    fed.peer.put({"id": f"{group_id}/moderators", "type": "OrderedCollection",
                  "orderedItems": [modi["id"]]})
    # Our copy of a thread in that group (as an Announce would have stored it).
    group = await resolve_actor(fed.ctx, group_id)
    await resolve_actor(fed.ctx, author["id"])
    async with fed.ctx.pool.acquire() as conn:
        await group_store.insert(conn, group.id)
        remote_author = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1",
                                            author["id"])
        thread = await post_store.insert(conn, {
            "ap_id": f"{host}/post/2", "local": False, "group_id": group.id,
            "author_id": remote_author, "title": "Thema", "content_html": "<p>x</p>"})
    replace = {"http://lemmy-alpha:8541/u/lemmy_alpha": modi["id"],
               "http://lemmy-alpha:8541/c/main": group_id,
               "http://lemmy-alpha:8541": host}

    async def deliver(doc: dict[str, Any], sender: dict[str, Any] | None = None) -> str:
        await fed.send(sender or modi, doc)
        await fed.process()
        row = await fed.row(doc["id"])
        return row.last_error or row.state

    async def fresh() -> Any:
        async with fed.ctx.pool.acquire() as conn:
            return await post_store.get(conn, thread.id)

    # Lock and Undo(Lock), as Lemmy sends them.
    lock = corpus("lemmy/activities/community/lock_page.json", replace)
    sneaky = dict(lock, id=new_id(host), actor=nobody["id"])
    assert "is not a moderator" in await deliver(sneaky, nobody)
    assert (await fresh()).locked is False
    assert await deliver(lock) == "done"
    assert (await fresh()).locked is True
    assert await deliver(corpus("lemmy/activities/community/undo_lock_page.json",
                                replace)) == "done"
    assert (await fresh()).locked is False

    # Pin (Add to featured), removal (Delete with summary) and its Undo.
    ds9 = {"https://ds9.lemmy.ml/u/lemmy_alpha": modi["id"],
           "https://ds9.lemmy.ml/post/2": thread.ap_id,
           "https://ds9.lemmy.ml/c/main": group_id, "http://enterprise.lemmy.ml/u/main":
           group_id, "https://ds9.lemmy.ml": host}
    assert await deliver(corpus("lemmy/activities/community/add_featured_post.json",
                                ds9)) == "done"
    assert (await fresh()).pinned_at is not None
    enterprise = {"http://enterprise.lemmy.ml/u/lemmy_beta": modi["id"],
                  "http://ds9.lemmy.ml/comment/1": thread.ap_id,
                  "https://enterprise.lemmy.ml/c/main": group_id,
                  "http://enterprise.lemmy.ml/c/main": group_id,
                  "http://enterprise.lemmy.ml/u/main": group_id,
                  "http://ds9.lemmy.ml/u/lemmy_alpha": anna.actor.ap_id,
                  "http://enterprise.lemmy.ml": host}
    assert await deliver(corpus("lemmy/activities/deletion/remove_note.json",
                                enterprise)) == "done"
    removed = await fresh()
    assert removed.removed_at is not None and removed.removed_reason == "bad comment"
    assert removed.deleted_at is None and removed.content_html == "<p>x</p>"
    # The Undo embeds another Delete id than the one we saw: it names the same post.
    assert await deliver(corpus("lemmy/activities/deletion/undo_remove_note.json",
                                enterprise)) == "done"
    assert (await fresh()).removed_at is None

    # A moderator appointed; a ban of our user with content removal, then lifted.
    assert await deliver(corpus("lemmy/activities/community/add_mod.json",
                                enterprise)) == "done"
    async with fed.ctx.pool.acquire() as conn:
        assert await group_store.is_moderator(conn, group.id, anna.actor.id)
    block = corpus("lemmy/activities/block/block_user.json", enterprise)
    block["endTime"] = "2099-01-01T00:00:00Z"
    assert "is not a moderator" in await deliver(dict(block, id=new_id(host),
                                                      actor=nobody["id"]), nobody)
    assert await deliver(block) == "done"
    r = await api.post(f"/api/v1/groups/main@{host[7:]}/threads", headers=anna.headers,
                       json={"title": "Hallo", "content": "x"})
    assert r.status_code == 403 and r.json()["error"] == "banned", r.text
    log = (await call(api, "GET", "/api/v1/modlog", None))["items"]
    assert log[0]["action"] == "ban" and log[0]["remote"] and log[0]["reason"] == "spam post"
    undo = {"id": new_id(host), "type": "Undo", "actor": modi["id"], "to": [PUBLIC],
            "object": block}
    assert await deliver(undo) == "done"
    async with fed.ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bans WHERE lifted_at IS NULL") == 0

    # Our own group is moderated only here.
    ours = dict(lock, id=new_id(host), object=(await call(
        api, "POST", "/api/v1/groups/breitband/threads", anna, 201,
        json={"title": "Bei uns", "content": "x"}))["ap_id"])
    assert "a group of this instance" in await deliver(ours)


async def test_domain_block_refuses_inbox_stops_deliveries_hides_content(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    admin = await make_user(fed.ctx, "chefin", admin=True)
    anna = await make_user(fed.ctx, "anna")
    host = fed.peer.hosts[1]
    domain = host.removeprefix("http://")
    eve = fed.remote(1, "eve")
    # Eve follows the group and posts a thread in it.
    await fed.send(eve, follow(eve, fed.group.ap_id))
    await fed.send(eve, mastodon_create(eve, fed.group, text="Hallo aus der Ferne"))
    await fed.process()
    fed.peer.deliveries.clear()

    async def listing() -> list[str]:
        page = await call(api, "GET", "/api/v1/groups/breitband/threads", None)
        return [t["author"]["handle"] for t in page["items"]]

    assert await listing() == [f"eve@{domain}"]
    # Anna's thread queues an Announce for eve's server (no workers run: it waits).
    await call(api, "POST", "/api/v1/groups/breitband/threads", anna, 201,
               json={"title": "Neu", "content": "x"})

    async def queued() -> int:
        async with fed.ctx.pool.acquire() as conn:
            return int(await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE domain = $1 AND state = 'queued'",
                domain))

    waiting = await queued()
    assert waiting >= 1

    await call(api, "PUT", f"/api/v1/admin/domains/{domain}", admin,
               json={"blocked": True, "reason": "Spam"})
    r = await fed.post(mastodon_create(eve, fed.group, text="Noch mehr"), eve["publicKey"]["id"])
    assert r.status_code == 403 and r.json()["error"] == "domain_blocked", r.text
    assert await listing() == [anna.actor.handle]
    assert await queued() == 0
    await fed.process()
    assert fed.peer.received() == []

    # Another port on the same address is another instance: not blocked.
    other = fed.remote(0, "olaf")
    await fed.send(other, mastodon_create(other, fed.group, text="Ich darf"))

    await call(api, "DELETE", f"/api/v1/admin/domains/{domain}", admin, 204)
    assert sorted(await listing()) == sorted([anna.actor.handle, f"eve@{domain}"])
    assert await queued() == waiting
    await fed.process()
    await fed.peer.wait_for("Announce")


async def test_removal_reaches_mastodon_followers_as_undo_announce(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    mod = await make_user(fed.ctx, "mod")
    anna = await make_user(fed.ctx, "anna")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    fed.peer.software[fed.peer.hosts[0].removeprefix("http://")] = "mastodon"
    toot = fed.remote(0, "toot")
    await fed.send(toot, follow(toot, fed.group.ap_id))
    await fed.process()
    post = await call(api, "POST", "/api/v1/groups/breitband/threads", anna, 201,
                      json={"title": "Sichtbar", "content": "x"})
    await fed.process()
    boost = (await fed.peer.wait_for("Announce"))[0].activity
    assert boost["object"] == post["ap_id"]

    await call(api, "POST", f"/api/v1/admin/posts/{post['id']}/remove", mod,
               json={"reason": "Off-Topic"})
    await fed.process()
    undo = (await fed.peer.wait_for("Undo"))[0].activity
    assert undo["actor"] == fed.group.ap_id and undo["object"]["id"] == boost["id"]
    delete = (await fed.peer.wait_for("Delete"))[0].activity
    assert delete["object"] == post["ap_id"] and delete["summary"] == "Off-Topic"
    assert delete["actor"] == mod.actor.ap_id


async def test_restore_boosts_again_for_mastodon_and_undoes_the_removal_for_lemmy(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    mod = await make_user(fed.ctx, "mod")
    anna = await make_user(fed.ctx, "anna")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, fed.group.id, mod.actor.id)
    masto, lemmy = fed.peer.hosts[0], fed.peer.hosts[1]
    fed.peer.software[masto.removeprefix("http://")] = "mastodon"
    fed.peer.software[lemmy.removeprefix("http://")] = "lemmy"
    for follower in (fed.remote(0, "toot"), fed.remote(1, "lemy")):
        await fed.send(follower, follow(follower, fed.group.ap_id))
    await fed.process()
    post = await call(api, "POST", "/api/v1/groups/breitband/threads", anna, 201,
                      json={"title": "Sichtbar", "content": "x"})
    await fed.process()
    boost = (await fed.peer.wait_for("Announce", 2))

    def at(host: str, type_: str) -> list[dict[str, Any]]:
        return [d.activity for d in fed.peer.received(type_) if d.url == f"{host}/inbox"]

    first_boost = [a for a in at(masto, "Announce") if a["object"] == post["ap_id"]]
    assert len(first_boost) == 1 and len(boost) == 2
    await call(api, "POST", f"/api/v1/admin/posts/{post['id']}/remove", mod,
               json={"reason": "Versehen"})
    await fed.process()
    await fed.peer.wait_for("Delete", 2)
    delete = at(lemmy, "Delete")[0]
    fed.peer.deliveries.clear()

    # Restore: Lemmy hears the Undo of the removal, Mastodon a fresh boost.
    await call(api, "POST", f"/api/v1/admin/posts/{post['id']}/restore", mod,
               json={"reason": "Doch in Ordnung"})
    await fed.process()
    await fed.peer.wait_for("Undo", 2)
    undo = at(lemmy, "Undo")[0]
    assert undo["object"]["id"] == delete["id"] and undo["object"]["object"] == post["ap_id"]
    assert undo["summary"] == "Doch in Ordnung"
    again = (await fed.peer.wait_for("Announce"))[0]
    assert again.url == f"{masto}/inbox" and again.activity["object"] == post["ap_id"]
    assert again.activity["actor"] == fed.group.ap_id
    assert again.activity["id"] != first_boost[0]["id"]
    assert at(lemmy, "Announce") == []  # Lemmy rejects a bare object's Announce

    # Removed once more: only the new boost is undone (the first one is undone already).
    fed.peer.deliveries.clear()
    await call(api, "POST", f"/api/v1/admin/posts/{post['id']}/remove", mod,
               json={"reason": "Doch nicht"})
    await fed.process()
    await fed.peer.wait_for("Delete", 2)
    undone = [u["object"]["id"] for u in at(masto, "Undo")]
    assert undone == [again.activity["id"]]


async def test_report_of_a_remote_account_goes_to_its_server_as_mastodon_flag(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    anna = await make_user(fed.ctx, "anna")
    admin = await make_user(fed.ctx, "chefin", admin=True)
    host = fed.peer.hosts[0]
    eve = fed.remote(0, "eve")
    report = await call(api, "POST", "/api/v1/reports", anna, 201,
                        json={"actor": eve["id"], "reason": "Belästigt andere"})
    assert report["forwarded_to"] == host.removeprefix("http://")
    await fed.process()
    flag = (await fed.peer.wait_for("Flag"))[0]
    site = await instance_actor(fed.ctx)
    assert flag.url == eve["inbox"]  # the account's own inbox, as Mastodon sends it
    assert flag.signature is not None and flag.signature.owner == site.ap_id
    assert flag.activity["actor"] == site.ap_id  # the reporter stays anonymous
    assert flag.activity["object"] == [eve["id"]]
    assert flag.activity["content"] == "Belästigt andere"
    assert report["ap_id"] == flag.activity["id"]

    # The other side resolves it (Lemmy's Resolve): our copy closes.
    moderator = fed.remote(0, "admin")
    await fed.send(moderator, {"@context": AS, "id": new_id(host), "type": "Resolve",
                               "actor": moderator["id"], "object": flag.activity["id"],
                               "to": [site.ap_id]})
    await fed.process()
    closed = await call(api, "GET", "/api/v1/admin/reports?state=resolved", admin)
    assert [r["id"] for r in closed["items"]] == [report["id"]]

    # A local account's report stays here.
    fed.peer.deliveries.clear()
    local = await call(api, "POST", "/api/v1/reports", admin, 201,
                       json={"actor": "anna", "reason": "Profil"})
    assert local["forwarded_to"] is None and local["ap_id"] is None


async def test_lemmy_site_ban_is_recorded_and_hides_content_only_in_that_instances_groups(
        fed: Fed, api: httpx.AsyncClient) -> None:  # noqa: F811
    anna = await make_user(fed.ctx, "anna")
    host, other = fed.peer.hosts[2], fed.peer.hosts[1]
    site = fed.peer.actor(2, "/", type_="Application")
    admin = fed.peer.actor(2, "/u/admin")
    spammer = fed.peer.actor(2, "/u/spammer")
    stranger = fed.peer.actor(1, "/u/stranger")
    fed.peer.actor(2, "/c/main", type_="Group")
    fed.peer.actor(1, "/c/anders", type_="Group")
    threads: dict[str, int] = {}
    async with fed.ctx.pool.acquire() as conn:
        author = await resolve_actor(fed.ctx, spammer["id"])
        for key, group_id in (("there", f"{host}/c/main"), ("elsewhere", f"{other}/c/anders"),
                              ("here", fed.group.ap_id)):
            group = await resolve_actor(fed.ctx, group_id)
            if await group_store.get(conn, group.id) is None:
                await group_store.insert(conn, group.id)
            threads[key] = (await post_store.insert(conn, {
                "ap_id": f"{spammer['id']}/post/{key}", "local": False, "group_id": group.id,
                "author_id": author.id, "title": key, "content_html": "<p>x</p>"})).id
        there = await resolve_actor(fed.ctx, f"{host}/c/main")
        threads["anna"] = (await post_store.insert(conn, {
            "ap_id": f"{fed.server.url}/posts/anna-there", "local": True,
            "group_id": there.id, "author_id": anna.actor.id, "title": "Anna",
            "content_html": "<p>x</p>"})).id

    # Lemmy's site ban: Block with target = the site, by its admin, with removeData.
    block = {"@context": AS, "id": new_id(host), "type": "Block", "actor": admin["id"],
             "object": spammer["id"], "target": site["id"], "to": [PUBLIC],
             "cc": [], "summary": "Spam überall", "removeData": True,
             "endTime": "2099-01-01T00:00:00Z"}

    async def deliver(doc: dict[str, Any], sender: dict[str, Any]) -> str:
        await fed.send(sender, doc)
        await fed.process()
        row = await fed.row(doc["id"])
        return row.last_error or row.state

    # Nobody bans on another host's behalf.
    foreign = dict(block, id=new_id(other), actor=stranger["id"])
    assert "another host" in await deliver(foreign, stranger)
    assert await deliver(block, admin) == "done"

    async def removed() -> dict[str, bool]:
        hidden = await fed.fetchval("SELECT array_agg(id) FROM posts WHERE removed_at IS NOT"
                                    " NULL") or []
        return {key: post_id in hidden for key, post_id in threads.items()}

    # Only the spammer's post in the banning instance's group is hidden; the ban is not
    # ours: he may still post in our group.
    assert await removed() == {"there": True, "elsewhere": False, "here": False,
                               "anna": False}
    async with fed.ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bans") == 0
    entry = (await call(api, "GET", "/api/v1/modlog", None))["items"][0]
    assert (entry["action"], entry["remote"], entry["group"]) == ("ban", True, None)
    assert entry["reason"] == "Spam überall"
    assert entry["target"]["domain"] == host.removeprefix("http://")
    assert entry["target"]["actor"] == author.handle
    assert entry["details"]["scope"] == "instance" and entry["details"]["removed_posts"] == 1
    assert entry["details"]["expires_at"].startswith("2099-01-01")

    # A replay is recorded once; our user banned there: recorded, her post there hidden.
    await deliver(dict(block), admin)
    assert await fed.fetchval("SELECT count(*) FROM modlog WHERE ap_id = $1",
                              block["id"]) == 1
    assert await deliver(dict(block, id=new_id(host), object=anna.actor.ap_id), admin) \
        == "done"
    assert (await removed())["anna"] is True
    # A Block whose target is neither a group nor an instance is not a ban.
    person_target = dict(block, id=new_id(host), target=admin["id"])
    assert "neither a group nor an instance" in await deliver(person_target, admin)

    # Lifted: recorded as well.
    undo = {"@context": AS, "id": new_id(host), "type": "Undo", "actor": admin["id"],
            "to": [PUBLIC], "object": {k: v for k, v in block.items() if k != "@context"}}
    assert "cannot lift" in await deliver(dict(undo, id=new_id(other), actor=stranger["id"]),
                                          stranger)
    assert await deliver(undo, admin) == "done"
    entry = (await call(api, "GET", "/api/v1/modlog", None))["items"][0]
    assert (entry["action"], entry["remote"], entry["target"]["actor"]) == (
        "unban", True, author.handle)
