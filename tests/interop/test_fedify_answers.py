"""Accepted answers across instances (issue 15, "Done when"): B's user asks in A's group,
A's user answers, B's user accepts the answer on B. A and B both show the thread solved
with the same answer, and the Fedify peer following A's group receives the group's
Announce of the asker's Update, whose object it can look up strictly and which names the
accepted answer (FEDERATION.md, "Accepted answers")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from fedi.core.context import Context
from tests.conftest import LiveServer
from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import assert_verified_by_http_signature, follow_group
from tests.support.federation_helpers import Side, eventually, join
from tests.support.helpers import make_group, make_user


async def test_a_question_solved_on_b_is_solved_on_a_and_for_the_peer(
        peer: FedifyPeer, instance: Callable[..., Awaitable[LiveServer]]) -> None:
    server_a = await instance(workers=1)
    server_b = await instance(workers=1)
    ctx_a: Context = server_a.app.state.ctx
    group = await make_group(ctx_a)
    assert group.public_key_id is not None
    async with httpx.AsyncClient(base_url=server_a.url, timeout=30.0) as api_a, \
            httpx.AsyncClient(base_url=server_b.url, timeout=30.0) as api_b:
        a = Demisa(server_a, api_a, group.ap_id, group.public_key_id)
        b = Side(server_b, api_b)
        await follow_group(peer, a)
        anna = await a.user("anna")
        bert = await make_user(b.ctx, "bert")
        ref = a.group_handle
        await join(b, ref, bert)

        # Bert asks on B; the thread reaches A as a question.
        asked = await b.call("POST", f"/api/v1/groups/{ref}/threads", bert, status=201,
                             json={"title": "Wie kamen Sie an die Förderung für Glasfaser?",
                                   "content": "Der Förderantrag ist lang."})
        assert (asked["kind"], asked["state"]) == ("question", "open")

        async def on_a() -> dict[str, Any]:
            page = await a.get("/api/v1/groups/breitband/threads")
            found = [t for t in page["items"] if t["ap_id"] == asked["ap_id"]]
            assert found, page
            return dict(found[0])

        thread_a = await eventually(on_a)
        assert (thread_a["kind"], thread_a["state"]) == ("question", "open")

        # Anna answers on A; the answer reaches B.
        answer_a = await a.call("POST", f"/api/v1/posts/{thread_a['id']}/replies", anna,
                                status=201, json={"content": "Über das Gigabit-Programm."})

        async def answer_on_b() -> dict[str, Any]:
            tree = await b.get(f"/api/v1/posts/{asked['id']}")
            found = [r for r in tree["replies"] if r["ap_id"] == answer_a["ap_id"]]
            assert found, tree
            return dict(found[0])

        answer_b = await eventually(answer_on_b)

        # Bert accepts it on B.
        chosen = await b.call("POST", f"/api/v1/posts/{answer_b['id']}/accept", bert)
        assert chosen == {"thread_id": asked["id"], "accepted_answer_id": answer_b["id"],
                          "state": "solved"}

        # A shows it solved with the same answer (its own post, the same ap_id).
        async def solved_on_a() -> dict[str, Any]:
            shown: dict[str, Any] = await a.get(f"/api/v1/posts/{thread_a['id']}")
            assert shown["state"] == "solved", shown
            return shown

        shown_a = await eventually(solved_on_a)
        shown_b = await b.get(f"/api/v1/posts/{asked['id']}")
        assert shown_a["accepted_answer_id"] == answer_a["id"]
        assert shown_b["state"] == "solved"
        assert shown_b["accepted_answer_id"] == answer_b["id"]
        assert answer_b["ap_id"] == answer_a["ap_id"]
        # Both list the accepted answer first; A stores no "✔ Gelöst" line in the text.
        assert shown_a["replies"][0]["id"] == answer_a["id"]
        assert "Gelöst" not in shown_a["content"]
        solved = await a.get("/api/v1/groups/breitband/threads?state=solved")
        assert [t["ap_id"] for t in solved["items"]] == [asked["ap_id"]]

        # The peer following A's group got the group's Announce of Bert's Update, verified.
        async def update_at_peer() -> dict[str, Any]:
            for entry in await peer.inbox(actor=a.group_id):
                inner = entry["raw"].get("object")
                if entry["type"] == "Announce" and isinstance(inner, dict) \
                        and inner.get("type") == "Update":
                    return entry
            raise AssertionError("no Announce(Update) from the group yet")

        entry = await eventually(update_at_peer)
        assert_verified_by_http_signature(entry, a.group_key_id)
        update = entry["raw"]["object"]
        assert update["actor"] == bert.actor.ap_id
        assert update["object"]["id"] == asked["ap_id"]
        assert update["object"]["acceptedAnswer"] == answer_a["ap_id"]
        assert "✔ Gelöst" in update["object"]["content"]

        # Fedify looks the object up strictly, at its id on B: a Note naming the answer.
        fetched = await peer.fetch(asked["ap_id"])
        assert fetched["ok"] is True, fetched
        assert fetched["fedify"]["type"] == "Note" and fetched["fedify"]["id"] == asked["ap_id"]
        assert fetched["json"]["acceptedAnswer"] == answer_a["ap_id"]
        assert fetched["json"]["answerCount"] == 1
        assert fetched["json"]["@context"][-1]["acceptedAnswer"] == {
            "@id": "schema:acceptedAnswer", "@type": "@id"}
