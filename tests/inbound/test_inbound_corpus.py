"""Corpus replay (issue 5, item 7): every activity of tests/fixtures/corpus/, as real servers
(Mastodon, Lemmy, Friendica, lotide, Pleroma, ...) sent it, arrives at our inbox over
real HTTP, signed, and lands as it should or is refused cleanly.

Each file's hosts are rewritten to hosts of a loopback peer (tests/support/inbound_peer.py) that
serves the actors it names, from the corpus's own actor documents where there are any,
else minimal ones, all with the checked-in test key. Communities (``/c/x`` and the like)
become our local group; for a file written to a Lemmy instance that is "us" (a reply to
one of its posts, a like of one), that host's users and posts become ours. What an
activity needs to exist first (the post it likes, edits or deletes, the follow it undoes)
is seeded. Every file gets a unique path prefix, so one server and one database serve
them all. Then: the answer is 202 or a 4xx with a reason, never a 5xx; the stored row
ends done, or ignored/parked with its reason, never lost; and EXPECTED says what the
file must have done to our data.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from fedi.app import create_app
from fedi.core.context import Context
from fedi.federation.remote import resolve_actor
from fedi.forum.posts import create_thread
from fedi.worker import run_once
from storage import follows as follow_store
from storage import inbox as inbox_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post
from tests.conftest import LiveServer, _fresh_database, free_port, make_settings
from tests.support.constants import PUBLIC
from tests.support.corpus import CORPUS as DEFAULT_CORPUS
from tests.support.helpers import User, make_group, make_user
from tests.support.inbound_peer import TEST_PUBLIC_PEM, Peer, post_signed

CORPUS = Path(os.environ.get("FEDI_CORPUS", DEFAULT_CORPUS))
FILES = sorted(p.relative_to(CORPUS).as_posix()
               for p in CORPUS.glob("*/activities/**/*.json")) if CORPUS.is_dir() else []


def test_corpus_is_present() -> None:
    """The replay must not pass vacuously: the corpus is in tests/fixtures/corpus."""
    assert len(FILES) > 30, f"no corpus activities at {CORPUS}"

# What each file must do; files not listed only have to be handled cleanly.
EXPECTED: dict[str, tuple[str, ...]] = {
    "friendica/activities/create_note.json": ("reply",),
    "friendica/activities/create_page_2.json": ("thread",),
    "friendica/activities/delete.json": ("deleted",),
    "friendica/activities/dislike_page.json": ("dislike",),
    "friendica/activities/undo_dislike_page.json": ("unliked",),
    "friendica/activities/update_note.json": ("updated",),
    "gnusocial/activities/create_note.json": ("ignored", "addressed to no group"),
    "gnusocial/activities/like_note.json": ("like",),
    "lemmy/activities/community/undo_lock_note.json": ("ignored", "Undo of a Lock"),
    "lemmy/activities/community/undo_lock_page.json": ("ignored", "Undo of a Lock"),
    "lemmy/activities/create_or_update/create_comment.json": ("reply",),
    "lemmy/activities/create_or_update/create_page.json": ("thread",),
    "lemmy/activities/create_or_update/create_private_message_0.19.json":
        ("ignored", "ChatMessage is not a post"),
    "lemmy/activities/create_or_update/update_page.json": ("updated",),
    "lemmy/activities/deletion/delete_page.json": ("deleted",),
    "lemmy/activities/deletion/delete_user.json": ("actor_deleted",),
    # A moderator's removal (Delete by someone else): moderation is issue 6.
    "lemmy/activities/deletion/remove_note.json": ("ignored", "only the author may delete"),
    "lemmy/activities/deletion/undo_delete_page.json": ("ignored", "Undo of a Delete"),
    "lemmy/activities/deletion/undo_remove_note.json": ("ignored", "Undo of a Delete"),
    "lemmy/activities/following/follow.json": ("followed",),
    "lemmy/activities/voting/dislike_page.json": ("dislike",),
    "lemmy/activities/voting/like_note.json": ("like",),
    "lemmy/activities/voting/undo_dislike_page.json": ("unliked",),
    "lotide/activities/create_note_reply.json": ("reply",),
    "lotide/activities/create_page_image.json": ("thread",),
    "lotide/activities/delete_note.json": ("deleted",),
    "lotide/activities/follow.json": ("followed",),
    "mastodon/activities/create_note.json": ("ignored", "addressed to no group"),
    "mastodon/activities/flag.json": ("ignored", "names nothing of this instance"),
    "mastodon/activities/follow.json": ("followed",),
    "mastodon/activities/like_page.json": ("like",),
    "mastodon/activities/undo_follow.json": ("unfollowed",),
    "mastodon/activities/undo_like_page.json": ("unliked",),
    "mitra/activities/create_post.json": ("thread",),
    "pleroma/activities/create_note.json": ("reply",),
    "pleroma/activities/follow.json": ("followed",),
    "smithereen/activities/create_note.json": ("reply",),
}
# Files written to a Lemmy instance that plays "us": its users and posts become ours.
RECEIVERS: dict[str, set[str]] = {
    "friendica/activities/create_note.json": {"lemmy.schuerz.at"},
    "pleroma/activities/create_note.json": {"enterprise.lemmy.ml"},
    "smithereen/activities/create_note.json": {"ds9.lemmy.ml"},
    "mastodon/activities/like_page.json": {"ds9.lemmy.ml"},
    "mastodon/activities/undo_like_page.json": {"ds9.lemmy.ml"},
    "pleroma/activities/follow.json": {"lemmy.ca"},
}

KEEP_HOSTS = frozenset({"www.w3.org", "w3id.org"})
ACTOR_TYPES = frozenset({"Person", "Group", "Service", "Application", "Organization"})
_URL = re.compile(r"^https?://([^/?#\s]+)", re.IGNORECASE)
_COMMUNITY = re.compile(r"^/(?:c|m|communities|category)/[^/]+")
_LOCAL_POST = re.compile(r"^/(?:post|comment)/\d+$")
_LOCAL_USER = re.compile(r"^/u/[^/]+$")
_prefixes = itertools.count(1)


def _load(rel: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CORPUS / rel).read_text())
    return loaded


def _corpus_actors() -> dict[str, dict[str, Any]]:
    found = {}
    for path in CORPUS.glob("*/objects/*.json"):
        doc = json.loads(path.read_text())
        kinds = doc.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if ACTOR_TYPES & set(kinds) and isinstance(doc.get("id"), str):
            found[doc["id"]] = doc
    return found


def _key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc.lower(), parts.path.rstrip("/")


def _map(value: Any, change: Callable[[str], str]) -> Any:
    """Every string of a document through ``change`` (``@context`` left alone)."""
    if isinstance(value, dict):
        return {k: (v if k == "@context" else _map(v, change)) for k, v in value.items()}
    if isinstance(value, list):
        return [_map(v, change) for v in value]
    if isinstance(value, str):
        return change(value)
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != "@context" for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@dataclass
class Replay:
    server: LiveServer
    ctx: Context
    group: Actor
    user: User
    peer: Peer
    actors: dict[str, dict[str, Any]] = field(default_factory=_corpus_actors)


@pytest.fixture(scope="module")
async def replay(postgres_server: str, template_dsn: str) -> AsyncIterator[Replay]:
    peer = await Peer().start(4)
    dsn = await _fresh_database(postgres_server)
    port = free_port()
    server = LiveServer(create_app(make_settings(port), dsn), port)
    await server.start()
    ctx: Context = server.app.state.ctx
    group = await make_group(ctx, "replay", title="Corpus")
    user = await make_user(ctx, "replayuser")
    try:
        yield Replay(server, ctx, group, user, peer)
    finally:
        await server.stop()
        await peer.stop()


class Plan:
    """One corpus file, rewritten onto the peer and our instance."""

    def __init__(self, replay: Replay, rel: str, doc: dict[str, Any]) -> None:
        self.replay = replay
        self.rel = rel
        self.original = doc
        self.prefix = f"/r{next(_prefixes)}"
        self.receivers = RECEIVERS.get(rel, set())
        self.hosts: dict[str, str] = {}
        self.local_posts: dict[tuple[str, str], str] = {}
        actor = doc.get("actor")
        self.actor_key = _key(actor) if isinstance(actor, str) else None

    # -- rewriting -----------------------------------------------------------------

    def url(self, value: str) -> str:
        match = _URL.match(value)
        if match is None or match.group(1).lower() in KEEP_HOSTS:
            return value
        host = match.group(1).lower()
        parts = urlsplit(value)
        community = _COMMUNITY.match(parts.path)
        group = self.replay.group
        if community and (host, community.group(0)) != self.actor_key:
            return group.ap_id + parts.path[community.end():]
        if host in self.receivers:
            if _LOCAL_USER.match(parts.path):
                return self.replay.user.actor.ap_id
            if _LOCAL_POST.match(parts.path):
                return self.local_posts[_key(value)]
            return self.replay.ctx.settings.base_url + parts.path
        if host not in self.hosts:
            self.hosts[host] = self.replay.peer.hosts[len(self.hosts)]
        return self.hosts[host] + self.prefix + value[match.end():]

    def rewrite(self, doc: Any) -> Any:
        return _map(doc, self.url)

    async def create_local_posts(self) -> None:
        """A thread of ours for each post of the receiving host the file names."""
        for value in _strings(self.original):
            match = _URL.match(value)
            if match is None or match.group(1).lower() not in self.receivers:
                continue
            if _LOCAL_POST.match(urlsplit(value).path) and _key(value) not in self.local_posts:
                post = await create_thread(self.replay.ctx, author=self.replay.user.actor,
                                           group=self.replay.group, title="Ursprung",
                                           content="Ein Beitrag hier")
                self.local_posts[_key(value)] = post.ap_id

    # -- what the peer serves ------------------------------------------------------

    def on_peer(self, url: str) -> bool:
        return any(url.startswith(host + "/") for host in self.replay.peer.hosts)

    def serve_actor(self, original: str) -> str:
        """Serve the actor at ``original`` (rewritten); returns its new id."""
        new_id = self.url(original)
        peer = self.replay.peer
        if not self.on_peer(new_id) or key_in(peer, new_id):
            return new_id
        source = self.replay.actors.get(original)
        if source is not None:
            doc = self.rewrite(copy.deepcopy(source))
            doc["id"] = new_id
            doc["publicKey"] = {"id": new_id + "#main-key", "owner": new_id,
                                "publicKeyPem": TEST_PUBLIC_PEM}
            doc.setdefault("inbox", new_id + "/inbox")
            doc["preferredUsername"] = self.username(doc.get("preferredUsername"), new_id)
            peer.put(doc)
        else:
            parts = urlsplit(new_id)
            kind = "Group" if _COMMUNITY.match(parts.path.removeprefix(self.prefix)) else "Person"
            peer.actor(f"{parts.scheme}://{parts.netloc}", parts.path, type_=kind,
                       preferredUsername=self.username(None, new_id))
        return new_id

    def username(self, name: Any, ap_id: str) -> str:
        # Names are unique per host, and all files share the peer's few hosts.
        base = name if isinstance(name, str) and name else ap_id.rstrip("/").rsplit("/", 1)[-1]
        return f"{base}_{self.prefix[1:]}"

    def author_for(self, object_id: str, actor: str) -> str:
        """Who wrote a post the file refers to: the actor when on its host, else someone
        served on the post's host."""
        if urlsplit(object_id).netloc == urlsplit(actor).netloc:
            return actor
        base = object_id[: object_id.index(self.prefix)] if self.prefix in object_id else ""
        author = base + self.prefix + "/users/replay-author"
        if not key_in(self.replay.peer, author):
            self.replay.peer.actor(base, self.prefix + "/users/replay-author",
                                   preferredUsername=self.username("author", author))
        return author

    def serve_parent(self, parent: str, actor: str) -> None:
        if not self.on_peer(parent) or key_in(self.replay.peer, parent):
            return
        self.replay.peer.put({
            "@context": "https://www.w3.org/ns/activitystreams", "id": parent,
            "type": "Note", "attributedTo": self.author_for(parent, actor),
            "content": "<p>Ursprung</p>", "to": [PUBLIC],
            "cc": [self.replay.group.ap_id], "audience": self.replay.group.ap_id,
        })

    # -- seeding what the activity acts on ----------------------------------------

    async def seed_post(self, object_id: str, actor: str) -> Post:
        ctx = self.replay.ctx
        async with ctx.pool.acquire() as conn:
            known = await post_store.by_ap_id(conn, object_id)
        if known is not None:
            return known
        author = await resolve_actor(ctx, self.author_for(object_id, actor))
        async with ctx.pool.acquire() as conn:
            return await post_store.insert(conn, {
                "ap_id": object_id, "local": False, "group_id": self.replay.group.id,
                "author_id": author.id, "parent_id": None, "depth": 0, "type": "Note",
                "title": "Seed", "content_html": "<p>seed</p>",
                "published": datetime.now(UTC) - timedelta(days=1),
            })

    async def seed(self, doc: dict[str, Any]) -> None:
        ctx = self.replay.ctx
        kind, actor, obj = doc["type"], doc["actor"], doc.get("object")
        object_id = obj.get("id") if isinstance(obj, dict) else obj
        if kind in ("Like", "Dislike") and isinstance(object_id, str):
            await self.seed_post(object_id, actor)
        elif kind == "Undo" and isinstance(obj, dict) and obj.get("type") in ("Like", "Dislike"):
            post = await self.seed_post(obj["object"], actor)
            liker = await resolve_actor(ctx, actor)
            async with ctx.pool.acquire() as conn:
                await post_store.add_like(conn, post.id, liker.id, kind=obj["type"].lower(),
                                          ap_id=obj["id"])
        elif kind == "Undo" and isinstance(obj, dict) and obj.get("type") == "Follow":
            follower = await resolve_actor(ctx, actor)
            async with ctx.pool.acquire() as conn:
                target = await conn.fetchval("SELECT id FROM actors WHERE ap_id = $1",
                                             obj["object"])
                await follow_store.upsert(conn, follower_id=follower.id, target_id=target,
                                          ap_id=obj["id"], state="accepted")
        elif kind == "Delete" and isinstance(object_id, str):
            if object_id == actor:
                await self.seed_post(f"{actor}/posts/seeded", actor)
            else:
                await self.seed_post(object_id, actor)
        elif (kind == "Update" and isinstance(obj, dict)
              and obj.get("type") not in ACTOR_TYPES and isinstance(object_id, str)):
            await self.seed_post(object_id, actor)

    async def prepare(self) -> dict[str, Any]:
        await self.create_local_posts()
        doc = self.original
        originals = [doc.get("actor")]
        obj = doc.get("object")
        if isinstance(obj, dict):
            originals += [obj.get("actor"), *_as_list(obj.get("attributedTo"))]
        originals += _as_list(doc.get("attributedTo"))
        for original in originals:
            if isinstance(original, str):
                self.serve_actor(original)
        rewritten: dict[str, Any] = self.rewrite(copy.deepcopy(doc))
        # New hosts break an FEP-8b32 proof (Mitra's) as they break an LD signature, and
        # the actors it names are served with the test key: the proof goes, as the key
        # does (proofs are tested in tests/inbound/test_integrity_proofs.py).
        rewritten.pop("proof", None)
        inner = rewritten.get("object")
        if isinstance(inner, dict) and isinstance(inner.get("inReplyTo"), str):
            self.serve_parent(inner["inReplyTo"], rewritten["actor"])
        await self.seed(rewritten)
        return rewritten


