"""Groups that move to another instance (FEP-7628), dEMiSA to dEMiSA over loopback: the
target's admin names the old group as an alias (and gets its history), the old
instance's admin moves it (refused without the alias), the old instance redirects the
group's pages and serves the moved document, takes no new members or threads there, and
members on a third instance follow the group to its new address; a replayed Move
changes nothing.

The Fedify peer as a follower of a moving group: tests/interop/test_fedify_group_move.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from activitypub.delivery import deliver
from fedi.core.actors import signing_key
from storage import actors as actor_store
from tests.support.federation_helpers import Instance, Side, eventually, idle, join
from tests.support.helpers import User, make_group, make_user
from tests.web.conftest import log_in, post_form

AP = "application/activity+json"


@pytest.fixture
async def three(instance: Instance) -> AsyncIterator[tuple[Side, Side, Side]]:
    a = await instance(workers=1)
    b = await instance(workers=1)
    c = await instance(workers=1)
    async with httpx.AsyncClient(base_url=a.url) as ca, \
            httpx.AsyncClient(base_url=b.url) as cb, \
            httpx.AsyncClient(base_url=c.url) as cc:
        yield Side(a, ca), Side(b, cb), Side(c, cc)


async def new_group_with_alias(c: Side, admin: User, old: str) -> dict[str, Any]:
    """C's admin creates ``breitband`` and names ``old`` (name@host) as its alias."""
    await c.call("POST", "/api/v1/admin/groups", admin, status=201,
                 json={"name": "breitband", "title": "Breitbandausbau (neu)"})
    return dict(await c.call("POST", "/api/v1/admin/groups/breitband/aliases", admin,
                             json={"actor": old}))


async def thread_titles(side: Side, ref: str) -> list[str]:
    page = await side.get(f"/api/v1/groups/{ref}/threads")
    return sorted(t["title"] for t in page["items"])


