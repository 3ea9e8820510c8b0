"""PieFed's ``ChooseAnswer`` arriving at one of our groups, signed over real HTTP from a
loopback peer.

The shape is PieFed's own: ``send_answer`` in ``app/shared/tasks/notes.py`` of PieFed
(read in the theatl-social/pyfedi mirror of codeberg.org/rimu/pyfedi) sends
``{"id": ".../activities/answer/<random>", "type": "ChooseAnswer", "actor": <person>,
"object": <reply id>, "audience": <community>, "to": [Public], "cc": [<community>]}``
with PieFed's default context, and ``Undo`` of it to withdraw. Only the asker (or a
moderator of the group) may choose: anyone else's is refused and changes nothing.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.constants import AS, PUBLIC
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, mastodon_create, new_id, peer  # noqa: F401

# PieFed's default_context() (app/activitypub/signature.py), as it sends it.
PIEFED_CONTEXT = [AS, "https://w3id.org/security/v1"]


def choose_answer(actor: dict[str, Any], reply_id: str, group_id: str) -> dict[str, Any]:
    base = actor["id"].rsplit("/u/", 1)[0].rsplit("/users/", 1)[0]
    return {"id": new_id(base, "activities/answer"), "type": "ChooseAnswer",
            "actor": actor["id"], "object": reply_id, "@context": PIEFED_CONTEXT,
            "audience": group_id, "to": [PUBLIC], "cc": [group_id]}


def undo(actor: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    base = actor["id"].rsplit("/users/", 1)[0]
    embedded = {k: v for k, v in inner.items() if k != "@context"}
    return {"id": new_id(base, "activities/undo"), "type": "Undo", "actor": actor["id"],
            "object": embedded, "@context": PIEFED_CONTEXT, "audience": inner["audience"],
            "to": [PUBLIC], "cc": inner["cc"]}


async def test_the_asker_chooses_and_withdraws_others_are_refused(fed: Fed) -> None:  # noqa: F811
    asker = fed.remote(0, "rimu")
    stranger = fed.remote(1, "eve")
    anna = await make_user(fed.ctx, "anna")
    create = mastodon_create(asker, fed.group, text="Wer kennt den Förderantrag?")
    await fed.send(asker, create)
    await fed.process()
    thread_id = await fed.fetchval("SELECT id FROM posts WHERE ap_id = $1",
                                   create["object"]["id"])
    assert thread_id is not None
    async with httpx.AsyncClient(base_url=fed.server.url) as api:
        r = await api.post(f"/api/v1/posts/{thread_id}/replies", headers=anna.headers,
                           json={"content": "Ich: beim Land."})
        assert r.status_code == 201, r.text
        reply = r.json()

        async def thread() -> Any:
            return (await api.get(f"/api/v1/posts/{thread_id}")).json()

        # Someone else's choice is refused.
        theirs = choose_answer(stranger, reply["ap_id"], fed.group.ap_id)
        await fed.send(stranger, theirs)
        await fed.process()
        row = await fed.row(theirs["id"])
        assert row.state == "ignored" and "Only the person who asked" in (row.last_error or "")
        assert (await thread())["state"] == "answered"

        # The asker's is taken: solved, with a notification event.
        chosen = choose_answer(asker, reply["ap_id"], fed.group.ap_id)
        await fed.send(asker, chosen)
        await fed.process()
        assert (await fed.row(chosen["id"])).state == "done"
        shown = await thread()
        assert (shown["state"], shown["accepted_answer_id"], shown["kind"]) == \
            ("solved", reply["id"], "question")
        assert await fed.fetchval("SELECT payload FROM notification_events"
                                  " WHERE kind = 'accepted_answer'") == {
            "thread_id": thread_id, "answer_id": reply["id"], "actor_id": await fed.fetchval(
                "SELECT id FROM actors WHERE ap_id = $1", asker["id"])}
        # The asker is no moderator: nothing in the modlog.
        assert await fed.fetchval("SELECT count(*) FROM modlog") == 0

        # A stranger's Undo of the asker's choice is refused; the asker's withdraws it.
        forged = undo(stranger, chosen)
        await fed.send(stranger, forged)
        await fed.process()
        assert (await fed.row(forged["id"])).state == "ignored"
        assert (await thread())["state"] == "solved"
        withdrawn = undo(asker, chosen)
        await fed.send(asker, withdrawn)
        await fed.process()
        assert (await fed.row(withdrawn["id"])).state == "done"
        shown = await thread()
        assert (shown["state"], shown["accepted_answer_id"]) == ("answered", None)


async def test_a_moderator_of_our_group_may_choose_and_it_is_logged(fed: Fed) -> None:  # noqa: F811
    asker = fed.remote(0, "rimu")
    moderator = fed.remote(2, "mod")
    anna = await make_user(fed.ctx, "anna")
    create = mastodon_create(asker, fed.group, text="Wann kommt das Netz?")
    await fed.send(asker, create)
    await fed.process()
    # The remote moderator is known here and moderates our group.
    await fed.send(moderator, mastodon_create(moderator, fed.group, text="Hallo"))
    await fed.process()
    async with fed.ctx.pool.acquire() as conn:
        mod_id = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1", moderator["id"])
        await conn.execute("INSERT INTO group_moderators (group_id, actor_id) VALUES ($1, $2)",
                           fed.group.id, mod_id)
        thread_id = await conn.fetchval("SELECT id FROM posts WHERE ap_id = $1",
                                        create["object"]["id"])
    async with httpx.AsyncClient(base_url=fed.server.url) as api:
        r = await api.post(f"/api/v1/posts/{thread_id}/replies", headers=anna.headers,
                           json={"content": "Im Mai."})
        reply = r.json()
        chosen = choose_answer(moderator, reply["ap_id"], fed.group.ap_id)
        await fed.send(moderator, chosen)
        await fed.process()
        assert (await fed.row(chosen["id"])).state == "done"
        shown = (await api.get(f"/api/v1/posts/{thread_id}")).json()
        assert shown["accepted_answer_id"] == reply["id"]
    entry = await fed.fetchrow("SELECT action, remote, moderator_id, target_post_id, ap_id"
                               " FROM modlog")
    assert dict(entry) == {"action": "answer_accept", "remote": True, "moderator_id": mod_id,
                           "target_post_id": thread_id, "ap_id": chosen["id"]}
