"""What each inbound activity does to our data, posted over real HTTP and processed by
the worker: Follow/Undo, Create (threads, replies, refusals with a Reject), Update,
Delete, Like/Dislike/Undo, and Update/Delete/Move of actors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from activitypub import vocab
from fedi.forum.posts import create_reply
from fedi.inbound.posts import TITLE_MAX, derive_title
from fedi.inbound.queue import NOT_YET_WINDOW
from storage import groups as group_store
from storage import inbox as inbox_store
from storage import moderation
from storage import posts as post_store
from storage.posts import Post
from tests.support.constants import AS, PUBLIC
from tests.support.corpus import CORPUS as CORPUS_ROOT
from tests.support.helpers import make_group, make_user
from tests.support.inbound_fixtures import (
    FakeClock,
    Fed,
    fed,
    follow,
    mastodon_create,
    new_id,
    peer,
    run_inbound,
)

__all__ = ["fed", "peer"]  # fixtures


async def post_by_ap_id(fed: Fed, ap_id: str) -> Post:
    async with fed.ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, ap_id)
    assert post is not None, f"no post {ap_id}"
    return post


async def state(fed: Fed, activity: dict[str, Any]) -> tuple[str, str | None]:
    row = await fed.row(activity["id"])
    return row.state, row.last_error


def undo(actor: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    inner = {k: v for k, v in inner.items() if k != "@context"}
    return {"@context": AS, "id": inner["id"] + "/undo", "type": "Undo",
            "actor": actor["id"], "object": inner}


# -- Follow ------------------------------------------------------------------------------


async def test_follow_is_accepted_with_the_follow_embedded_and_signed_by_the_group(
        fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    fed.peer.software[fed.peer.hosts[0].removeprefix("http://")] = "lemmy"
    request = follow(alice, fed.group.ap_id)
    await fed.send(alice, request)
    await fed.process()
    assert await state(fed, request) == ("done", None)
    row = await fed.fetchrow("SELECT * FROM follows")
    assert (row["ap_id"], row["state"]) == (request["id"], "accepted")
    (accept,) = await fed.peer.wait_for("Accept")
    assert accept.signature is not None and accept.signature.key_id == fed.group.public_key_id
    assert accept.url == alice["inbox"]
    assert accept.activity["actor"] == fed.group.ap_id
    embedded = {k: v for k, v in request.items() if k != "@context"}
    assert accept.activity["object"] == embedded
    # The follower's software was looked up for the group's fan-out.
    software = await fed.fetchval("SELECT software FROM instances WHERE domain = $1",
                                  fed.peer.hosts[0].removeprefix("http://"))
    assert software == "lemmy"


async def test_a_repeated_follow_is_accepted_again_without_a_second_row(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    await fed.send(alice, follow(alice, fed.group.ap_id))
    await fed.process()  # one after the other: the worker runs activities concurrently
    again = follow(alice, fed.group.ap_id)  # Mastodon re-sends with a new id
    await fed.send(alice, again)
    await fed.process()
    assert (await fed.counts())["follows"] == 1
    assert await fed.fetchval("SELECT ap_id FROM follows") == again["id"]
    accepts = await fed.queued("Accept")
    assert [a["object"]["id"] for a in accepts][-1] == again["id"] and len(accepts) == 2


async def test_undo_follow_by_its_id_or_by_the_pair(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    first = follow(alice, fed.group.ap_id)
    await fed.send(alice, first)
    await fed.send(bob, follow(bob, fed.group.ap_id))
    await fed.process()
    assert (await fed.counts())["follows"] == 2
    await fed.send(alice, undo(alice, first))
    unknown_id = follow(bob, fed.group.ap_id)  # an id we never saw: matched by the pair
    await fed.send(bob, undo(bob, unknown_id))
    await fed.process()
    assert (await fed.counts())["follows"] == 0
    nothing_left = undo(alice, follow(alice, fed.group.ap_id))
    await fed.send(alice, nothing_left)
    await fed.process()
    # The Follow it undoes may still be on its way: it waits for it, then gives up.
    row = await fed.row(nothing_left["id"])
    assert row.state == "queued" and "no such follow" in (row.last_error or "")
    clock = FakeClock()
    clock.now += NOT_YET_WINDOW
    assert await run_inbound(fed.ctx, clock) == 1
    outcome, reason = await state(fed, nothing_left)
    assert outcome == "ignored" and (reason or "").startswith("no such follow")


async def test_following_a_local_user(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    anna = await make_user(fed.ctx, "anna")
    await fed.send(alice, follow(alice, anna.actor.ap_id))
    await fed.process()
    row = await fed.fetchrow("SELECT * FROM follows")
    assert (row["target_id"], row["state"]) == (anna.actor.id, "accepted")
    assert (await fed.queued("Accept"))[0]["actor"] == anna.actor.ap_id


async def test_banned_actors_and_blocked_domains_get_a_reject(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    await fed.send(alice, follow(alice, fed.group.ap_id))  # caches Alice
    async with fed.ctx.pool.acquire() as conn:
        alice_id = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1", alice["id"])
        await moderation.ban(conn, actor_id=alice_id, group_id=fed.group.id, reason="Spam")
    second = follow(alice, fed.group.ap_id)
    await fed.send(alice, second)
    bobs = follow(bob, fed.group.ap_id)
    await fed.send(bob, bobs)
    async with fed.ctx.pool.acquire() as conn:  # blocked after it arrived
        await moderation.block_domain(conn, fed.peer.hosts[1].removeprefix("http://"))
    await fed.process()
    assert (await fed.counts())["follows"] == 0
    rejects = {r["object"]["id"]: r for r in await fed.queued("Reject")}
    assert set(rejects) >= {second["id"], bobs["id"]}
    reason = "You are banned from this group. Reason: Spam"  # fedi.forum.policy's sentence
    # In the group's language (German here), English beside it (issue 20).
    english = rejects[second["id"]]["contentMap"]["en"]
    assert english == rejects[second["id"]]["summaryMap"]["en"] == reason
    assert rejects[second["id"]]["summary"] == rejects[second["id"]]["content"] == \
        "Sie sind in dieser Gruppe gesperrt. Grund: Spam"
    assert "blocked" in rejects[bobs["id"]]["summaryMap"]["en"]
    assert (await state(fed, second))[0] == "ignored"


# -- Create ------------------------------------------------------------------------------


async def test_mastodon_note_mentioning_the_group_becomes_a_thread(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(
        alice, fed.group, text="Wann kommt Glasfaser nach #Musterdorf? https://example.org/x",
        sensitive=True, summary="Baustelle",
        attachment=[{"type": "Document", "mediaType": "image/png", "url":
                     "https://m.example/files/plan.png", "name": "Plan", "blurhash": "x"}],
        tag=[{"type": "Mention", "href": fed.group.ap_id, "name": "@breitband@x"},
             {"type": "Hashtag", "href": "https://m.example/tags/musterdorf",
              "name": "#Musterdorf"}])
    await fed.send(alice, create)
    await fed.process()
    post = await post_by_ap_id(fed, create["object"]["id"])
    assert post.is_thread and post.group_id == fed.group.id and not post.local
    assert post.title == "Wann kommt Glasfaser nach ?"
    assert 'class="u-url mention"' in post.content_html and "<script" not in post.content_html
    assert (post.sensitive, post.summary) == (True, "Baustelle")
    assert post.attachments == [{"type": "Document", "url": "https://m.example/files/plan.png",
                                 "media_type": "image/png", "name": "Plan", "width": None,
                                 "height": None, "blurhash": "x"}]
    assert post.hashtags == ["musterdorf"]
    assert post.context_url == create["object"]["conversation"]
    assert post.language == "en" and post.url == create["object"]["url"]


async def test_lemmy_page_with_audience_keeps_title_and_source(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    page_id = f"{fed.peer.hosts[0]}/post/1"
    create = {
        "id": new_id(fed.peer.hosts[0], "activities/create"), "type": "Create",
        "actor": alice["id"], "to": [PUBLIC], "cc": [fed.group.ap_id],
        "audience": fed.group.ap_id,
        "object": {"id": page_id, "type": "Page", "attributedTo": alice["id"],
                   "to": [fed.group.ap_id, PUBLIC], "audience": fed.group.ap_id,
                   "name": "Förderprogramm 2026", "content": "<p>Details <b>hier</b></p>",
                   "mediaType": "text/html",
                   "source": {"content": "Details **hier**", "mediaType": "text/markdown"},
                   "published": "2026-08-01T10:00:00Z",
                   "language": {"identifier": "de", "name": "Deutsch"}},
    }
    await fed.send(alice, create)
    await fed.process()
    post = await post_by_ap_id(fed, page_id)
    assert (post.title, post.type, post.source) == ("Förderprogramm 2026", "Page",
                                                      "Details **hier**")
    assert post.language == "de"


async def test_replies_and_missing_parents_fetched_from_their_origin(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    anna = await make_user(fed.ctx, "anna")
    from fedi.forum.posts import create_thread

    thread = await create_thread(fed.ctx, author=anna.actor, group=fed.group,
                                 title="Ausbau", content="Wann?")
    # A reply to our thread (Mastodon replies need not name the group again).
    reply = mastodon_create(alice, fed.group, in_reply_to=thread.ap_id, cc=[])
    reply["cc"] = reply["object"]["cc"] = []
    reply["object"]["tag"] = []
    await fed.send(alice, reply)
    # A reply to a reply we never got: Bob's answer is fetched from Bob's server first.
    bobs_note = {"@context": AS, "id": f"{bob['id']}/statuses/7", "type": "Note",
                 "attributedTo": bob["id"], "inReplyTo": thread.ap_id,
                 "content": "<p>Bald</p>", "to": [PUBLIC], "cc": [fed.group.ap_id]}
    fed.peer.put(bobs_note)
    deeper = mastodon_create(alice, fed.group, in_reply_to=bobs_note["id"])
    await fed.send(alice, deeper)
    await fed.process()
    first = await post_by_ap_id(fed, reply["object"]["id"])
    assert (first.parent_id, first.thread_id, first.depth) == (thread.id, thread.id, 1)
    fetched = await post_by_ap_id(fed, bobs_note["id"])
    second = await post_by_ap_id(fed, deeper["object"]["id"])
    assert (fetched.parent_id, second.parent_id, second.depth) == (thread.id, fetched.id, 2)
    assert (await post_by_ap_id(fed, thread.ap_id)).reply_count == 2


async def test_a_parent_chain_is_followed_only_so_far(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    root = {"@context": AS, "id": f"{alice['id']}/statuses/100", "type": "Note",
            "attributedTo": alice["id"], "content": "<p>root</p>", "to": [PUBLIC],
            "cc": [fed.group.ap_id]}
    fed.peer.put(root)
    parent = root["id"]
    for n in range(101, 108):  # seven replies deep
        fed.peer.put({**root, "id": f"{alice['id']}/statuses/{n}", "inReplyTo": parent})
        parent = f"{alice['id']}/statuses/{n}"
    create = mastodon_create(alice, fed.group, in_reply_to=parent)
    await fed.send(alice, create)
    before = await fed.counts()
    await fed.process()
    assert (await state(fed, create))[0] == "ignored"
    assert (await fed.counts())["posts"] == before["posts"]


def test_titles_from_the_first_line_cut_on_a_word_boundary() -> None:
    def note(content: str, **extra: Any) -> vocab.APObject:
        doc = {"id": "https://m.example/n/1", "type": "Note", "content": content, **extra}
        parsed = vocab.parse(doc)
        assert isinstance(parsed, vocab.APObject)
        return parsed

    assert derive_title(note("<p>x</p>", name="  Ein   Titel ")) == "Ein Titel"
    mention = ('<span class="h-card"><a href="https://g/x" class="u-url mention">'
               "@<span>x</span></a></span>")
    assert derive_title(note(f"<p>{mention} Hallo @bob@m.example https://x.org/a #tag Welt"
                             "</p><p>zweite Zeile</p>")) == "Hallo Welt"
    long = "Wort " * 100
    title = derive_title(note(f"<p>{long}</p>"))
    assert len(title) <= TITLE_MAX and title.endswith("Wort…")
    assert derive_title(note("<p>@x@y</p>", summary="CW")) == "CW"


CORPUS = CORPUS_ROOT / "mastodon"


def test_titles_end_before_the_words_that_lead_in_to_a_removed_link() -> None:
    """A real Mastodon status (KDE's, with a link on its own line after "...donation:") and
    the same status in German with the link inside the sentence ("Siehe <link>")."""
    doc = json.loads((CORPUS / "objects" / "note_2.json").read_text())
    status = vocab.parse(doc)
    assert isinstance(status, vocab.APObject)
    assert derive_title(status) == "We also need funding 💶 to keep the gears turning!"
    link = doc["content"].split("<p><a ")[1].split("</p>")[0]
    mention = doc["content"].split("</p>")[0]
    german = {**doc, "contentMap": None, "content": (
        f"{mention}</p><p>Die neue Förderrichtlinie für den Breitbandausbau ist "
        f"veröffentlicht. Siehe <a {link} für alle Details.</p>")}
    parsed = vocab.parse(german)
    assert isinstance(parsed, vocab.APObject)
    assert derive_title(parsed) == ("Die neue Förderrichtlinie für den Breitbandausbau ist "
                                    "veröffentlicht.")
    lead_in = {**german, "content": f"<p>Alle Unterlagen zur Förderung unter <a {link}</p>"}
    parsed = vocab.parse(lead_in)
    assert isinstance(parsed, vocab.APObject)
    assert derive_title(parsed) == "Alle Unterlagen zur Förderung"


async def test_refusals_send_a_reject_that_says_why(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    mods_only = await make_group(fed.ctx, "amtsblatt", title="Amtsblatt",
                                 posting_restricted_to_mods=True)
    anna = await make_user(fed.ctx, "anna")
    async with fed.ctx.pool.acquire() as conn:
        await group_store.add_moderator(conn, mods_only.id, anna.actor.id)
    from fedi.forum.posts import create_thread

    announcement = await create_thread(fed.ctx, author=anna.actor, group=mods_only,
                                       title="Sitzung", content="am Montag")
    locked = await create_thread(fed.ctx, author=anna.actor, group=fed.group,
                                 title="Alt", content="erledigt")
    async with fed.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET locked = true WHERE id = $1", locked.id)
    await fed.send(bob, follow(bob, fed.group.ap_id))  # caches Bob
    async with fed.ctx.pool.acquire() as conn:
        bob_id = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1", bob["id"])
        await moderation.ban(conn, actor_id=bob_id, group_id=None, reason="Hetze")

    new_thread = mastodon_create(alice, mods_only)
    reply_ok = mastodon_create(alice, mods_only, in_reply_to=announcement.ap_id)
    in_locked = mastodon_create(alice, fed.group, in_reply_to=locked.ap_id)
    banned = mastodon_create(bob, fed.group)
    for actor, create in ((alice, new_thread), (alice, reply_ok), (alice, in_locked),
                          (bob, banned)):
        await fed.send(actor, create)
    await fed.process()

    rejects = {r["object"]["id"]: r for r in await fed.queued("Reject")}
    assert "Only the moderators" in rejects[new_thread["id"]]["summaryMap"]["en"]
    assert rejects[new_thread["id"]]["actor"] == mods_only.ap_id
    assert "closed" in rejects[in_locked["id"]]["contentMap"]["en"]
    assert "banned from this instance. Reason: Hetze" in \
        rejects[banned["id"]]["summaryMap"]["en"]
    assert reply_ok["id"] not in rejects
    (delivered,) = [d for d in await fed.peer.wait_for("Reject", 3)
                    if d.activity["object"]["id"] == in_locked["id"]]
    assert delivered.signature is not None and delivered.url == alice["inbox"]
    stored = {r["ap_id"] for r in await fed.ctx.pool.fetch("SELECT ap_id FROM posts")}
    assert reply_ok["object"]["id"] in stored
    assert not stored & {new_thread["object"]["id"], in_locked["object"]["id"],
                         banned["object"]["id"]}
    for create in (new_thread, in_locked, banned):
        assert (await state(fed, create))[0] == "ignored"


# -- Update, Delete, Like --------------------------------------------------------------


async def _thread_by(fed: Fed, author: dict[str, Any], text: str = "Erst") -> dict[str, Any]:
    create = mastodon_create(author, fed.group, text=text)
    await fed.send(author, create)
    await fed.process()
    return create


def _update(author: dict[str, Any], create: dict[str, Any], content: str, updated: str
            ) -> dict[str, Any]:
    note = copy.deepcopy(create["object"])
    note.update(content=content, updated=updated)
    note.pop("contentMap")
    return {"@context": AS, "id": f"{note['id']}#updates/{updated}", "type": "Update",
            "actor": author["id"], "to": [PUBLIC], "object": note}


async def _author_and_other_with_a_forum_follower(fed: Fed
                                                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alice and Carol on one host; the group has a Lemmy follower (gets the relays)."""
    lemmy_follower = fed.remote(2, "lemmy")
    fed.peer.software[fed.peer.hosts[2].removeprefix("http://")] = "lemmy"
    await fed.send(lemmy_follower, follow(lemmy_follower, fed.group.ap_id))
    await fed.process()
    return fed.remote(0, "alice"), fed.remote(0, "carol")


async def test_update_only_by_the_author_and_only_when_newer(fed: Fed) -> None:
    alice, carol = await _author_and_other_with_a_forum_follower(fed)
    create = await _thread_by(fed, alice)
    edit = _update(alice, create, "<p>Geändert</p>", "2026-08-02T10:00:00Z")
    stale = _update(alice, create, "<p>Veraltet</p>", "2026-08-01T12:00:00Z")
    forged = _update(carol, create, "<p>Gefälscht</p>", "2026-08-03T10:00:00Z")
    for actor, activity in ((alice, edit), (alice, stale), (carol, forged)):
        await fed.send(actor, activity)
        await fed.process()
    post = await post_by_ap_id(fed, create["object"]["id"])
    assert post.content_html == "<p>Geändert</p>" and post.title == "Geändert"
    assert (await state(fed, stale))[0] == "ignored"
    assert await state(fed, forged) == ("ignored", f"only the author may edit {post.ap_id}")
    relayed = [a["object"] for a in await fed.queued("Announce")]
    assert edit["id"] in [inner.get("id") for inner in relayed if isinstance(inner, dict)]


async def test_delete_by_the_author_leaves_a_tombstone_and_is_relayed(fed: Fed) -> None:
    alice, carol = await _author_and_other_with_a_forum_follower(fed)
    create = await _thread_by(fed, alice, "Weg damit")
    note_id = create["object"]["id"]
    tomb = {"id": note_id, "type": "Tombstone"}
    forged = {"@context": AS, "id": note_id + "#delete-forged", "type": "Delete",
              "actor": carol["id"], "object": tomb}
    await fed.send(carol, forged)
    await fed.process()
    assert (await post_by_ap_id(fed, note_id)).deleted_at is None
    assert (await state(fed, forged))[1] == f"only the author may delete {note_id}"
    delete = {"@context": AS, "id": note_id + "#delete", "type": "Delete",
              "actor": alice["id"], "to": [PUBLIC], "object": tomb}
    await fed.send(alice, delete)
    await fed.process()
    post = await post_by_ap_id(fed, note_id)
    assert post.deleted_at is not None and post.content_html == ""
    announces = await fed.peer.wait_for("Announce", 2)
    assert any(d.activity["object"].get("id") == delete["id"] for d in announces
               if isinstance(d.activity["object"], dict))


async def test_likes_and_dislikes_are_counted_and_undone(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    create = await _thread_by(fed, alice)
    note_id = create["object"]["id"]

    def vote(actor: dict[str, Any], kind: str) -> dict[str, Any]:
        return {"id": new_id(fed.peer.hosts[1] if actor is bob else fed.peer.hosts[0]),
                "type": kind, "actor": actor["id"], "object": note_id}

    bob_like = vote(bob, "Like")
    await fed.send(bob, bob_like)
    await fed.send(bob, vote(bob, "Like"))  # a second like counts once
    alice_dislike = vote(alice, "Dislike")
    await fed.send(alice, alice_dislike)
    await fed.process()
    post = await post_by_ap_id(fed, note_id)
    assert (post.like_count, post.dislike_count) == (1, 1)
    await fed.send(alice, vote(alice, "Like"))  # a vote replaces the other kind
    await fed.process()
    post = await post_by_ap_id(fed, note_id)
    assert (post.like_count, post.dislike_count) == (2, 0)
    await fed.send(bob, undo(bob, bob_like))
    bare = {"id": new_id(fed.peer.hosts[0]), "type": "Undo", "actor": alice["id"],
            "object": alice_dislike["id"]}  # the dislike was replaced: nothing to undo
    await fed.send(alice, bare)
    await fed.process()
    post = await post_by_ap_id(fed, note_id)
    assert (post.like_count, post.dislike_count) == (1, 0)
    assert (await state(fed, bare))[0] == "ignored"


async def test_a_banned_remote_actor_s_like_is_refused(fed: Fed) -> None:
    """A ban stops likes from other servers too (issue 11): not counted, not relayed."""
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    create = await _thread_by(fed, alice)
    await fed.send(bob, follow(bob, fed.group.ap_id))  # caches Bob
    await fed.process()
    async with fed.ctx.pool.acquire() as conn:
        bob_id = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1", bob["id"])
        await moderation.ban(conn, actor_id=bob_id, group_id=fed.group.id, reason="Spam")
    like = {"id": new_id(fed.peer.hosts[1]), "type": "Like", "actor": bob["id"],
            "object": create["object"]["id"]}
    await fed.send(bob, like)
    await fed.process()
    assert (await post_by_ap_id(fed, create["object"]["id"])).like_count == 0
    status, reason = await state(fed, like)
    assert status == "ignored" and "banned from this group. Reason: Spam" in (reason or "")


# -- out of order ------------------------------------------------------------------------


async def test_activities_about_a_post_that_has_not_arrived_wait_for_it(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    create = mastodon_create(alice, fed.group, text="Erst")
    note_id = create["object"]["id"]
    bobs_like = {"id": new_id(fed.peer.hosts[1]), "type": "Like", "actor": bob["id"],
                 "object": note_id}
    edit = _update(alice, create, "<p>Geändert</p>", "2026-08-02T10:00:00Z")
    alices_like = {"id": new_id(fed.peer.hosts[0]), "type": "Like", "actor": alice["id"],
                   "object": note_id}
    alices_undo = undo(alice, alices_like)  # comes before the Like it undoes
    never = {"id": new_id(fed.peer.hosts[1]), "type": "Like", "actor": bob["id"],
             "object": f"{alice['id']}/statuses/999999"}
    ours = {"id": new_id(fed.peer.hosts[1]), "type": "Like", "actor": bob["id"],
            "object": f"{fed.server.url}/posts/999999"}
    clock = FakeClock()
    for actor, activity in ((bob, bobs_like), (alice, edit), (alice, alices_undo),
                            (bob, never), (bob, ours)):
        await fed.send(actor, activity)
    assert await run_inbound(fed.ctx, clock) == 5
    for waiting in (bobs_like, edit, alices_undo, never):
        row = await fed.row(waiting["id"])
        assert (row.state, row.attempts) == ("queued", 1), row
        assert (row.last_error or "").startswith("waiting: "), row
    # A post of ours that does not exist will not turn up later.
    assert await state(fed, ours) == ("ignored",
                                      f"{ours['object']} is not a post of this instance")

    await fed.send(alice, create)
    assert await run_inbound(fed.ctx, clock) == 1  # the others are not due yet
    await fed.send(alice, alices_like)
    assert await run_inbound(fed.ctx, clock) == 1
    assert (await post_by_ap_id(fed, note_id)).like_count == 1

    clock.now += timedelta(seconds=31)
    assert await run_inbound(fed.ctx, clock) == 4
    post = await post_by_ap_id(fed, note_id)
    assert (post.like_count, post.content_html) == (1, "<p>Geändert</p>")  # Bob's only
    for done in (bobs_like, edit, alices_undo):
        assert await state(fed, done) == ("done", None)
    assert (await fed.row(never["id"])).state == "queued"

    # Replays change nothing; what never arrives is given up after the window.
    await fed.send(bob, bobs_like)
    clock.now += NOT_YET_WINDOW
    assert await run_inbound(fed.ctx, clock) == 1
    outcome, reason = await state(fed, never)
    assert outcome == "ignored" and f"{never['object']} is not a post known here" in (
        reason or "") and "waited 10 min" in (reason or "")
    assert (await post_by_ap_id(fed, note_id)).like_count == 1


async def test_a_delete_before_its_create_keeps_the_post_out(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    create = mastodon_create(alice, fed.group, text="Gleich wieder weg")
    note_id = create["object"]["id"]
    delete = {"@context": AS, "id": note_id + "#delete", "type": "Delete",
              "actor": alice["id"], "to": [PUBLIC],
              "object": {"id": note_id, "type": "Tombstone"}}
    other = mastodon_create(alice, fed.group, text="Bleibt")
    # Nobody can delete someone else's post in advance.
    pre_empted = {"@context": AS, "id": new_id(fed.peer.hosts[1]), "type": "Delete",
                  "actor": bob["id"], "object": other["object"]["id"]}
    await fed.send(alice, delete)
    await fed.send(bob, pre_empted)
    await fed.process()
    assert await state(fed, delete) == ("done", None)
    assert (await state(fed, pre_empted))[0] == "ignored"

    await fed.send(alice, create)
    await fed.send(alice, other)
    await fed.process()
    outcome, reason = await state(fed, create)
    assert outcome == "ignored"
    assert reason == f"{note_id} was deleted by its author before it arrived"
    resent = {**create, "id": create["id"] + "-again"}  # the same post in a new Create
    await fed.send(alice, resent)
    await fed.process()
    assert (await state(fed, resent))[0] == "ignored"
    async with fed.ctx.pool.acquire() as conn:
        assert await post_store.by_ap_id(conn, note_id) is None
        assert await post_store.by_ap_id(conn, other["object"]["id"]) is not None
        # Remembered for six hours, as Mastodon does.
        later = datetime.now(UTC)
        assert await inbox_store.deleted_early(conn, note_id, actor_ap_id=alice["id"],
                                               now=later + timedelta(hours=5))
        assert not await inbox_store.deleted_early(conn, note_id, actor_ap_id=alice["id"],
                                                   now=later + timedelta(hours=7))
    relayed = [a["object"] for a in await fed.queued("Announce")]
    assert note_id not in str(relayed)

    # A Create and its Delete processed at the same time: the post never shows.
    raced = mastodon_create(alice, fed.group, text="Kurz")
    raced_id = raced["object"]["id"]
    await fed.send(alice, raced)
    await fed.send(alice, {**delete, "id": raced_id + "#delete",
                           "object": {"id": raced_id, "type": "Tombstone"}})
    clock = FakeClock()
    await run_inbound(fed.ctx, clock)
    clock.now += timedelta(seconds=31)
    await run_inbound(fed.ctx, clock)
    async with fed.ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, raced_id)
        assert await conn.fetchval(
            "SELECT count(*) FROM inbox_activities WHERE state = 'queued'") == 0
    assert post is None or post.deleted_at is not None


# -- actors ------------------------------------------------------------------------------


async def test_actor_update_delete_and_move(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    create = await _thread_by(fed, alice)
    await fed.send(alice, follow(alice, fed.group.ap_id))
    anna = await make_user(fed.ctx, "anna")
    thread = await post_by_ap_id(fed, create["object"]["id"])
    await create_reply(fed.ctx, author=anna.actor, parent=thread, content="Danke")
    await fed.send(alice, {"id": new_id(fed.peer.hosts[0]), "type": "Like",
                           "actor": alice["id"], "object": thread.ap_id})
    await fed.process()

    renamed = {**alice, "name": "Alice Neu"}
    update = {"id": new_id(fed.peer.hosts[0]), "type": "Update", "actor": alice["id"],
              "object": renamed}
    await fed.send(alice, update)
    hijack = {"id": new_id(fed.peer.hosts[1]), "type": "Update", "actor": bob["id"],
              "object": {**renamed, "name": "Von Bob"}}
    await fed.send(bob, hijack)
    await fed.process()
    assert await fed.fetchval("SELECT name FROM actors WHERE ap_id = $1", alice["id"]) \
        == "Alice Neu"
    assert (await state(fed, hijack))[0] == "ignored"

    # Move: only when the target names the origin in alsoKnownAs.
    new_home = fed.remote(2, "alice2")
    move = {"id": new_id(fed.peer.hosts[0]), "type": "Move", "actor": alice["id"],
            "object": alice["id"], "target": new_home["id"]}
    await fed.send(alice, move)
    await fed.process()
    assert (await state(fed, move))[0] == "ignored"
    new_home["alsoKnownAs"] = [alice["id"]]
    move2 = {**move, "id": new_id(fed.peer.hosts[0])}
    await fed.send(alice, move2)
    await fed.process()
    assert await fed.fetchval("SELECT moved_to FROM actors WHERE ap_id = $1", alice["id"]) \
        == new_home["id"]

    # Delete: her posts become tombstones, her follow and like go.
    delete = {"id": alice["id"] + "#delete", "type": "Delete", "actor": alice["id"],
              "object": alice["id"], "to": [PUBLIC]}
    await fed.send(alice, delete)
    await fed.process()
    post = await post_by_ap_id(fed, thread.ap_id)
    assert post.deleted_at is not None and post.like_count == 0
    counts = await fed.counts()
    assert (counts["follows"], counts["likes"]) == (1, 0)  # the follow moved to alice2
    assert await fed.fetchval("SELECT deleted_at IS NOT NULL FROM actors WHERE ap_id = $1",
                              alice["id"])
    # Anna's reply stays.
    assert await fed.fetchval("SELECT count(*) FROM posts WHERE deleted_at IS NULL") == 1


async def test_a_move_hands_the_follows_over_to_the_target(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    anna = await make_user(fed.ctx, "anna")
    new_home = fed.remote(2, "alice2", alsoKnownAs=[alice["id"]])
    await fed.send(alice, follow(alice, fed.group.ap_id))
    await fed.send(alice, follow(alice, anna.actor.ap_id))
    await fed.send(new_home, follow(new_home, anna.actor.ap_id))  # follows Anna already
    await fed.process()
    assert (await fed.counts())["follows"] == 3
    move = {"id": new_id(fed.peer.hosts[0]), "type": "Move", "actor": alice["id"],
            "object": alice["id"], "target": new_home["id"]}
    await fed.send(alice, move)
    await fed.process()
    assert await state(fed, move) == ("done", None)
    async with fed.ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT f.ap_id AS follow_id, a.ap_id AS follower, t.ap_id AS target, f.state"
            " FROM follows f JOIN actors a ON a.id = f.follower_id"
            " JOIN actors t ON t.id = f.target_id")
        cached = await conn.fetchrow("SELECT local, inbox FROM actors WHERE ap_id = $1",
                                     new_home["id"])
    assert sorted((r["follower"], r["target"], r["state"]) for r in rows) == sorted([
        (new_home["id"], fed.group.ap_id, "accepted"),
        (new_home["id"], anna.actor.ap_id, "accepted")])
    assert (cached["local"], cached["inbox"]) == (False, new_home["inbox"])
    # The group's next thread goes to the new address.
    from fedi.forum.posts import create_thread

    await create_thread(fed.ctx, author=anna.actor, group=fed.group, title="Neu",
                        content="Hallo")
    inboxes = {r["inbox_url"] for r in await fed.ctx.pool.fetch(
        "SELECT inbox_url FROM deliveries")}
    assert fed.peer.hosts[2] + "/inbox" in inboxes
    assert fed.peer.hosts[0] + "/inbox" not in inboxes
