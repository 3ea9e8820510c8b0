"""Forwarding a report to the reported author's server (issue 20, part 6): a report
about a remote author's post in one of our groups is sent, when a moderator chooses
(API and the page /mod/reports), as Mastodon forwards reports: a Flag by our instance
actor, object = [the author, the post], content = the moderator's comment, to the
author's inbox, signed; once per report; not for local authors. The receiver is the
signed test peer (tests/support/inbound_peer.py), which records each delivery."""

from __future__ import annotations

import httpx

from fedi.core.actors import instance_actor
from fedi.routes import api_report_forward
from tests.routes.test_openapi import Api
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, mastodon_create, peer
from tests.web.conftest import csrf_of, log_in

__all__ = ["fed", "peer"]  # fixtures


async def test_a_moderator_forwards_a_report_to_the_authors_server(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(alice, fed.group, text="Kauft billige Router!")
    await fed.send(alice, create)
    await fed.process()
    post_id = await fed.fetchval("SELECT id FROM posts WHERE ap_id = $1", create["object"]["id"])
    admin = await make_user(fed.ctx, "chefin", admin=True)
    ben = await make_user(fed.ctx, "ben")
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        api = Api(client)
        report = await api("POST", "/api/v1/reports", ben, status=201,
                           json={"post_id": post_id, "reason": "Werbung"})
        assert report["forwarded_to"] is None
        local = await client.post("/api/v1/groups/breitband/threads", headers=ben.headers,
                                  json={"title": "Eigener Beitrag", "content": "Text"})
        own = await api("POST", "/api/v1/reports", admin, status=201,
                        json={"post_id": local.json()["id"], "reason": "Test"})
        forward = f"/api/v1/admin/reports/{report['id']}/forward"
        await api("POST", forward, ben, status=403, json={})
        done = await api("POST", forward, admin, status=200,
                         json={"comment": "Spam-Werbung in unserer Gruppe"})
        assert done["forwarded_to"] == fed.peer.hosts[0].removeprefix("http://")
        again = await api("POST", forward, admin, status=409, json={})
        assert again["error"] == "already_forwarded"
        refused = await api("POST", f"/api/v1/admin/reports/{own['id']}/forward", admin,
                            status=409, json={})
        assert refused["error"] == "author_local"
        await api("POST", "/api/v1/admin/reports/999999/forward", admin, status=404, json={})
        api.assert_covers(api_report_forward)
    await fed.process()
    (flag,) = await fed.peer.wait_for("Flag")
    site = await instance_actor(fed.ctx)
    assert flag.url in (alice["inbox"], alice["endpoints"]["sharedInbox"])
    assert flag.signature is not None and flag.signature.key_id == site.public_key_id
    assert flag.activity["actor"] == site.ap_id
    assert flag.activity["object"] == [alice["id"], create["object"]["id"]]
    assert flag.activity["content"] == "Spam-Werbung in unserer Gruppe"
    assert ben.actor.ap_id not in str(flag.activity)  # the reporter stays anonymous


async def test_the_reports_page_offers_forwarding(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(alice, fed.group, text="Kauft billige Router!")
    await fed.send(alice, create)
    await fed.process()
    post_id = await fed.fetchval("SELECT id FROM posts WHERE ap_id = $1", create["object"]["id"])
    await make_user(fed.ctx, "chefin", admin=True)
    ben = await make_user(fed.ctx, "ben")
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        r = await client.post("/api/v1/reports", headers=ben.headers,
                              json={"post_id": post_id, "reason": "Werbung"})
        report_id = r.json()["id"]
        await log_in(client, "chefin")
        page = await client.get("/mod/reports", headers={"Accept-Language": "de"})
        assert "An den Server des Autors weiterleiten" in page.text
        r = await client.post(f"/mod/reports/{report_id}/forward",
                              headers={"Accept-Language": "de"},
                              data={"csrf_token": csrf_of(page.text), "comment": ""})
        assert r.status_code == 303, r.text
        page = await client.get("/mod/reports", headers={"Accept-Language": "de"})
        assert "An den Server des Autors weiterleiten" not in page.text
    await fed.process()
    (flag,) = await fed.peer.wait_for("Flag")
    assert flag.activity["content"] == "Werbung"  # no comment: the report's reason
