"""The instance's own settings that admins edit (``/admin/settings``, ``PUT
/api/v1/admin/settings/instance``): its name, short description, the start page's lead
text (Markdown), the contact address and the default language, with the registration
mode and the e-mail confirmation beside them.

Stored in ``instance_settings`` (writes there bump the pages' global version, so cached
pages show a change at once); a key that was never set falls back to the config
(``FEDI_INSTANCE_NAME``) or to the built-in default. Every change writes one modlog
entry in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import ValidationFailed
from fedi.core.i18n import LANGUAGES
from fedi.core.urls import Urls
from fedi.forum import accounts, confirmation
from fedi.forum.staff import Staff, log, require_admin
from storage import instance_settings as store

NAME_MAX = 100
DESCRIPTION_MAX = 500
LEAD_MAX = 10_000
EMAIL_MAX = 254

# field -> key in instance_settings
KEYS = {
    "name": "instance_name",
    "description": "instance_description",
    "lead_markdown": "instance_lead_markdown",
    "contact_email": "instance_contact_email",
    "default_language": "instance_default_language",
}
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


@dataclass(frozen=True)
class InstanceSettings:
    name: str
    description: str
    lead_markdown: str  # "" -> the start page shows its built-in text
    contact_email: str
    default_language: str


async def current(conn: Any, config_name: str | None = None) -> InstanceSettings:
    """The settings in force: stored values, else the config's name and the defaults.

    ``config_name`` is the configured name (``ctx.settings.instance_name``); without it
    the default "dEMiSA" applies when no name is stored."""
    stored = await store.get_many(conn, list(KEYS.values()))

    def text(field: str, default: str) -> str:
        value = stored.get(KEYS[field])
        return value if isinstance(value, str) and value else default

    language = text("default_language", "de")
    return InstanceSettings(
        name=text("name", config_name or "dEMiSA"),
        description=text("description", ""),
        lead_markdown=text("lead_markdown", ""),
        contact_email=text("contact_email", ""),
        default_language=language if language in LANGUAGES else "de",
    )


def _text(value: Any, field: str, max_len: int, *, single_line: bool) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", field=field)
    text: str = value.strip()
    if "\x00" in text:
        raise ValidationFailed(f"{field} must not contain NUL characters", field=field)
    if single_line and ("\n" in text or "\r" in text):
        raise ValidationFailed(f"{field} must be one line", field=field)
    if len(text) > max_len:
        raise ValidationFailed(f"{field} must be at most {max_len} characters", field=field)
    return text


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes, checked: text fields trimmed, the name not empty, the address an
    address, the language and the modes one of theirs."""
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "name":
            value = _text(value, field, NAME_MAX, single_line=True)
            if not value:
                raise ValidationFailed("name must not be empty", field=field)
        elif field == "description":
            value = _text(value, field, DESCRIPTION_MAX, single_line=False)
        elif field == "lead_markdown":
            value = _text(value, field, LEAD_MAX, single_line=False)
        elif field == "contact_email":
            value = _text(value, field, EMAIL_MAX, single_line=True)
            if value and not _EMAIL.match(value):
                raise ValidationFailed("contact_email must be an e-mail address",
                                       field=field)
        elif field == "default_language":
            if value not in LANGUAGES:
                raise ValidationFailed(
                    f"default_language must be one of {', '.join(LANGUAGES)}", field=field)
        elif field == "registration_mode":
            if value not in accounts.REGISTRATION_MODES:
                raise ValidationFailed(
                    "registration_mode must be one of "
                    f"{', '.join(accounts.REGISTRATION_MODES)}", field=field)
        elif field == "email_confirmation":
            if value not in confirmation.CONFIRMATION_MODES:
                raise ValidationFailed(
                    "email_confirmation must be one of "
                    f"{', '.join(confirmation.CONFIRMATION_MODES)}", field=field)
        else:
            raise ValidationFailed(f"unknown setting {field!r}", field=field)
        checked[field] = value
    return checked


async def view(conn: Any, config_name: str) -> dict[str, Any]:
    """The settings and the two modes, as the API and the admin page show them."""
    now = await current(conn, config_name)
    return {
        "name": now.name, "description": now.description,
        "lead_markdown": now.lead_markdown, "contact_email": now.contact_email,
        "default_language": now.default_language,
        "registration_mode": await accounts.get_registration_mode(conn),
        "email_confirmation": await confirmation.confirmation_mode(conn),
    }


async def update(ctx: Context, staff: Staff, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some settings (admins only). The modlog gets an entry naming the fields
    changed, and one with the new modes when the registration or confirmation mode
    changed."""
    require_admin(staff)
    checked = check_changes(changes)
    async with ctx.pool.acquire() as conn, conn.transaction():
        before = await view(conn, ctx.settings.instance_name)
        changed = {field: value for field, value in checked.items() if before[field] != value}
        stored = {KEYS[field]: (value or None) for field, value in changed.items()
                  if field in KEYS}
        if stored:
            await store.set_many(conn, stored)
        if "name" in changed:
            await store.rename_actor(conn, Urls(ctx.settings.base_url).instance_actor(),
                                     changed["name"])
        if "registration_mode" in changed:
            await accounts.set_registration_mode(conn, changed["registration_mode"])
        if "email_confirmation" in changed:
            await confirmation.set_confirmation_mode(conn, changed["email_confirmation"])
        # Public (the transparency log shows them), with the names of the fields only.
        own = sorted(field for field in changed if field in KEYS)
        modes = sorted(field for field in changed if field not in KEYS)
        if own:
            await log(conn, "instance_settings_update", staff=staff,
                      details={"changed": own})
        if modes:
            await log(conn, "registration_update", staff=staff,
                      details={field: changed[field] for field in modes})
        return await view(conn, ctx.settings.instance_name)


async def instance_name(conn: Any, ctx: Context) -> str:
    """The name pages, mails and documents show."""
    return await store.instance_name(conn) or ctx.settings.instance_name
