"""Topic groups: their whole life (create, edit, delete, appoint and remove moderators)
and finding them.

:func:`find_group` also finds groups on other instances (``name@host`` or the actor's
URL): an unknown one is looked up (WebFinger, then the actor document), cached, and
given a ``groups`` row so it lists and counts like ours.

Creating a group is for admins (or the operator at the command line); editing it and
appointing moderators for its moderators and admins; deleting it for admins. Each change
by a member of staff writes its modlog entry and queues the federated activity
(Update(Group), Delete(Group), Add/Remove on the moderators collection) in one
transaction.
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
from fedi.federation import moderation_out as out
from fedi.federation import remote
from fedi.federation.documents import actor_document
from fedi.forum import media as media_service
from fedi.forum.posts import KINDS
from fedi.forum.staff import (
    Staff,
    check_reason,
    find_actor,
    log,
    require_admin,
    require_moderator,
)
from storage import actors as actor_store
from storage import groups as group_store
from storage import moderation as moderation_store
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


MICROBLOG_FANOUTS = ("threads", "everything")


def check_microblog_fanout(value: Any) -> str:
    """What the group's followers on microblog software get boosted: ``threads`` (new
    threads and events) or ``everything`` (replies too)."""
    if value not in MICROBLOG_FANOUTS:
        raise ValidationFailed("microblog_fanout must be threads or everything",
                               field="microblog_fanout")
    return str(value)


def check_default_kind(value: Any) -> str:
    """What new threads in the group are unless their author says: question or
    discussion."""
    if value not in KINDS:
        raise ValidationFailed(f"default_kind must be one of {', '.join(KINDS)}",
                               field="default_kind")
    return str(value)


# --- a group's life --------------------------------------------------------------------------

async def create_group(
    ctx: Context, staff: Staff | None, *, name: str, title: str, summary: str = "",
    rules: str = "", language: str | None = "de", posting_restricted_to_mods: bool = False,
    moderators: list[Actor] | None = None, default_kind: str | None = None,
) -> Actor:
    """A new local topic group (a Group actor with its own keys). ``staff`` must be an
    admin; the group and its modlog entry are written in one transaction. ``None``: the
    operator (``fedi group create``, the demo content), no role to check and no modlog
    entry."""
    if staff is not None:
        require_admin(staff)
    name = check_name(name, field="name")
    title = check_title(title)
    summary = check_text(summary, "summary")
    rules = check_text(rules, "rules")
    language = check_language(language)
    kind = check_default_kind(default_kind) if default_kind is not None else None
    async with ctx.pool.acquire() as conn, conn.transaction():
        actor = await create_local_actor(
            conn, ctx, type_="Group", username=name, name=title,
            summary=render_markdown(summary) if summary else None,
            extra={"posting_restricted_to_mods": bool(posting_restricted_to_mods)},
        )
        await group_store.insert(conn, actor.id, summary_source=summary, rules_source=rules,
                                 language=language)
        if kind is not None:
            await group_store.update(conn, actor.id, default_kind=kind)
        for moderator in moderators or []:
            await group_store.add_moderator(conn, actor.id, moderator.id)
        if staff is not None:
            await log(conn, "group_create", staff=staff, group=actor)
    return actor


async def _local_group(ctx: Context, name: str) -> Actor:
    async with ctx.pool.acquire() as conn:
        group = await actor_store.local_by_name(conn, name, "Group")
    if group is None:
        raise NotFound(f"no group {name!r} here")
    return group


async def update_group(ctx: Context, staff: Staff, name: str, changes: dict[str, Any]
                       ) -> Actor:
    """Edit title, summary, rules, language, posting restriction, the default kind of new
    threads, what microblog followers get; federated as Update(Group)."""
    group = await _local_group(ctx, name)
    title = check_title(changes["title"]) if "title" in changes else None
    summary = check_text(changes["summary"], "summary") if "summary" in changes else None
    rules = check_text(changes["rules"], "rules") if "rules" in changes else None
    restricted = changes.get("posting_restricted_to_mods")
    if restricted is not None and not isinstance(restricted, bool):
        raise ValidationFailed("posting_restricted_to_mods must be true or false",
                               field="posting_restricted_to_mods")
    details: dict[str, Any] = {}
    if "language" in changes:
        details["language"] = check_language(changes["language"])
    if summary is not None:
        details["summary_source"] = summary
    if rules is not None:
        details["rules_source"] = rules
    if "default_kind" in changes:
        details["default_kind"] = check_default_kind(changes["default_kind"])
    if "microblog_fanout" in changes:
        details["microblog_fanout"] = check_microblog_fanout(changes["microblog_fanout"])
    # Issue 19: the group's icon and banner, uploads of the one editing (forum/media.py).
    pictures = {k: changes[k] for k in media_service.GROUP_PICTURES if k in changes}
    if title is None and restricted is None and not details and not pictures:
        raise ValidationFailed("nothing to change: give title, summary, rules, language, "
                               "default_kind or posting_restricted_to_mods", field="title")
    async with ctx.pool.acquire() as conn, conn.transaction():
        await require_moderator(conn, staff, group)
        await moderation_store.update_group_profile(
            conn, group.id, name=title,
            summary=render_markdown(summary) if summary is not None else None,
            posting_restricted_to_mods=restricted)
        await group_store.update(conn, group.id, **details)
        released = await media_service.set_group_pictures(
            conn, ctx, group=group, uploader=staff.actor, changes=pictures)
        fresh = await actor_store.get(conn, group.id)
        assert fresh is not None
        keys = await actor_store.keys_for(conn, fresh.id)
        row = await group_store.get(conn, fresh.id)
        document = actor_document(
            fresh, ed25519_multibase=keys.ed25519_public_multibase if keys else None,
            summary_source=row.summary_source if row else None)
        sent = await out.send_group_update(conn, ctx, group=fresh, document=document)
        await log(conn, "group_update", staff=staff, group=fresh, activity=sent,
                  details={"fields": sorted(k for k in changes if k != "reason")},
                  reason=check_reason(changes.get("reason")))
    await media_service.delete_unused(ctx, released)
    return fresh


async def delete_group(ctx: Context, staff: Staff, name: str, *, reason: str) -> None:
    require_admin(staff)
    group = await _local_group(ctx, name)
    async with ctx.pool.acquire() as conn, conn.transaction():
        sent = await out.send_group_delete(conn, ctx, group=group)
        await actor_store.mark_deleted(conn, group.id)
        await log(conn, "group_delete", staff=staff, group=group, reason=reason,
                  activity=sent)


async def set_moderator(ctx: Context, staff: Staff, name: str, actor_ref: str, *,
                        appoint: bool) -> list[Actor]:
    """Appoint or remove a moderator (local or remote); federated as Add/Remove with
    target = the moderators collection. Returns the moderators afterwards."""
    group = await _local_group(ctx, name)
    async with ctx.pool.acquire() as conn:
        await require_moderator(conn, staff, group)
    person = await find_actor(ctx, actor_ref)
    if person.type not in ("Person", "Service"):
        raise ValidationFailed(f"{person.handle} is a {person.type}, not a person",
                               field="actor")
    async with ctx.pool.acquire() as conn, conn.transaction():
        if appoint:
            changed = await group_store.add_moderator(conn, group.id, person.id)
        else:
            changed = await group_store.remove_moderator(conn, group.id, person.id)
        if not changed and not appoint:
            raise NotFound(f"{person.handle} is not a moderator of {group.handle}")
        if changed:
            sent = await out.send_moderator_change(conn, ctx, group=group, acting=staff.actor,
                                                   moderator=person, added=appoint)
            await log(conn, "moderator_add" if appoint else "moderator_remove", staff=staff,
                      group=group, target=person, activity=sent)
        return await group_store.moderators(conn, group.id)


# --- finding groups -------------------------------------------------------------------------

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
