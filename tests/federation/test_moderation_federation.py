"""Federated moderation between two dEMiSA instances on loopback, in both directions: the
"home" instance has the group and its moderator, the "away" instance a member who takes
part from there. A removal, a lock, a ban and a report sent from one side reach the
other and take effect there. Observed through each side's API and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.federation_helpers import Instance, Side, eventually, idle, join
from tests.support.helpers import make_group, make_user


@pytest.fixture(params=["group-on-a", "group-on-b"])
async def home_away(request: pytest.FixtureRequest, instance: Instance
                    ) -> AsyncIterator[tuple[Side, Side]]:
    a = await instance(workers=1)
    b = await instance(workers=1)
    async with httpx.AsyncClient(base_url=a.url) as ca, \
            httpx.AsyncClient(base_url=b.url) as cb:
        sides = (Side(a, ca), Side(b, cb))
        yield sides if request.param == "group-on-a" else (sides[1], sides[0])


async def fetchval(side: Side, sql: str, *args: Any) -> Any:
    async with side.ctx.pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def test_removal_lock_ban_and_report_cross_instances(
        home_away: tuple[Side, Side]) -> None:
    home, away = home_away
    mod = await make_user(home.ctx, "mod")
    anna = await make_user(home.ctx, "anna")
    await make_group(home.ctx, "rat", moderators=[mod.actor])
    bert = await make_user(away.ctx, "bert")
    ref = f"rat@{home.host}"
    await join(away, ref, bert)

    # Bert's thread reaches home; anna's thread reaches away.
    mine = await away.call("POST", f"/api/v1/groups/{ref}/threads", bert, status=201,
                           json={"title": "Werbung!", "content": "Kauft Zeug"})
    theirs = await home.call("POST", "/api/v1/groups/rat/threads", anna, status=201,
                             json={"title": "Haushalt 2027", "content": "Eure Meinung?"})

    async def home_copy() -> int:
        found = await fetchval(home, "SELECT id FROM posts WHERE ap_id = $1", mine["ap_id"])
        assert found is not None
        return int(found)

    async def away_copy() -> int:
        found = await fetchval(away, "SELECT id FROM posts WHERE ap_id = $1", theirs["ap_id"])
        assert found is not None
        return int(found)

    mine_home = await eventually(home_copy)
    theirs_away = await eventually(away_copy)

    # Removal: home's moderator removes bert's thread -> gone on away too.
    await home.call("POST", f"/api/v1/admin/posts/{mine_home}/remove", mod,
                    json={"reason": "Werbung"})

    async def removed_away() -> None:
        r = await away.client.get(f"/api/v1/posts/{mine['id']}")
        assert r.status_code == 404, r.text

    await eventually(removed_away)
    entry = (await away.get("/api/v1/modlog"))["items"][0]
    assert (entry["action"], entry["remote"], entry["reason"]) == ("post_remove", True,
                                                                   "Werbung")
    assert entry["group"] == ref

    # Lock: home locks anna's thread -> away refuses bert's reply locally.
    await home.call("POST", f"/api/v1/admin/posts/{theirs['id']}/lock", mod,
                    json={"reason": "Genug"})

    async def locked_away() -> None:
        r = await away.client.post(f"/api/v1/posts/{theirs_away}/replies",
                                   headers=bert.headers, json={"content": "Noch was"})
        assert r.status_code == 403 and r.json()["error"] == "thread_locked", r.text

    await eventually(locked_away)
    await home.call("POST", f"/api/v1/admin/posts/{theirs['id']}/unlock", mod)

    async def unlocked_away() -> None:
        assert await fetchval(away, "SELECT locked FROM posts WHERE id = $1",
                              theirs_away) is False

    await eventually(unlocked_away)

    # Ban: home bans bert from the group -> away records it and refuses his posts there.
    ban = await home.call("POST", "/api/v1/admin/bans", mod, status=201, json={
        "actor": f"bert@{away.host}", "group": "rat", "reason": "Spam",
        "expires_at": "2099-01-01T00:00:00Z"})

    async def ban_recorded() -> Any:
        row = await fetchval(
            away, "SELECT row_to_json(b) FROM bans b JOIN actors g ON g.id = b.group_id"
            " WHERE b.actor_id = $1 AND g.ap_id = $2 AND b.lifted_at IS NULL",
            bert.actor.id, f"http://{home.host}/groups/rat")
        assert row is not None
        return row

    recorded = await eventually(ban_recorded)
    assert recorded["reason"] == "Spam" and recorded["expires_at"].startswith("2099-01-01")
    r = await away.client.post(f"/api/v1/groups/{ref}/threads", headers=bert.headers,
                               json={"title": "Trotzdem", "content": "x"})
    assert r.status_code == 403 and r.json()["error"] == "banned", r.text

    # Were away not to honour the ban, home refuses the post with a Reject.
    async with away.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE bans SET lifted_at = now() WHERE actor_id = $1",
                           bert.actor.id)
    sneaky = await away.call("POST", f"/api/v1/groups/{ref}/threads", bert, status=201,
                             json={"title": "Trotzdem", "content": "x"})

    async def rejected() -> None:
        count = await fetchval(
            home, "SELECT count(*) FROM activities WHERE type = 'Reject'"
            " AND payload -> 'object' -> 'object' ->> 'id' = $1", sneaky["ap_id"])
        assert count == 1

    await eventually(rejected)
    assert await fetchval(home, "SELECT count(*) FROM posts WHERE ap_id = $1",
                          sneaky["ap_id"]) == 0
    async with away.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE bans SET lifted_at = NULL WHERE actor_id = $1",
                           bert.actor.id)

    # Lifting the ban at home lifts it away (Undo(Block)).
    await home.call("DELETE", f"/api/v1/admin/bans/{ban['id']}", mod)

    async def ban_lifted() -> None:
        assert await fetchval(away, "SELECT count(*) FROM bans WHERE actor_id = $1"
                              " AND lifted_at IS NULL", bert.actor.id) == 0

    await eventually(ban_lifted)

    # Report: bert reports anna's thread on away -> home's moderator sees and resolves it,
    # and away's copy of the report is resolved too.
    report = await away.call("POST", "/api/v1/reports", bert, status=201,
                             json={"post_id": theirs_away, "reason": "Falsche Zahlen"})
    assert report["forwarded_to"] == home.host

    async def arrived() -> dict[str, Any]:
        items = (await home.get("/api/v1/admin/reports", mod))["items"]
        assert len(items) == 1, items
        return dict(items[0])

    got = await eventually(arrived)
    assert got["remote"] is True and got["reporter"] == f"bert@{away.host}"
    assert got["reason"] == "Falsche Zahlen" and got["post_ids"] == [theirs["id"]]
    assert got["group"] == f"rat@{home.host}"
    await home.call("POST", f"/api/v1/admin/reports/{got['id']}/resolve", mod,
                    json={"resolution": "Zahlen korrigiert"})

    async def resolved_away() -> None:
        assert await fetchval(away, "SELECT state FROM reports WHERE id = $1",
                              report["id"]) == "resolved"

    await eventually(resolved_away)
    await idle(home, away)
