"""Reject reasons in the group's language with an English fallback (issue 20, part 6):
the policy's sentence in ``summary``/``content`` in the group's language (or, for a
group without one and for users, the instance's default language), and both languages
in ``summaryMap``/``contentMap``."""

from __future__ import annotations

from storage import instance_settings as settings_store
from storage import moderation
from tests.support.helpers import make_group
from tests.support.inbound_fixtures import Fed, fed, follow, peer

__all__ = ["fed", "peer"]  # fixtures

GERMAN = "Sie sind in dieser Gruppe gesperrt. Grund: Spam"
ENGLISH = "You are banned from this group. Reason: Spam"


async def _banned_follow(fed: Fed, group_ap_id: str, group_id: int) -> dict[str, object]:
    alice = fed.remote(0, "alice")
    await fed.send(alice, follow(alice, fed.group.ap_id))  # caches Alice
    await fed.process()
    async with fed.ctx.pool.acquire() as conn:
        alice_id = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1", alice["id"])
        await moderation.ban(conn, actor_id=alice_id, group_id=group_id, reason="Spam")
    request = follow(alice, group_ap_id)
    await fed.send(alice, request)
    await fed.process()
    (reject,) = [r for r in await fed.queued("Reject") if r["object"]["id"] == request["id"]]
    return reject


async def test_a_german_group_rejects_in_german_with_english_beside(fed: Fed) -> None:
    reject = await _banned_follow(fed, fed.group.ap_id, fed.group.id)  # language "de"
    assert reject["summary"] == reject["content"] == GERMAN
    assert reject["contentMap"] == reject["summaryMap"] == {"de": GERMAN, "en": ENGLISH}
    (delivered,) = await fed.peer.wait_for("Reject")
    assert delivered.activity["contentMap"]["en"] == ENGLISH


async def test_an_english_group_and_the_instance_default(fed: Fed) -> None:
    english = await make_group(fed.ctx, "broadband", language="en")
    reject = await _banned_follow(fed, english.ap_id, english.id)
    assert reject["summary"] == reject["content"] == ENGLISH
    assert reject["contentMap"] == {"en": ENGLISH}
    # A group without a language speaks the instance's default language.
    unset = await make_group(fed.ctx, "foerdermittel", language=None)
    async with fed.ctx.pool.acquire() as conn:
        await settings_store.set_many(conn, {"instance_default_language": "en"})
        alice_id = await conn.fetchval("SELECT id FROM actors WHERE ap_id LIKE '%/alice'")
        await moderation.ban(conn, actor_id=alice_id, group_id=unset.id, reason="Spam")
    alice = fed.remote(0, "alice")
    request = follow(alice, unset.ap_id)
    await fed.send(alice, request)
    await fed.process()
    (reject,) = [r for r in await fed.queued("Reject") if r["object"]["id"] == request["id"]]
    assert reject["content"] == ENGLISH
