"""Profiles people run themselves: display name, bio, organisation, municipality, the
capacity in which they speak (affiliation), language; password change and log-out
everywhere; the Person document's profile fields and the Update(Person) that tells other
servers about a change.

No HTTP here: the JSON API (fedi/routes/api_me.py) and the settings page
(fedi/web/settings_pages.py) both call these. Official positions are in officials.py.
"""

from __future__ import annotations

import asyncio
import html
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from fedi.core import i18n
from fedi.core.context import Context
from fedi.core.errors import Forbidden, ValidationFailed
from fedi.core.mail import mail_language
from fedi.core.markup import render_markdown, sanitize_html
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation.documents import PUBLIC, activity, actor_document, property_value
from fedi.federation.fanout import follower_inboxes
from fedi.forum import media as media_service
from fedi.forum.accounts import (
    check_display_name,
    check_password,
    hash_password,
    verify_password,
)
from storage import accounts as account_store
from storage import actors as actor_store
from storage import profiles as store
from storage.accounts import Account
from storage.actors import Actor
from storage.profiles import AFFILIATIONS, Profile

__all__ = [
    "AFFILIATIONS",
    "AFFILIATION_LABELS",
    "BIO_MAX",
    "PROFILE_FIELDS",
    "TEXT_MAX",
    "OwnProfile",
    "account_language",
    "affiliation_label",
    "change_password",
    "log_out_everywhere",
    "own_profile",
    "person_document",
    "person_extra",
    "remote_fields",
    "send_person_update",
    "set_avatar",
    "shown_fields",
    "update_profile",
]

BIO_MAX = 2000
TEXT_MAX = 200
# The fields PATCH /api/v1/me and the settings form take.
PROFILE_FIELDS = ("display_name", "bio", "organisation", "municipality", "affiliation",
                  "language")
# English msgids, translated by the catalogs (German: Verwaltung, Bürgermeister·in ...).
AFFILIATION_LABELS = {
    "administration": "Administration",
    "mayor": "Mayor",
    "council": "Municipal council",
    "business": "Business",
    "citizen": "Citizen",
    "association": "Association/initiative",
    "research": "Research",
    "other": "Other",
}
FIELD_ORGANISATION = "Organisation"
FIELD_MUNICIPALITY = "Municipality"
FIELD_AFFILIATION = "Speaks as"
FIELD_OFFICIAL = "Official position"
# Remote profiles may carry many fields; a page shows this many.
REMOTE_FIELDS_MAX = 16


@dataclass(frozen=True)
class OwnProfile:
    """An account with everything its settings show."""

    account: Account
    actor: Actor
    profile: Profile

    @property
    def language(self) -> str | None:
        return self.account.locale if self.account.locale in i18n.LANGUAGES else None


def account_language(account: Account) -> str:
    """The language to write to this person in (mails, pages): theirs when they chose
    one, else the instance's default (the same rule the mails follow)."""
    return mail_language(account)


def affiliation_label(affiliation: str | None, lang: str) -> str:
    if affiliation not in AFFILIATION_LABELS:
        return ""
    return i18n.gettext(lang, AFFILIATION_LABELS[affiliation])


async def own_profile(conn: Any, account: Account) -> OwnProfile:
    fresh = await account_store.get(conn, account.id) or account
    actor = await actor_store.get(conn, fresh.actor_id)
    assert actor is not None
    return OwnProfile(fresh, actor, await store.get(conn, fresh.id))


# --- validation ---------------------------------------------------------------------------

# Fixed sentences (the catalogs translate them for the settings page), one set per field.
_TEXT_FIELDS = {
    "bio": (BIO_MAX, ("bio must be text", "bio must be at most 2000 characters",
                      "bio must not contain control characters")),
    "organisation": (TEXT_MAX, ("organisation must be text",
                                "organisation must be at most 200 characters",
                                "organisation must not contain control characters")),
    "municipality": (TEXT_MAX, ("municipality must be text",
                                "municipality must be at most 200 characters",
                                "municipality must not contain control characters")),
}
AFFILIATION_CHOICES = ("affiliation must be one of administration, mayor, council, business, "
                       "citizen, association, research, other")
