"""Mentions in posts from other servers (issue 14, part 5): the ``Mention`` tags naming
actors we know (ours above all) become ``post_mentions`` rows, which the notification
worker turns into ``mention`` notices. Shapes as Mastodon, Lemmy and Pleroma send them
(tests/fixtures/corpus); nothing is fetched for a mention of an unknown actor."""

from __future__ import annotations

import copy
import json
from typing import Any

from storage.posts import Post
from tests.support.constants import PUBLIC
from tests.support.corpus import CORPUS
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import Fed, fed, mastodon_create, new_id, peer

__all__ = ["fed", "peer"]  # fixtures


async def stored(fed: Fed, ap_id: str) -> Post:
    async with fed.ctx.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM posts WHERE ap_id = $1", ap_id)
    assert row is not None, f"{ap_id} was not stored"
    return Post(**{k: v for k, v in dict(row).items() if k in Post.__dataclass_fields__})


async def mentioned(fed: Fed, post_id: int) -> set[str]:
    async with fed.ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.ap_id FROM post_mentions m JOIN actors a ON a.id = m.actor_id"
            " WHERE m.post_id = $1", post_id)
    return {r["ap_id"] for r in rows}


def corpus_tags(path: str) -> list[dict[str, Any]]:
    doc = json.loads((CORPUS / path).read_text())
    obj = doc["object"] if isinstance(doc.get("object"), dict) else doc
    tags: list[dict[str, Any]] = copy.deepcopy(obj["tag"])
    return tags


async def test_a_mastodon_status_mentioning_a_local_user(fed: Fed) -> None:
    anna = await make_user(fed.ctx, "anna")
    alice = fed.remote(0, "alice")
    # Mastodon's tag list (corpus: mastodon/activities/create_note.json), pointed at us.
    [mention] = corpus_tags("mastodon/activities/create_note.json")
    mention.update(href=anna.actor.ap_id, name=f"@anna@{fed.ctx.settings.host}")
    unknown = {"type": "Mention", "href": "https://nowhere.example/users/zed",
               "name": "@zed@nowhere.example"}
    create = mastodon_create(alice, fed.group, text="Frage an @anna", tag=[
        {"type": "Mention", "href": fed.group.ap_id, "name": f"@{fed.group.handle}"},
        mention, unknown])
    await fed.send(alice, create)
    await fed.process()
    post = await stored(fed, create["object"]["id"])
    assert await mentioned(fed, post.id) == {anna.actor.ap_id, fed.group.ap_id}
    async with fed.ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM actors WHERE ap_id = $1",
                                   unknown["href"]) == 0


async def test_lemmy_and_pleroma_mention_shapes(fed: Fed) -> None:
    anna = await make_user(fed.ctx, "anna")
    ben = await make_user(fed.ctx, "ben")
    alice = fed.remote(0, "alice")
    # Lemmy: [{"href", "type", "name"}, ...] naming a user and the community.
    lemmy = corpus_tags("lemmy/objects/comment.json")
    lemmy[0]["href"], lemmy[1]["href"] = anna.actor.ap_id, fed.group.ap_id
    page_id = f"{fed.peer.hosts[0]}/post/{new_id('x').rsplit('/', 1)[1]}"
    create = {
        "id": new_id(fed.peer.hosts[0], "activities/create"), "type": "Create",
        "actor": alice["id"], "to": [fed.group.ap_id, PUBLIC],
        "cc": [anna.actor.ap_id], "audience": fed.group.ap_id,
        "object": {"id": page_id, "type": "Page", "attributedTo": alice["id"],
                   "to": [fed.group.ap_id], "audience": fed.group.ap_id, "name": "Ausbau",
                   "content": "<p>@anna</p>", "mediaType": "text/html", "tag": lemmy,
                   "published": "2026-08-01T10:00:00Z"},
    }
    await fed.send(alice, create)
    await fed.process()
    thread = await stored(fed, page_id)
    assert await mentioned(fed, thread.id) == {anna.actor.ap_id, fed.group.ap_id}

    # Pleroma: one Mention whose name and href disagree; the href counts.
    [pleroma] = corpus_tags("pleroma/activities/create_note.json")
    pleroma["href"] = ben.actor.ap_id
    reply = mastodon_create(alice, fed.group, text="und @ben", in_reply_to=page_id,
                            tag=pleroma)  # a single tag, not a list
    await fed.send(alice, reply)
    await fed.process()
    post = await stored(fed, reply["object"]["id"])
    assert await mentioned(fed, post.id) == {ben.actor.ap_id}