def key_in(peer: Peer, url: str) -> bool:
    from tests.support.inbound_peer import key_of

    return key_of(url) in peer.docs


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


async def _post(replay: Replay, ap_id: Any) -> Post | None:
    assert isinstance(ap_id, str), ap_id
    async with replay.ctx.pool.acquire() as conn:
        return await post_store.by_ap_id(conn, ap_id)


async def check_expected(replay: Replay, doc: dict[str, Any], expected: tuple[str, ...],
                         row: inbox_store.InboxActivity | None, status: int) -> None:
    ctx = replay.ctx
    outcome = expected[0]
    obj: Any = doc.get("object")
    object_id = obj.get("id") if isinstance(obj, dict) else obj
    pool = ctx.pool
    if outcome == "clean":
        return  # the general checks above are all there is
    if outcome == "not_stored":
        assert status == 202 and row is None
        return
    assert row is not None
    if outcome == "ignored":
        assert row.state == "ignored" and expected[1] in (row.last_error or ""), row
        return
    assert row.state == "done", row
    if outcome in ("thread", "reply"):
        post = await _post(replay, object_id)
        assert post is not None and post.group_id == replay.group.id
        assert (post.parent_id is None) == (outcome == "thread")
    elif outcome in ("like", "dislike"):
        post = await _post(replay, object_id)
        assert post is not None
        assert (post.like_count, post.dislike_count) == ((1, 0) if outcome == "like" else (0, 1))
    elif outcome == "unliked":
        post = await _post(replay, obj["object"])
        assert post is not None and (post.like_count, post.dislike_count) == (0, 0)
    elif outcome == "deleted":
        post = await _post(replay, object_id)
        assert post is not None and post.deleted_at is not None
    elif outcome == "updated":
        post = await _post(replay, object_id)
        assert post is not None and post.updated is not None
        assert post.content_html not in ("", "<p>seed</p>")
    elif outcome == "followed":
        follow = await pool.fetchrow(
            "SELECT f.* FROM follows f JOIN actors a ON a.id = f.follower_id"
            " JOIN actors t ON t.id = f.target_id WHERE a.ap_id = $1 AND t.ap_id = $2",
            doc["actor"], object_id)
        assert follow is not None and follow["state"] == "accepted"
        assert follow["ap_id"] == doc["id"]
    elif outcome == "unfollowed":
        assert await pool.fetchval(
            "SELECT count(*) FROM follows f JOIN actors a ON a.id = f.follower_id"
            " WHERE a.ap_id = $1", doc["actor"]) == 0
    elif outcome == "actor_deleted":
        assert await pool.fetchval(
            "SELECT deleted_at IS NOT NULL FROM actors WHERE ap_id = $1", doc["actor"])
        post = await _post(replay, f"{doc['actor']}/posts/seeded")
        assert post is not None and post.deleted_at is not None
    else:
        raise AssertionError(f"unknown expectation {expected}")