async def test_move_needs_the_alias_then_the_old_group_redirects_and_refuses(
        three: tuple[Side, Side, Side]) -> None:
    a, _, c = three
    await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")
    admin_a = await make_user(a.ctx, "admina", admin=True)
    admin_c = await make_user(c.ctx, "adminc", admin=True)
    old_id = f"{a.server.url}/groups/breitband"
    new_id = f"{c.server.url}/groups/breitband"
    # History: two threads on A, one before anyone followed.
    for title in ("Glasfaser in Nebendorf", "Funkloch am Bahnhof"):
        await a.call("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                     json={"title": title, "content": "Wann geht es los?"})
    await c.call("POST", "/api/v1/admin/groups", admin_c, status=201,
                 json={"name": "breitband", "title": "Breitbandausbau (neu)"})

    # Roles first: anna is no admin (403 before her body is read), nobody anonymous.
    r = await a.client.post("/api/v1/admin/groups/breitband/move", headers=anna.headers,
                            json={"target": 42})
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    r = await a.client.post("/api/v1/admin/groups/breitband/move",
                            json={"target": f"breitband@{c.host}"})
    assert r.status_code == 401
    # Without the alias at the target: refused, saying what to do.
    r = await a.client.post("/api/v1/admin/groups/breitband/move", headers=admin_a.headers,
                            json={"target": f"breitband@{c.host}"})
    assert r.status_code == 422 and r.json()["error"] == "alias_missing", r.text
    assert "/aliases" in r.json()["message"]
    # Bad input gets clear answers too.
    for body, status in (({"target": ""}, 422), ({"target": "breitband"}, 422),
                         ({"target": f"nosuch@{c.host}"}, 404), ({}, 422)):
        r = await a.client.post("/api/v1/admin/groups/breitband/move",
                                headers=admin_a.headers, json=body)
        assert r.status_code == status and r.json()["message"], (body, r.text)
    r = await c.client.post("/api/v1/admin/groups/breitband/aliases",
                            headers=admin_c.headers, json={"actor": "breitband"})
    assert r.status_code == 422, r.text  # one of C's own groups

    # C's admin names the old group: alsoKnownAs in the document, the history arrives.
    aliases = await c.call("POST", "/api/v1/admin/groups/breitband/aliases", admin_c,
                           json={"actor": f"breitband@{a.host}"})
    assert aliases == {"group": new_id, "also_known_as": [old_id], "moved_to": None}
    assert await c.get("/api/v1/admin/groups/breitband/aliases", admin_c) == aliases
    doc = (await c.client.get("/groups/breitband", headers={"Accept": AP})).json()
    assert doc["alsoKnownAs"] == [old_id] and "movedTo" not in doc

    # The new group follows the old one until the move: the history is backfilled.
    async def history(ref: str) -> None:
        assert await thread_titles(c, ref) == ["Funkloch am Bahnhof",
                                               "Glasfaser in Nebendorf"]

    await eventually(lambda: history(f"breitband@{a.host}"), timeout=30)
    assert (await a.get("/api/v1/groups/breitband"))["follower_count"] == 1

    # Now the move goes through.
    moved = await a.call("POST", "/api/v1/admin/groups/breitband/move", admin_a,
                         json={"target": f"breitband@{c.host}"})
    assert moved["moved_to"] == new_id
    # The Move reaches C (its group follows): the history is the new group's now, with
    # the posts' ids on the old host; the new group follows the old one no more.
    await eventually(lambda: history("breitband"), timeout=30)
    page = await c.get("/api/v1/groups/breitband/threads")
    assert all(t["ap_id"].startswith(f"{a.server.url}/posts/") for t in page["items"]), page
    assert await thread_titles(c, f"breitband@{a.host}") == []

    async def unfollowed() -> None:
        assert (await a.get("/api/v1/groups/breitband"))["follower_count"] == 0

    await eventually(unfollowed)
    # Again to the same target: nothing changes; elsewhere: refused.
    again = await a.call("POST", "/api/v1/admin/groups/breitband/move", admin_a,
                         json={"target": f"breitband@{c.host}"})
    assert again == moved
    await make_group(c.ctx, "anderes")
    await c.call("POST", "/api/v1/admin/groups/anderes/aliases", admin_c,
                 json={"actor": f"breitband@{a.host}"})
    r = await a.client.post("/api/v1/admin/groups/breitband/move", headers=admin_a.headers,
                            json={"target": f"anderes@{c.host}"})
    assert r.status_code == 409 and r.json()["error"] == "already_moved", r.text
    async with a.ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM modlog WHERE action = 'group_move'") == 1

    # The old instance: pages redirect, ActivityPub gets the moved actor.
    page_r = await a.client.get("/groups/breitband", headers={"Accept": "text/html"})
    assert page_r.status_code == 301 and page_r.headers["location"] == new_id
    doc = (await a.client.get("/groups/breitband", headers={"Accept": AP})).json()
    assert doc["movedTo"] == new_id and doc["id"] == old_id
    # No new threads, no new members there; the sentence says where the group is now.
    r = await a.client.post("/api/v1/groups/breitband/threads", headers=anna.headers,
                            json={"title": "Noch eins", "content": "Hallo"})
    assert r.status_code == 403 and r.json()["error"] == "group_moved", r.text
    assert new_id in r.json()["message"]
    r = await a.client.post("/api/v1/groups/breitband/follow", headers=anna.headers)
    assert r.status_code == 403 and r.json()["error"] == "group_moved", r.text

    # An alias can be removed again.
    left = await c.call("DELETE", f"/api/v1/admin/groups/anderes/aliases/breitband@{a.host}",
                        admin_c)
    assert left["also_known_as"] == []
    r = await c.client.delete(f"/api/v1/admin/groups/anderes/aliases/breitband@{a.host}",
                              headers=admin_c.headers)
    assert r.status_code == 404, r.text


async def test_members_on_b_follow_the_group_to_c_and_a_replayed_move_changes_nothing(
        three: tuple[Side, Side, Side]) -> None:
    a, b, c = three
    await make_group(a.ctx, "breitband")
    anna = await make_user(a.ctx, "anna")  # a member on A itself
    await a.call("POST", "/api/v1/groups/breitband/follow", anna)
    admin_a = await make_user(a.ctx, "admina", admin=True)
    admin_c = await make_user(c.ctx, "adminc", admin=True)
    carla = await make_user(c.ctx, "carla")
    bert = await make_user(b.ctx, "bert")
    await join(b, f"breitband@{a.host}", bert)

    await new_group_with_alias(c, admin_c, f"breitband@{a.host}")
    await a.call("POST", "/api/v1/admin/groups/breitband/move", admin_a,
                 json={"target": f"breitband@{c.host}"})

    # Bert now follows the group on C, no longer the one on A; so does anna.
    async def moved() -> None:
        on_c = await b.get(f"/api/v1/groups/breitband@{c.host}", bert)
        assert on_c["follow_state"] == "accepted", on_c
        on_a = await b.get(f"/api/v1/groups/breitband@{a.host}", bert)
        assert on_a["follow_state"] == "none", on_a
        on_c = await a.get(f"/api/v1/groups/breitband@{c.host}", anna)
        assert on_c["follow_state"] == "accepted", on_c

    await eventually(moved, timeout=30)
    await idle(a, b, c)
    assert (await c.get("/api/v1/groups/breitband"))["follower_count"] == 2
    async with b.ctx.pool.acquire() as conn:
        old = await actor_store.by_ap_id(conn, f"{a.server.url}/groups/breitband")
    assert old is not None and old.moved_to == f"{c.server.url}/groups/breitband"
    # Following the old address again is refused on B already, saying where to go.
    r = await b.client.post(f"/api/v1/groups/breitband@{a.host}/follow",
                            headers=bert.headers)
    assert r.status_code == 403 and r.json()["error"] == "group_moved", r.text
    assert f"{c.server.url}/groups/breitband" in r.json()["message"]

    # A new thread on C reaches B.
    await c.call("POST", "/api/v1/groups/breitband/threads", carla, status=201,
                 json={"title": "Neue Heimat", "content": "Willkommen auf C."})

    async def arrived() -> None:
        assert "Neue Heimat" in await thread_titles(b, f"breitband@{c.host}")

    await eventually(arrived)

    # The Move again, as sent and with a fresh id: nothing changes on B.
    async with a.ctx.pool.acquire() as conn:
        move = await conn.fetchval("SELECT payload FROM activities WHERE type = 'Move'")
        group = await actor_store.by_ap_id(conn, f"{a.server.url}/groups/breitband")
        assert group is not None
        key = await signing_key(conn, group)

    async def counts() -> tuple[int, int]:
        async with b.ctx.pool.acquire() as conn:
            return (int(await conn.fetchval("SELECT count(*) FROM follows")),
                    int(await conn.fetchval("SELECT count(*) FROM deliveries")))

    before = await counts()
    # (The fresh copy without the integrity proof, which covered the old id.)
    fresh = {k: v for k, v in move.items() if k != "proof"} | {"id": move["id"] + "-again"}
    for body in (move, fresh):
        result = await deliver(b.ctx.http, f"{b.server.url}/inbox", body, key=key,
                               allow_private=True)
        assert result.outcome == "delivered", result
    await idle(b)
    assert await counts() == before
    on_c = await b.get(f"/api/v1/groups/breitband@{c.host}", bert)
    assert on_c["follow_state"] == "accepted"


async def test_the_admin_pages_set_the_alias_and_move_the_group_in_german(
        three: tuple[Side, Side, Side]) -> None:
    a, _, c = three
    await make_group(a.ctx, "breitband")
    await make_user(a.ctx, "admina", admin=True)
    await make_user(a.ctx, "anna")
    await make_user(c.ctx, "adminc", admin=True)
    await make_group(c.ctx, "breitband")
    german = {"Accept-Language": "de"}
    async with httpx.AsyncClient(base_url=a.server.url, headers=german) as web_a, \
            httpx.AsyncClient(base_url=c.server.url, headers=german) as web_c, \
            httpx.AsyncClient(base_url=a.server.url, headers=german) as web_anna:
        await log_in(web_a, "admina")
        await log_in(web_c, "adminc")
        await log_in(web_anna, "anna")
        assert (await web_anna.get("/admin/groups/breitband/move")).status_code == 403
        settings = await web_a.get("/admin/groups/breitband")
        assert 'href="/admin/groups/breitband/move"' in settings.text

        # Without the alias: the German sentence says what is missing.
        url = "/admin/groups/breitband/move"
        r = await post_form(web_a, url, url, {"action": "move",
                                              "target": f"breitband@{c.host}"})
        assert r.status_code == 422
        assert "nennt diese Gruppe noch nicht als Alias" in r.text

        r = await post_form(web_c, url, url, {"action": "alias",
                                              "actor": f"breitband@{a.host}"})
        assert r.status_code == 303, r.text
        shown = await web_c.get(url)
        assert f"{a.server.url}/groups/breitband" in shown.text
        assert "Eine Gruppe hierher umziehen" in shown.text

        r = await post_form(web_a, url, url, {"action": "move",
                                              "target": f"breitband@{c.host}"})
        assert r.status_code == 303, r.text
        shown = await web_a.get(url)
        assert f"Diese Gruppe ist nach {c.server.url}/groups/breitband umgezogen." \
            in shown.text
        assert 'value="move"' not in shown.text  # no second move offered
