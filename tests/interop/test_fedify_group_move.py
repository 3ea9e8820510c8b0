"""A group moves from instance A to instance C (FEP-7628) while a user on instance B and
the Fedify peer follow it: both end up following the group on C, and a new thread on C
reaches both (issue 20, "Done when", the three-instance test).

Three dEMiSA instances over loopback (A, B, C, each with its workers) and the Fedify
1.5.9 peer. Fedify is a framework: it verifies the Move and hands it to the peer's inbox
listener, but does not re-follow by itself. The peer's "Move (FEP-7628)" block in
tests/interop/peer/peer.mjs does what Mastodon does with a Move of an actor it follows
(MoveWorker): it fetches the target afresh, and when the target's ``alsoKnownAs`` names
the origin it follows the target and unfollows the origin. So this test shows that
Fedify accepts our Move (signature and shape) and that our documents give a
Mastodon-like follower what it needs; the re-follow decision itself is the peer's
stand-in for Mastodon's, not Fedify's own code. dEMiSA's side of a remote move (B) is
fedi/inbound/move.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.interop.conftest import Demisa, FedifyPeer
from tests.support.federation_helpers import Side, eventually, join
from tests.support.helpers import make_user


async def test_followers_on_b_and_fedify_follow_the_group_from_a_to_c(
        peer: FedifyPeer, ours: Demisa,
        instance: Callable[..., Awaitable[LiveServer]]) -> None:
    a = ours
    old_id, handle_a = a.group_id, a.group_handle
    b_server = await instance(workers=1)
    c_server = await instance(workers=1)
    async with httpx.AsyncClient(base_url=b_server.url, timeout=30.0) as cb, \
            httpx.AsyncClient(base_url=c_server.url, timeout=30.0) as cc:
        b, c = Side(b_server, cb), Side(c_server, cc)
        new_id = f"{c.server.url}/groups/breitband"
        bert = await make_user(b.ctx, "bert")
        carla = await make_user(c.ctx, "carla")
        admin_a = await make_user(a.ctx, "admina", admin=True)
        admin_c = await make_user(c.ctx, "adminc", admin=True)

        # Followers of the group on A: bert on B and the Fedify peer.
        await join(b, handle_a, bert)
        await peer.follow(handle_a)

        async def peer_follows(target: str) -> dict[str, Any]:
            record = await peer.following(target)
            assert record is not None and record["state"] == "accepted", record
            return record

        await eventually(lambda: peer_follows(old_id))

        # C's admin creates the group and names A's as its alias; A's admin moves it.
        await c.call("POST", "/api/v1/admin/groups", admin_c, status=201,
                     json={"name": "breitband", "title": "Breitbandausbau"})
        await c.call("POST", "/api/v1/admin/groups/breitband/aliases", admin_c,
                     json={"actor": handle_a})
        moved = await a.call("POST", "/api/v1/admin/groups/breitband/move", admin_a,
                             json={"target": f"breitband@{c.host}"})
        assert moved["moved_to"] == new_id

        # Fedify verified the Move (it reached the inbox listener) ...
        async def move_seen() -> dict[str, Any]:
            moves = [m for m in await peer.inbox(actor=old_id) if m["type"] == "Move"]
            assert len(moves) == 1, moves
            return moves[0]

        move = await eventually(move_seen)
        assert move["raw"]["object"] == old_id and move["raw"]["target"] == new_id
        # ... and the peer, as Mastodon would, follows the group on C, not A's.
        record = await eventually(lambda: peer_follows(new_id), timeout=30)
        assert record["target"] == new_id
        old = await peer.following(old_id)
        assert old is not None and old["state"] == "undone" and old["moved_to"] == new_id
        assert [m["result"] for m in (await peer.call("moves"))["moves"]] == ["followed"]

        # Bert on B follows the group on C now, not the one on A.
        async def bert_moved() -> None:
            on_c = await b.get(f"/api/v1/groups/breitband@{c.host}", bert)
            on_a = await b.get(f"/api/v1/groups/{handle_a}", bert)
            assert (on_c["follow_state"], on_a["follow_state"]) == ("accepted", "none")

        await eventually(bert_moved, timeout=30)

        async def followers_on_c() -> None:
            assert (await c.get("/api/v1/groups/breitband"))["follower_count"] == 2

        await eventually(followers_on_c)

        # A new thread on C reaches both.
        thread = await c.call("POST", "/api/v1/groups/breitband/threads", carla,
                              status=201, json={"title": "Neue Heimat",
                                                "content": "Die Gruppe ist jetzt hier."})

        async def on_b() -> None:
            page = await b.get(f"/api/v1/groups/breitband@{c.host}/threads")
            assert [t["ap_id"] for t in page["items"]] == [thread["ap_id"]], page

        await eventually(on_b)

        async def at_peer() -> None:
            announces = [e for e in await peer.inbox(actor=new_id) if e["type"] == "Announce"]
            objects = [e["raw"]["object"] for e in announces]
            ids = [o if isinstance(o, str) else (o.get("object") or {}).get("id", o.get("id"))
                   for o in objects]
            assert thread["ap_id"] in ids, objects

        await eventually(at_peer)

        # Following the old address again: A rejects it, saying where the group is now.
        await peer.follow(handle_a)

        async def rejected() -> None:
            record = await peer.following(old_id)
            assert record is not None and record["state"] == "rejected", record

        await eventually(rejected)

        async def reason() -> None:
            rejects = [e for e in await peer.inbox(actor=old_id) if e["type"] == "Reject"]
            assert rejects and new_id in (rejects[-1]["raw"].get("summary") or ""), rejects

        await eventually(reason)