@pytest.mark.parametrize("rel", FILES)
async def test_corpus_activity_is_stored_or_refused_cleanly(replay: Replay, rel: str
                                                             ) -> None:
    plan = Plan(replay, rel, _load(rel))
    doc = await plan.prepare()
    actor = doc["actor"] if isinstance(doc.get("actor"), str) else doc["actor"]["id"]
    answer = await post_signed(replay.server.url + "/inbox", doc, actor + "#main-key")
    assert answer.status_code < 500, answer.text
    if answer.status_code != 202:
        body = answer.json()
        assert 400 <= answer.status_code < 500 and body["error"] and body["message"]
    await run_once(replay.ctx)
    row = None
    if isinstance(doc.get("id"), str):
        async with replay.ctx.pool.acquire() as conn:
            row = await inbox_store.by_ap_id(conn, doc["id"])
    if row is not None:
        # Never lost: finished, or refused with the reason kept.
        assert row.state in ("done", "ignored", "parked"), row
        assert row.state == "done" or row.last_error
    await check_expected(replay, doc, EXPECTED.get(rel, ("clean",)), row, answer.status_code)
    if os.environ.get("FEDI_CORPUS_REPORT"):
        outcome = row.state if row else f"not stored ({answer.status_code})"
        print(f"\nREPLAY {rel}: {outcome} {row.last_error if row else ''}")
