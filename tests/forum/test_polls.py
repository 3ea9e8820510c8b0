"""Polls (issue 20, part 4): creating one with a thread (API), validation, local votes
once per actor (single and multiple choice), the end, the JSON shape against the OpenAPI
document, the thread as a Question, remote votes as Mastodon sends them (counted once, a
replay changes nothing), the Update(Question) after a vote, and remote polls: shown
with their origin's counts, voted on by a local user (a Create(Note{name, inReplyTo})
to the poll's author), counts from the origin's Update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import storage
from activitypub import vocab
from fedi.core.errors import ValidationFailed
from fedi.forum import poll_updates, poll_votes
from fedi.forum.polls import check_poll
from fedi.routes import api_polls_spec
from tests.routes.test_openapi import Api
from tests.support.constants import AS, PUBLIC
from tests.support.helpers import User, make_user
from tests.support.inbound_fixtures import Fed, fed, follow, mastodon_create, new_id, peer

__all__ = ["fed", "peer"]  # fixtures

THREADS = "/api/v1/groups/breitband/threads"


def _in(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def mastodon_vote(voter: dict[str, Any], question_id: str, poll_author: str, option: str,
                  number: int) -> dict[str, Any]:
    """A vote as Mastodon sends it (app/serializers/activitypub/vote_serializer.rb: the
    Note's id is ``<account>#votes/<id>``, the Create's ``<account>#votes/<id>/activity``;
    name = the option, inReplyTo = the poll's status, to = the poll's author, no
    content)."""
    note_id = f"{voter['id']}#votes/{number}"
    return {"@context": AS, "id": f"{note_id}/activity", "type": "Create",
            "actor": voter["id"], "to": poll_author,
            "object": {"id": note_id, "type": "Note", "name": option,
                       "attributedTo": voter["id"], "inReplyTo": question_id,
                       "to": poll_author}}


async def _poll_thread(api: Api, user: User, **poll: Any) -> Any:
    return await api("POST", THREADS, user, status=201, json={
        "title": "Welcher Termin passt für das Glasfaser-Treffen?",
        "content": "Bitte stimmen Sie ab.",
        "poll": {"options": ["Montag", "Dienstag", "Mittwoch"], "ends_at": _in(24), **poll}})


async def _document(fed: Fed, ap_id: str) -> Any:
    async with httpx.AsyncClient() as client:
        r = await client.get(ap_id, headers={"Accept": "application/activity+json"})
    assert r.status_code == 200, r.text
    return r.json()


def test_validation_says_what_is_wrong() -> None:
    now = datetime.now(UTC)
    later = (now + timedelta(days=1)).isoformat()
    cases = [
        ({"options": ["Ja"], "ends_at": later}, "2 to 10 options"),
        ({"options": [str(i) for i in range(11)], "ends_at": later}, "2 to 10 options"),
        ({"options": ["Ja", " ja "], "ends_at": later}, "differ"),
        ({"options": ["Ja", "x" * 101], "ends_at": later}, "100 characters"),
        ({"options": ["Ja", "Nein"], "ends_at": (now - timedelta(hours=1)).isoformat()},
         "5 minutes"),
        ({"options": ["Ja", "Nein"], "ends_at": (now + timedelta(days=91)).isoformat()},
         "90 days"),
        ({"options": ["Ja", "Nein"], "ends_at": "morgen"}, "not a valid date"),
        ({"options": ["Ja", "Nein"], "multiple": "ja"}, "true or false"),
        ({"options": "Ja, Nein"}, "list of texts"),
        ({"options": ["Ja", "Nein"], "anonymous": True}, "unknown fields"),
        ("Ja", "must be an object"),
    ]
    for value, expected in cases:
        with pytest.raises(ValidationFailed, match=expected) as caught:
            check_poll(value, now)
        assert caught.value.field == "poll"
    spec = check_poll({"options": [" Ja ", "Nein"]}, now)
    assert spec is not None and spec.options == ("Ja", "Nein") and not spec.multiple
    assert spec.ends_at - now == timedelta(days=7)
    assert check_poll(None) is None


async def test_create_vote_once_and_the_json_matches_the_document(fed: Fed) -> None:
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        api = Api(client)
        anna = await make_user(fed.ctx, "anna")
        ben = await make_user(fed.ctx, "ben")
        carl = await make_user(fed.ctx, "carl")
        await api("POST", THREADS, anna, status=422, json={
            "title": "Abstimmung", "content": "Text", "poll": {"options": ["nur eine"]}})
        thread = await _poll_thread(api, anna)
        poll = thread["poll"]
        assert [o["title"] for o in poll["options"]] == ["Montag", "Dienstag", "Mittwoch"]
        assert (poll["multiple"], poll["closed"], poll["voters_count"], poll["voted"]) == \
            (False, False, 0, False)
        votes = f"/api/v1/posts/{thread['id']}/votes"
        await api("POST", votes, None, status=401, json={"choices": [0]})
        await api("POST", votes, ben, status=422, json={"choices": [0, 1]})
        await api("POST", votes, ben, status=422, json={"choices": [3]})
        await api("POST", votes, ben, status=422, json={"choices": "0"})
        after = await api("POST", votes, ben, status=200, json={"choices": [1]})
        assert [o["votes"] for o in after["options"]] == [0, 1, 0]
        assert (after["voted"], after["own_choices"], after["voters_count"]) == (True, [1], 1)
        again = await api("POST", votes, ben, status=409, json={"choices": [2]})
        assert again["error"] == "already_voted"
        await api("POST", votes, carl, status=200, json={"choices": [1]})
        shown = await api("GET", f"/api/v1/posts/{thread['id']}", carl, status=200)
        assert [o["votes"] for o in shown["poll"]["options"]] == [0, 2, 0]
        assert shown["poll"]["voted"] is True
        anonymous = await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
        assert anonymous["poll"]["voted"] is None
        # A thread without a poll has none, and no votes.
        plain = await api("POST", THREADS, anna, status=201,
                          json={"title": "Ohne Umfrage", "content": "Text"})
        assert plain["poll"] is None
        await api("POST", f"/api/v1/posts/{plain['id']}/votes", ben, status=404,
                  json={"choices": [0]})
        api.assert_covers(api_polls_spec)

    # The thread is a Question with the counts; the two votes send one Update of it, a
    # minute after the first (poll_updates: votes are coalesced), then nothing more.
    question = await _document(fed, thread["ap_id"])
    assert question["type"] == "Question"
    assert question["oneOf"] == [
        {"type": "Note", "name": "Montag", "replies": {"type": "Collection", "totalItems": 0}},
        {"type": "Note", "name": "Dienstag",
         "replies": {"type": "Collection", "totalItems": 2}},
        {"type": "Note", "name": "Mittwoch",
         "replies": {"type": "Collection", "totalItems": 0}}]
    assert question["votersCount"] == 2 and question["endTime"] and "closed" not in question
    def poll_updates_of(queued: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [u for u in queued if u["object"]["id"] == thread["ap_id"]]

    assert poll_updates_of(await fed.queued("Update")) == []
    now = datetime.now(UTC)
    assert await poll_updates.send_due_updates(fed.ctx, now=now + timedelta(seconds=30)) == 0
    assert await poll_updates.send_due_updates(fed.ctx, now=now + timedelta(seconds=61)) == 1
    assert await poll_updates.send_due_updates(fed.ctx, now=now + timedelta(seconds=120)) == 0
    updates = poll_updates_of(await fed.queued("Update"))
    assert len(updates) == 1
    assert updates[-1]["object"]["oneOf"][1]["replies"]["totalItems"] == 2
    assert "closed" not in updates[-1]["object"]
    # The poll's end is told once, with "closed", when it has come.
    async with fed.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE polls SET ends_at = now() - interval '1 minute'"
                           " WHERE post_id = $1", thread["id"])
    assert await poll_updates.send_due_updates(fed.ctx) == 1
    assert await poll_updates.send_due_updates(fed.ctx) == 0
    updates = poll_updates_of(await fed.queued("Update"))
    assert len(updates) == 2 and "closed" in updates[-1]["object"]
    creates = [c for c in await fed.queued("Create") if c["object"]["id"] == thread["ap_id"]]
    assert creates[0]["object"]["type"] == "Question"

    # Pinned, it is the same Question in the group's featured collection.
    admin = await make_user(fed.ctx, "chefin", admin=True)
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        await Api(client)("POST", f"/api/v1/admin/posts/{thread['id']}/pin", admin,
                          status=200)
    featured = await _document(fed, f"{fed.server.url}/groups/breitband/featured")
    [pinned] = featured["orderedItems"]
    assert pinned["id"] == thread["ap_id"] and pinned["type"] == "Question"
    assert pinned["oneOf"] == question["oneOf"]


async def test_multiple_choice_and_the_end(fed: Fed) -> None:
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        api = Api(client)
        anna = await make_user(fed.ctx, "anna")
        ben = await make_user(fed.ctx, "ben")
        thread = await _poll_thread(api, anna, multiple=True)
        votes = f"/api/v1/posts/{thread['id']}/votes"
        await api("POST", votes, ben, status=422, json={"choices": [0, 0]})
        after = await api("POST", votes, ben, status=200, json={"choices": [2, 0]})
        assert [o["votes"] for o in after["options"]] == [1, 0, 1]
        assert (after["voters_count"], after["own_choices"]) == (1, [0, 2])
        assert (await _document(fed, thread["ap_id"]))["anyOf"][2]["replies"] == \
            {"type": "Collection", "totalItems": 1}
        # The poll ends: no more votes, the document says it is closed.
        await fed.fetchval("UPDATE polls SET ends_at = now() - interval '1 minute'"
                           " WHERE post_id = $1", thread["id"])
        carl = await make_user(fed.ctx, "carl")
        ended = await api("POST", votes, carl, status=409, json={"choices": [1]})
        assert ended["error"] == "poll_closed"
        assert (await api("GET", f"/api/v1/posts/{thread['id']}", status=200))["poll"][
            "closed"] is True
        assert "closed" in await _document(fed, thread["ap_id"])


async def test_remote_votes_are_counted_once_and_not_stored_as_replies(fed: Fed) -> None:
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        api = Api(client)
        anna = await make_user(fed.ctx, "anna")
        single = await _poll_thread(api, anna)
        multiple = await _poll_thread(api, anna, multiple=True)
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    # Alice follows the group: she gets the Updates of the Question.
    await fed.send(alice, follow(alice, fed.group.ap_id))
    await fed.process()
    posts_before = (await fed.counts())["posts"]
    author = anna.actor.ap_id

    first = mastodon_vote(alice, single["ap_id"], author, "Dienstag", 1)
    await fed.send(alice, first)
    await fed.process()
    assert (await fed.row(first["id"])).state == "done"
    # A replay, and a second vote of hers for another option: neither counts.
    await fed.send(alice, first)
    second = mastodon_vote(alice, single["ap_id"], author, "Montag", 2)
    await fed.send(alice, second)
    unknown = mastodon_vote(bob, single["ap_id"], author, "Sonntag", 3)
    await fed.send(bob, unknown)
    await fed.process()
    assert (await fed.row(second["id"])).state == "ignored"
    assert "voted already" in str((await fed.row(second["id"])).last_error)
    assert "no option" in str((await fed.row(unknown["id"])).last_error)
    # Multiple choice: one Create per option (Mastodon's way), each counted once.
    for number, option in ((4, "Montag"), (5, "Mittwoch"), (6, "Montag")):
        await fed.send(bob, mastodon_vote(bob, multiple["ap_id"], author, option, number))
    await fed.process()

    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        shown = (await client.get(f"/api/v1/posts/{single['id']}")).json()
        many = (await client.get(f"/api/v1/posts/{multiple['id']}")).json()
    assert [o["votes"] for o in shown["poll"]["options"]] == [0, 1, 0]
    assert shown["poll"]["voters_count"] == 1 and shown["replies"] == []
    assert [o["votes"] for o in many["poll"]["options"]] == [1, 0, 1]
    assert many["poll"]["voters_count"] == 1
    assert (await fed.counts())["posts"] == posts_before
    # A minute later the group relays the author's Update(Question) with the new totals
    # to Alice: one per poll, however many votes it got.
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert await poll_updates.send_due_updates(fed.ctx, now=later) == 2
    await fed.process()
    deliveries = await fed.peer.wait_for("Announce", 2)
    updates = [d.activity["object"] for d in deliveries
               if isinstance(d.activity.get("object"), dict)
               and d.activity["object"].get("type") == "Update"
               and d.activity["object"]["object"]["id"] == single["ap_id"]]
    assert len(updates) == 1, [d.activity for d in deliveries]
    totals = [o["replies"]["totalItems"] for o in updates[0]["object"]["oneOf"]]
    assert totals == [0, 1, 0]


async def test_a_remote_poll_is_shown_voted_on_and_updated(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(alice, fed.group, text="Wann passt es?", type="Question",
                             endTime=_in(48), votersCount=3, oneOf=[
                                 {"type": "Note", "name": "Vormittag",
                                  "replies": {"type": "Collection", "totalItems": 2}},
                                 {"type": "Note", "name": "Nachmittag",
                                  "replies": {"type": "Collection", "totalItems": 1}}])
    question = create["object"]
    await fed.send(alice, create)
    await fed.process()
    post_id = await fed.fetchval("SELECT id FROM posts WHERE ap_id = $1", question["id"])
    assert post_id is not None
    ben = await make_user(fed.ctx, "ben")
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        api = Api(client)
        shown = await api("GET", f"/api/v1/posts/{post_id}", ben, status=200)
        assert shown["poll"]["options"] == [{"title": "Vormittag", "votes": 2},
                                            {"title": "Nachmittag", "votes": 1}]
        assert (shown["poll"]["voters_count"], shown["poll"]["voted"]) == (3, False)
        assert "<li>" not in shown["content"]
        voted = await api("POST", f"/api/v1/posts/{post_id}/votes", ben, status=200,
                          json={"choices": [1]})
        assert (voted["voted"], voted["own_choices"]) == (True, [1])
        await api("POST", f"/api/v1/posts/{post_id}/votes", ben, status=409,
                  json={"choices": [0]})
    await fed.process()
    (sent,) = await fed.peer.wait_for("Create")
    assert sent.url in (alice["inbox"], alice["endpoints"]["sharedInbox"])
    assert sent.signature is not None and sent.signature.key_id == ben.actor.public_key_id
    note = sent.activity["object"]
    assert (note["type"], note["name"], note["inReplyTo"], note["to"]) == \
        ("Note", "Nachmittag", question["id"], [alice["id"]])
    assert "content" not in note and sent.activity["actor"] == ben.actor.ap_id

    # The origin's Update with the new totals (its `updated` unchanged, as Mastodon).
    update = {"@context": AS, "id": new_id(fed.peer.hosts[0], "updates"), "type": "Update",
              "actor": alice["id"], "to": [PUBLIC],
              "object": {**question, "votersCount": 4, "oneOf": [
                  {"type": "Note", "name": "Vormittag",
                   "replies": {"type": "Collection", "totalItems": 2}},
                  {"type": "Note", "name": "Nachmittag",
                   "replies": {"type": "Collection", "totalItems": 2}}]}}
    await fed.send(alice, update)
    await fed.process()
    assert (await fed.row(update["id"])).state == "done"
    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        shown = (await client.get(f"/api/v1/posts/{post_id}",
                                  headers=ben.headers)).json()
    assert [o["votes"] for o in shown["poll"]["options"]] == [2, 2]
    assert shown["poll"]["voters_count"] == 4


def test_votes_look_like_mastodon_votes() -> None:
    vote = vocab.parse({"id": "https://m.example/users/a#votes/1", "type": "Note",
                        "name": "Ja", "inReplyTo": "https://x.example/posts/1",
                        "attributedTo": "https://m.example/users/a"})
    assert isinstance(vote, vocab.APObject) and poll_votes.looks_like_vote(vote)
    reply = vocab.parse({"id": "https://m.example/users/a/statuses/1", "type": "Note",
                         "name": "Ja", "content": "<p>Ja</p>",
                         "inReplyTo": "https://x.example/posts/1"})
    assert isinstance(reply, vocab.APObject) and not poll_votes.looks_like_vote(reply)


async def test_the_migration_makes_polls_of_questions_stored_before(fed: Fed) -> None:
    """0029 runs again cleanly (idempotent) and takes remote Questions stored before it,
    skipping odd values instead of failing."""
    alice = fed.remote(0, "alice")
    good = mastodon_create(alice, fed.group, text="Alt", type="Question",
                           endTime="2020-01-01T00:00:00Z", votersCount=2, anyOf=[
                               {"type": "Note", "name": "A",
                                "replies": {"type": "Collection", "totalItems": 2}},
                               {"type": "Note", "name": "B",
                                "replies": {"type": "Collection", "totalItems": "viele"}}])
    odd = mastodon_create(alice, fed.group, text="Kaputt", type="Question",
                          oneOf=[{"type": "Note", "name": "Ja"},
                                 {"type": "Note", "name": "Nein"}])
    for create in (good, odd):
        await fed.send(alice, create)
    await fed.process()
    migration = (Path(storage.__file__).parent / "migrations" / "0029_polls.sql").read_text()
    async with fed.ctx.pool.acquire() as conn:
        # As an older parser might have stored it: values ours refuses now.
        await conn.execute(
            "UPDATE posts SET raw = raw || $2::jsonb WHERE ap_id = $1", odd["object"]["id"],
            {"endTime": "nie", "votersCount": 1e20})
        await conn.execute("DELETE FROM polls")
        await conn.execute(migration)
        rows = {r["ap_id"]: r for r in await conn.fetch(
            "SELECT p.ap_id, l.* FROM polls l JOIN posts p ON p.id = l.post_id")}
    first = rows[good["object"]["id"]]
    assert (list(first["options"]), first["multiple"], list(first["remote_counts"]),
            first["voters_count"]) == (["A", "B"], True, [2, 0], 2)
    assert first["ends_at"] == datetime(2020, 1, 1, tzinfo=UTC)
    second = rows[odd["object"]["id"]]
    assert (list(second["options"]), second["multiple"], second["ends_at"],
            second["voters_count"]) == (["Ja", "Nein"], False, None, 2147483647)
