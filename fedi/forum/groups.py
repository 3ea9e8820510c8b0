"""Topic groups: creating, finding and describing them.

:func:`find_group` also finds groups on other instances (``name@host`` or the actor's
URL): an unknown one is looked up (WebFinger, then the actor document), cached, and
given a ``groups`` row so it lists and counts like ours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from activitypub.errors import (
    FetchStatusError,
    InvalidObject,
    NotActivityPub,
    OriginMismatch,
    ProtocolError,
    UnsafeAddress,
    WebFingerError,
)
from activitypub.webfinger import parse_handle
from fedi.core.actors import check_name, create_local_actor
from fedi.core.context import Context
from fedi.core.errors import AppError, BadGateway, NotFound, ValidationFailed
from fedi.core.markup import render_markdown
from fedi.federation import remote
from storage import actors as actor_store
from storage import groups as group_store
from storage.actors import Actor

TITLE_MAX = 100
SUMMARY_MAX = 5000
LANGUAGE_MAX = 12


def check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationFailed("title is required", field="title")
    value = " ".join(title.split())
    if len(value) > TITLE_MAX:
        raise ValidationFailed(f"title must be at most {TITLE_MAX} characters", field="title")
    return value


def check_text(value: Any, field: str, max_len: int = SUMMARY_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    if len(value) > max_len:
        raise ValidationFailed(f"{field} must be at most {max_len} characters", field=field)
    return value.strip()


def check_language(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > LANGUAGE_MAX or not all(
        part.isalnum() for part in value.split("-")
    ):
        raise ValidationFailed("language must be a language tag such as 'de' or 'en'",
                               field="language")
    return value.lower()


async def create_group(
    ctx: Context, *, name: str, title: str, summary: str = "", rules: str = "",
    language: str | None = "de", posting_restricted_to_mods: bool = False,
    moderators: list[Actor] | None = None,
    on_created: Callable[[Any, Actor], Awaitable[None]] | None = None,
) -> Actor:
    """A new local topic group (a Group actor with its own keys). ``on_created(conn,
    group)`` runs in the same transaction (the modlog entry of an admin's create)."""
    name = check_name(name, field="name")
    title = check_title(title)
    summary = check_text(summary, "summary")
    rules = check_text(rules, "rules")
    language = check_language(language)
    async with ctx.pool.acquire() as conn, conn.transaction():
        actor = await create_local_actor(
            conn, ctx, type_="Group", username=name, name=title,
            summary=render_markdown(summary) if summary else None,
            extra={"posting_restricted_to_mods": bool(posting_restricted_to_mods)},
        )
        await group_store.insert(conn, actor.id, summary_source=summary, rules_source=rules,
                                 language=language)
        for moderator in moderators or []:
            await group_store.add_moderator(conn, actor.id, moderator.id)
        if on_created is not None:
            await on_created(conn, actor)
    return actor


def split_ref(ref: str, own_host: str) -> tuple[str, str]:
    """``name`` or ``name@host`` (also ``!name@host``, ``@name@host``) -> (name, host)."""
    value = ref.strip().lstrip("!@")
    if "@" in value:
        name, _, host = value.partition("@")
    else:
        name, host = value, own_host
    if not name or not host:
        raise ValidationFailed(f"{ref!r} is not a group name or name@host", field="ref")
    return name.lower(), host.lower()


def remote_lookup_error(exc: ProtocolError, what: str) -> AppError:
    """A failed remote lookup as the answer the API gives: 404 when the host says there
    is no such thing, 422 for an address we must not contact, 502 when the host could
    not be reached or sent something unusable."""
    if isinstance(exc, WebFingerError) or (
        isinstance(exc, FetchStatusError) and exc.status in (404, 410)
    ):
        return NotFound(f"no such group at that host: {what} ({exc.reason})",
                        code="remote_not_found")
    if isinstance(exc, UnsafeAddress):
        return ValidationFailed(f"{what} is on a host we do not contact: {exc.reason}",
                                field="ref")
    if isinstance(exc, InvalidObject | NotActivityPub | OriginMismatch):
        return BadGateway(f"{what} did not answer with a usable group document: {exc.reason}")
    return BadGateway(f"could not reach the host of {what}: {exc.reason}")


async def find_group(ctx: Context, ref: str) -> Actor:
    """A group by ``name``, ``name@host`` or actor URL; a remote one unknown here is looked
    up and cached. NotFound when there is none, BadGateway when its host fails."""
    own_host = ctx.settings.host.lower()
    value = ref.strip()
    if value.startswith(("https://", "http://")):
        if urlsplit(value).netloc.lower() == own_host:
            async with ctx.pool.acquire() as conn:
                actor = await actor_store.by_ap_id(conn, value)
            return _live_group(actor, value)
        return await _remote_group(ctx, value, lambda: remote.resolve_actor(ctx, value))
    name, host = split_ref(value, own_host)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.by_handle(conn, name, host, "Group")
    if host == own_host or (actor is not None and actor.type == "Group"
                            and actor.deleted_at is None):
        return await _ensure_group_row(ctx, _live_group(actor, f"{name}@{host}"))
    try:
        parse_handle(f"{name}@{host}")
    except WebFingerError:
        raise ValidationFailed(f"{ref!r} is not a group name or name@host",
                               field="ref") from None
    return await _remote_group(ctx, f"{name}@{host}",
                               lambda: remote.resolve_handle(ctx, f"{name}@{host}"))


def _live_group(actor: Actor | None, what: str) -> Actor:
    if actor is None or actor.type != "Group" or actor.deleted_at is not None:
        raise NotFound(f"no group {what} is known here")
    return actor


async def _remote_group(ctx: Context, what: str,
                        resolve: Callable[[], Awaitable[Actor]]) -> Actor:
    try:
        actor = await resolve()
    except ProtocolError as exc:
        raise remote_lookup_error(exc, what) from None
    if actor.deleted_at is not None:
        raise NotFound(f"the group {what} has been deleted")
    if actor.type != "Group":
        raise ValidationFailed(f"{what} is a {actor.type}, not a group", field="ref",
                               code="not_a_group")
    return await _ensure_group_row(ctx, actor)


async def _ensure_group_row(ctx: Context, actor: Actor) -> Actor:
    """Remote groups get their ``groups`` row on first sight (posts reference it)."""
    if not actor.local:
        async with ctx.pool.acquire() as conn:
            if await group_store.get(conn, actor.id) is None:
                await group_store.insert(conn, actor.id)
    return actor