LANGUAGE_CHOICES = "language must be one of de, en"
UNKNOWN_FIELD = ("unknown field: the profile has display_name, bio, organisation, "
                 "municipality, affiliation and language")
DISPLAY_NAME_NOT_TEXT = "display_name must be text"


def _text(value: Any, name: str) -> str:
    max_len, (not_text, too_long, control) = _TEXT_FIELDS[name]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(not_text, field=name)
    text = value.strip()
    if len(text) > max_len:
        raise ValidationFailed(too_long, field=name)
    # Line breaks belong in a bio, nowhere else.
    allowed = {"\n", "\r", "\t"} if name == "bio" else set()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        raise ValidationFailed(control, field=name)
    return text


def _affiliation(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if value not in AFFILIATIONS:
        raise ValidationFailed(AFFILIATION_CHOICES, field="affiliation")
    return str(value)


def _language(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if value not in i18n.LANGUAGES:
        raise ValidationFailed(LANGUAGE_CHOICES, field="language")
    return str(value)


def _checked(current: OwnProfile, changes: dict[str, Any]) -> tuple[str, Profile, str | None]:
    unknown = sorted(set(changes) - set(PROFILE_FIELDS))
    if unknown:
        raise ValidationFailed(UNKNOWN_FIELD, field=unknown[0])
    account, profile = current.account, current.profile
    name = current.actor.name or account.username
    if "display_name" in changes:
        if changes["display_name"] is not None and not isinstance(changes["display_name"], str):
            raise ValidationFailed(DISPLAY_NAME_NOT_TEXT, field="display_name")
        name = check_display_name(changes["display_name"], account.username)
    if "bio" in changes:
        profile = replace(profile, bio_source=_text(changes["bio"], "bio"))
    if "organisation" in changes:
        profile = replace(profile, organisation=_text(changes["organisation"], "organisation"))
    if "municipality" in changes:
        profile = replace(profile, municipality=_text(changes["municipality"], "municipality"))
    if "affiliation" in changes:
        profile = replace(profile, affiliation=_affiliation(changes["affiliation"]))
    language = current.language
    if "language" in changes:
        language = _language(changes["language"])
    return name, profile, language


# --- services -----------------------------------------------------------------------------

AVATAR_FIELD = "avatar_media_id"


async def update_profile(ctx: Context, account: Account, changes: dict[str, Any]
                         ) -> OwnProfile:
    """Change the given fields (the others stay) and, with ``avatar_media_id``, the
    avatar (one of the person's uploaded images; null removes it): all or nothing, in one
    transaction. A change others see is federated as one Update(Person) to the followers
    and the servers that know the account."""
    fields = {k: v for k, v in changes.items() if k != AVATAR_FIELD}
    released = None
    async with ctx.pool.acquire() as conn, conn.transaction():
        current = await own_profile(conn, account)
        name, profile, language = _checked(current, fields)
        await store.save(conn, profile)
        await store.update_actor(conn, current.actor.id, name=name,
                                 summary_html=render_markdown(profile.bio_source))
        await store.set_locale(conn, account.id, language)
        if AVATAR_FIELD in changes:
            released = await media_service.set_actor_picture(
                conn, ctx, actor=current.actor, uploader=current.actor, role="icon",
                media_id=changes[AVATAR_FIELD], field=AVATAR_FIELD)
        fresh = await own_profile(conn, account)
        if (_public_part(fresh) != _public_part(current)
                or fresh.actor.icon_url != current.actor.icon_url):
            await send_person_update(conn, ctx, fresh.actor)
    if released is not None:
        await media_service.delete_unused(ctx, [released])
    return fresh


async def set_avatar(ctx: Context, account: Account, media_id: Any) -> OwnProfile:
    """The person's own image ``media_id`` becomes their avatar (None: none)."""
    return await update_profile(ctx, account, {AVATAR_FIELD: media_id})


def _public_part(own: OwnProfile) -> tuple[Any, ...]:
    p = own.profile
    return (own.actor.name, p.bio_source, p.organisation, p.municipality, p.affiliation,
            own.language)


async def change_password(ctx: Context, account: Account, *, current: str, new: str,
                          keep_token_id: int | None) -> None:
    """Set a new password (the policy applies) after checking the current one; every
    other session and token ends (the one in use stays, so the person stays logged in)."""
    if not await verify_password(account, current):
        raise Forbidden("The current password is wrong.", code="wrong_password",
                        field="current_password")
    await asyncio.to_thread(check_password, new, username=account.username,
                            email=account.email)
    password_hash = await hash_password(new)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await account_store.set_password_hash(conn, account.id, password_hash)
        await store.delete_other_tokens(conn, account.id, keep_token_id)


async def log_out_everywhere(ctx: Context, account: Account) -> int:
    """End every web session and API token of the account; how many ended."""
    async with ctx.pool.acquire() as conn:
        return await account_store.delete_all_tokens(conn, account.id)


# --- federation ---------------------------------------------------------------------------

def _field_rows(profile: Profile, official: str | None, lang: str) -> list[tuple[str, str]]:
    rows = []
    if official:
        rows.append((FIELD_OFFICIAL, official))
    if profile.affiliation:
        rows.append((FIELD_AFFILIATION, affiliation_label(profile.affiliation, lang)))
    if profile.organisation:
        rows.append((FIELD_ORGANISATION, profile.organisation))
    if profile.municipality:
        rows.append((FIELD_MUNICIPALITY, profile.municipality))
    return [(i18n.gettext(lang, name), value) for name, value in rows]


async def person_extra(conn: Any, actor: Actor) -> dict[str, Any]:
    """The Person document's profile fields: ``attachment`` PropertyValues (what Mastodon
    shows as profile fields), in the account's language, and the bio's Markdown."""
    account = await account_store.by_actor(conn, actor.id)
    if account is None:
        return {}
    profile = await store.get(conn, account.id)
    lang = account_language(account)
    extra: dict[str, Any] = {"attachment": [
        property_value(name, value)
        for name, value in _field_rows(profile, actor.official_position, lang)]}
    if profile.bio_source:
        extra["source"] = {"content": profile.bio_source, "mediaType": "text/markdown"}
    return extra


async def person_document(conn: Any, actor: Actor) -> dict[str, Any]:
    keys = await actor_store.keys_for(conn, actor.id)
    return actor_document(
        actor, ed25519_multibase=keys.ed25519_public_multibase if keys else None,
        summary_source=None, extra=await person_extra(conn, actor))


async def send_person_update(conn: Any, ctx: Context, actor: Actor) -> dict[str, Any]:
    """Update(Person) with the current document, to the remote followers and every inbox
    that got an activity of this actor (where its posts and profile are shown)."""
    fresh = await actor_store.get(conn, actor.id) or actor
    document = await person_document(conn, fresh)
    update = activity(new_activity_id(ctx), "Update", fresh, document, to=[PUBLIC],
                      cc=[fresh.followers_url or fresh.ap_id])
    inboxes = [*(await follower_inboxes(conn, fresh.id)),
               *(await store.known_inboxes(conn, fresh.id))]
    await enqueue_activity(conn, ctx, actor=fresh, activity=update, inboxes=inboxes)
    return update


async def shown_fields(conn: Any, actor: Actor, lang: str) -> list[tuple[str, str]]:
    """The profile fields a person's page shows: (name, value as safe HTML). Local: the
    affiliation, organisation and municipality; remote: the fields its server sent."""
    if not actor.local:
        return remote_fields(actor)
    account = await account_store.by_actor(conn, actor.id)
    if account is None:
        return []
    profile = await store.get(conn, account.id)
    return [(name, html.escape(value)) for name, value in _field_rows(profile, None, lang)]


def remote_fields(actor: Actor) -> list[tuple[str, str]]:
    """A remote actor's profile fields (``PropertyValue`` attachments) from its cached
    document: (name as text, value as sanitised HTML)."""
    raw = actor.raw or {}
    attachments = raw.get("attachment")
    if isinstance(attachments, dict):
        attachments = [attachments]
    if not isinstance(attachments, list):
        return []
    rows = []
    for item in attachments:
        if not isinstance(item, dict) or item.get("type") != "PropertyValue":
            continue
        name, value = item.get("name"), item.get("value")
        if isinstance(name, str) and isinstance(value, str) and name.strip():
            rows.append((name.strip()[:TEXT_MAX], sanitize_html(value[:BIO_MAX])))
        if len(rows) >= REMOTE_FIELDS_MAX:
            break
    return rows
