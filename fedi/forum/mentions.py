"""Mentions in local posts: ``@name`` (a local user or group) and ``@name@host`` resolved
to actors when the post is written, and recorded in ``post_mentions`` (the notification
worker reads them); and the mentions of remote posts that name actors we know.

Remote handles are looked up through the actor cache or WebFinger
(fedi.federation.remote, which keeps to public addresses): at most
:data:`MAX_MENTIONS` per post, all together within :data:`RESOLVE_TIMEOUT` seconds, so a
slow server cannot hold a post up. A handle that cannot be resolved stays text, and the
author gets a warning saying so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from activitypub.errors import ProtocolError
from fedi.core.context import Context
from fedi.core.markup import render_markdown, scan_markdown
from fedi.core.mention_markup import handle_key
from fedi.federation.remote import resolve_handle
from storage import actors as actor_store
from storage import tags as tag_store
from storage.actors import Actor

log = logging.getLogger("fedi.forum.mentions")

MAX_MENTIONS = 10
RESOLVE_TIMEOUT = 5.0  # seconds for all remote lookups of one post together
MENTIONABLE = frozenset({"Person", "Group", "Service", "Application", "Organization"})


@dataclass
class Mentions:
    """A post's resolved mentions: the actors (no duplicates, in order of appearance),
    the links for the Markdown ({handle_key: profile URL}) and the warnings for the
    author (``{"code", "message", "handle"}``)."""

    actors: list[Actor] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)

    def add(self, handle: str, actor: Actor) -> None:
        self.links[handle_key(handle)] = actor.url or actor.ap_id
        if all(known.id != actor.id for known in self.actors):
            self.actors.append(actor)

    @property
    def remote_inboxes(self) -> list[str]:
        """Where the mentioned remote actors get the activity (so Mastodon notifies)."""
        return [a.delivery_inbox for a in self.actors if not a.local and a.delivery_inbox]


def _warning(code: str, handle: str, message: str) -> dict[str, str]:
    return {"code": code, "handle": "@" + handle, "message": message}


async def _local(ctx: Context, name: str) -> Actor | None:
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.by_handle(conn, name, ctx.settings.host, "Person")
    if actor is None or not actor.local or actor.deleted_at is not None:
        return None
    return actor if actor.type in MENTIONABLE else None


async def _remote(ctx: Context, handle: str) -> Actor | None:
    try:
        actor = await resolve_handle(ctx, handle)
    except (ProtocolError, httpx.HTTPError, ValueError) as exc:
        log.info("mention %s not resolved: %s", handle, exc)
        return None
    if actor.deleted_at is not None or actor.type not in MENTIONABLE:
        return None
    return actor


async def resolve(ctx: Context, source: str) -> Mentions:
    """Find and resolve the mentions of a Markdown text (outside code and links)."""
    found = scan_markdown(source)
    result = Mentions(hashtags=found.hashtags)
    own_host = ctx.settings.host.lower()
    remote: list[str] = []
    for index, handle in enumerate(found.handles):
        if index >= MAX_MENTIONS:
            result.warnings.append(_warning(
                "too_many_mentions", handle,
                f"only the first {MAX_MENTIONS} mentions of a post are resolved"))
            continue
        name, _, host = handle.partition("@")
        if not host or host.lower() == own_host:
            actor = await _local(ctx, name)
            if actor is None:
                result.warnings.append(_warning(
                    "unknown_mention", handle, f"there is no account @{name} here"))
            else:
                result.add(handle, actor)
        else:
            remote.append(handle)
    if remote:
        lookups = [asyncio.ensure_future(_remote(ctx, handle)) for handle in remote]
        done, pending = await asyncio.wait(lookups, timeout=RESOLVE_TIMEOUT)
        for task in pending:
            task.cancel()
        for handle, task in zip(remote, lookups, strict=True):
            actor = task.result() if task in done and task.exception() is None else None
            if task in done and task.exception() is not None:
                log.warning("mention %s failed: %r", handle, task.exception())
            if actor is None:
                result.warnings.append(_warning(
                    "unknown_mention", handle,
                    f"@{handle} could not be found; it stays plain text"))
            else:
                result.add(handle, actor)
    return result


def render(source: str, mentions: Mentions, base_url: str) -> str:
    """The post's HTML: resolved mentions and hashtags linked."""
    return render_markdown(source, mentions=mentions.links, tag_base=f"{base_url}/tags")


async def record(conn: Any, post_id: int, actors: Iterable[Actor]) -> None:
    """``post_mentions`` of a post, in the post's transaction."""
    await tag_store.replace_mentions(conn, post_id, [a.id for a in actors])


async def record_known(conn: Any, post_id: int, hrefs: Iterable[str]) -> None:
    """A remote post's Mention tags: those naming actors we have (ours, or remote ones
    already cached; nothing is fetched for a mention)."""
    actors = []
    for href in dict.fromkeys(hrefs):
        actor = await actor_store.by_ap_id(conn, href)
        if actor is not None and actor.deleted_at is None:
            actors.append(actor)
    await record(conn, post_id, actors)

