"""Topic groups: creating, finding and describing them."""

from __future__ import annotations

from typing import Any

from fedi.actors import check_name, create_local_actor
from fedi.context import Context
from fedi.errors import NotFound, ValidationFailed
from fedi.forum.markup import render_markdown
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
) -> Actor:
    """A new local topic group (a Group actor with its own keys)."""
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


async def find_group(ctx: Context, ref: str) -> Actor:
    """A group we know by ``name`` or ``name@host``; NotFound otherwise."""
    name, host = split_ref(ref, ctx.settings.host)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.by_handle(conn, name, host)
    if actor is None or actor.type != "Group" or actor.deleted_at is not None:
        raise NotFound(f"no group {name}@{host} is known here")
    return actor
