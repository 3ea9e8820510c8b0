"""Fixtures and builders shared by the inbound tests: our instance on loopback, a peer
with remote actors, activities in the shapes real servers send, row counts."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.core.queue import Worker
from fedi.inbound.queue import InboundQueue
from fedi.worker import run_once
from storage import inbox as inbox_store
from storage.actors import Actor
from storage.inbox import InboxActivity
from tests.conftest import LiveServer
from tests.support.clock import FakeClock
from tests.support.constants import AS, PUBLIC
from tests.support.helpers import make_group
from tests.support.inbound_peer import Peer, post_signed

_ids = itertools.count(1)


@dataclass
class Fed:
    """Our instance, one local group, and a peer with three hosts."""

    server: LiveServer
    ctx: Context
    group: Actor
    peer: Peer

    @property
    def inbox(self) -> str:
        return self.server.url + "/inbox"

    def remote(self, host: int, name: str, **extra: Any) -> dict[str, Any]:
        return self.peer.actor(host, f"/users/{name}", **extra)

    async def post(self, activity: dict[str, Any] | bytes, key_id: str, **options: Any
                   ) -> Any:
        return await post_signed(options.pop("url", self.inbox), activity, key_id, **options)

    async def send(self, actor: dict[str, Any], activity: dict[str, Any],
                   **options: Any) -> Any:
        """POST signed by ``actor`` and expect 202."""
        answer = await self.post(activity, actor["publicKey"]["id"], **options)
        assert answer.status_code == 202, answer.text
        return answer

    async def process(self) -> int:
        return await run_once(self.ctx)

    async def row(self, ap_id: str) -> InboxActivity:
        async with self.ctx.pool.acquire() as conn:
            row = await inbox_store.by_ap_id(conn, ap_id)
        assert row is not None, f"no inbox row for {ap_id}"
        return row

    async def counts(self) -> dict[str, int]:
        async with self.ctx.pool.acquire() as conn:
            return {table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
                    for table in ("posts", "follows", "likes", "inbox_activities")}

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.ctx.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        async with self.ctx.pool.acquire() as conn:
            return await conn.fetchrow(sql, *args)

    async def queued(self, type_: str) -> list[dict[str, Any]]:
        """Outgoing activities of a type we stored (each is queued for delivery)."""
        async with self.ctx.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payload FROM activities WHERE type = $1 ORDER BY id", type_)
        return [r["payload"] for r in rows]


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    started = await Peer().start(3)
    yield started
    await started.stop()


@pytest.fixture
async def fed(peer: Peer, instance: Callable[..., Awaitable[LiveServer]]) -> Fed:
    server = await instance()
    ctx: Context = server.app.state.ctx
    group = await make_group(ctx, "breitband")
    return Fed(server, ctx, group, peer)


async def run_inbound(ctx: Context, clock: FakeClock) -> int:
    return await Worker(ctx.pool, [InboundQueue(ctx, clock=clock)], concurrency=2).run_once()


def new_id(base: str, kind: str = "activities") -> str:
    return f"{base}/{kind}/{next(_ids)}"


def mastodon_create(author: dict[str, Any], group: Actor, *, text: str = "hi",
                    in_reply_to: str | None = None, status: int | None = None,
                    **note: Any) -> dict[str, Any]:
    """A Create(Note) exactly as Mastodon sends it when a post mentions a group
    (mastodon-interop.md section 5)."""
    number = status or next(_ids) + 111000
    actor = author["id"]
    base = actor.rsplit("/users/", 1)[0]
    status_id = f"{actor}/statuses/{number}"
    cc = [f"{actor}/followers", group.ap_id, f"{group.ap_id}/followers"]
    content = (f'<p><span class="h-card" translate="no"><a href="{group.url}" '
               f'class="u-url mention">@<span>{group.username}</span></a></span> {text}</p>')
    obj: dict[str, Any] = {
        "id": status_id, "type": "Note", "summary": None, "inReplyTo": in_reply_to,
        "published": "2026-08-01T10:00:00Z", "url": f"{base}/@{author['preferredUsername']}/"
        f"{number}", "attributedTo": actor, "to": [PUBLIC], "cc": cc, "sensitive": False,
        "atomUri": status_id, "inReplyToAtomUri": in_reply_to,
        "conversation": f"{base}/contexts/1-{number}", "context": f"{base}/contexts/1-{number}",
        "content": content, "contentMap": {"en": content}, "attachment": [],
        "tag": [{"type": "Mention", "href": group.ap_id, "name": f"@{group.handle}"}],
        "replies": {"id": f"{status_id}/replies", "type": "Collection",
                    "first": {"type": "CollectionPage", "next": f"{status_id}/replies?page=1",
                              "partOf": f"{status_id}/replies", "items": []}},
        "likes": {"id": f"{status_id}/likes", "type": "Collection", "totalItems": 0},
        "shares": {"id": f"{status_id}/shares", "type": "Collection", "totalItems": 0},
        "interactionPolicy": {"canQuote": {"automaticApproval": [PUBLIC]}},
    }
    obj.update(note)
    return {
        "@context": [AS, {"ostatus": "http://ostatus.org#",
                          "conversation": "ostatus:conversation",
                          "sensitive": "as:sensitive", "atomUri": "ostatus:atomUri",
                          "inReplyToAtomUri": "ostatus:inReplyToAtomUri", "toot":
                          "http://joinmastodon.org/ns#"}],
        "id": f"{status_id}/activity", "type": "Create", "actor": actor,
        "published": "2026-08-01T10:00:00Z", "to": [PUBLIC], "cc": cc, "object": obj,
        "signature": {"type": "RsaSignature2017", "creator": f"{actor}#main-key",
                      "created": "2026-08-01T10:00:01Z", "signatureValue": "bm90IGNoZWNrZWQ="},
    }


def follow(actor: dict[str, Any], target: str, *, ap_id: str | None = None
           ) -> dict[str, Any]:
    base = actor["id"].rsplit("/users/", 1)[0]
    return {"@context": AS, "id": ap_id or new_id(base, "follows"), "type": "Follow",
            "actor": actor["id"], "object": target}
