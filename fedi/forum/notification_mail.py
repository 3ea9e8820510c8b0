"""E-mail about notifications (issue 14): preferences, the hook that schedules grouped
immediate mails, composing a mail from notices, and one-click unsubscribe (RFC 8058).

Preferences: a mode per notification type (``immediate``, ``daily``, ``weekly``, ``off``)
given as a default plus overrides, ``{"default": "daily", "report": "immediate"}``, and an
IANA time zone for the digests' morning. An account without settings has the daily digest,
with reports and sign-ups (the moderators' and admins' work) immediately.

Immediate mail: the notices are stored by the notification worker, which calls
:func:`notifications_created` in its transaction; that upserts one mail job per account,
due after ``FEDI_NOTIFY_MAIL_DELAY`` seconds, so notices of the same minute share one mail
(:mod:`fedi.forum.notification_mail_queue` runs the job, :mod:`fedi.forum.digests` the
digests). A notice goes out at most once: in an immediate mail or in a digest, never when
it was read first.

Unsubscribe links are signed: ``<account id>.<scope>.<HMAC>`` with a random key per
account (kept in ``notification_mail_settings``); the scope is ``all`` or one type.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import available_timezones

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.core.mail import enqueue_mail, mail_language
from storage import notification_mail as store
from storage.notification_mail import PendingNotice, Recipient

__all__ = ["DEFAULT_MODE", "DEFAULT_TIMEZONE", "MODES", "TYPES", "TYPE_DEFAULTS",
           "MailPreferences", "Unsubscribed", "check_modes", "check_timezone",
           "compose_mail", "mailable", "notifications_created", "preferences",
           "read_unsubscribe_token", "send_immediate", "unsubscribe", "unsubscribe_token",
           "unsubscribe_url", "update_preferences"]

MODES = ("immediate", "daily", "weekly", "off")
TYPES = ("reply", "mention", "like", "accepted_answer", "moderation", "report", "signup",
         "new_thread", "watched_post")
DEFAULT_MODE = "daily"  # new accounts: the daily digest
# Moderators hear of reports at once, admins of sign-ups waiting for them.
TYPE_DEFAULTS = {"report": "immediate", "signup": "immediate"}
DEFAULT_TIMEZONE = "Europe/Berlin"
ALL = "all"  # the unsubscribe scope "every notification mail"


def N_(message: str) -> str:
    """Mark a message for the catalogs (the settings page translates it)."""
    return message


MODES_NOT_AN_OBJECT = N_("email_notifications must be an object of modes per type, such as "
                         '{"default": "daily", "report": "immediate"}')
UNKNOWN_TYPE = N_("email_notifications: the keys are default, reply, mention, like, "
                  "accepted_answer, moderation, report, signup, new_thread and watched_post")
UNKNOWN_MODE = N_("email_notifications: each mode is one of immediate, daily, weekly, off")
BAD_TIMEZONE = N_("timezone must be a time zone name such as Europe/Berlin")
BAD_TOKEN = N_("This unsubscribe link is not valid: it is incomplete or was changed. "
               "Please change your e-mail settings after logging in.")


@dataclass(frozen=True)
class MailPreferences:
    """What an account wants mailed: ``modes`` as stored (``default`` and overrides)."""

    modes: Mapping[str, str]
    timezone: str

    def mode(self, type_: str) -> str:
        """The effective mode of one type: its own setting; else off when everything is
        off; else the type's default (reports at once), else the default mode."""
        if type_ in self.modes:
            return self.modes[type_]
        default = self.modes.get("default", DEFAULT_MODE)
        if default == "off":
            return "off"
        return TYPE_DEFAULTS.get(type_, default)

    def types_with(self, mode: str) -> list[str]:
        return [t for t in TYPES if self.mode(t) == mode]

    def view(self) -> dict[str, Any]:
        """As the API shows it: the default, every type's effective mode."""
        return {"default": self.modes.get("default", DEFAULT_MODE),
                **{t: self.mode(t) for t in TYPES}}


# --- validation ---------------------------------------------------------------------------

def check_modes(value: Any, current: Mapping[str, str] | None = None) -> dict[str, str]:
    """``value`` merged onto ``current``: a type set to null follows the default again."""
    if not isinstance(value, dict):
        raise ValidationFailed(MODES_NOT_AN_OBJECT, field="email_notifications")
    modes = dict(current or {})
    for key, mode in value.items():
        if key != "default" and key not in TYPES:
            raise ValidationFailed(UNKNOWN_TYPE, field="email_notifications")
        if mode is None:
            modes.pop(key, None)
        elif mode not in MODES:
            raise ValidationFailed(UNKNOWN_MODE, field="email_notifications")
        else:
            modes[key] = str(mode)
    return modes


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(value: Any) -> str:
    if not isinstance(value, str) or value.strip() not in _zones():
        raise ValidationFailed(BAD_TIMEZONE, field="timezone")
    return value.strip()


# --- preferences ------------------------------------------------------------------------------

async def preferences(conn: Any, account_id: int) -> MailPreferences:
    found = await store.get_settings(conn, account_id)
    if found is None:
        return MailPreferences({}, DEFAULT_TIMEZONE)
    return MailPreferences(dict(found.modes or {}), found.timezone)


async def update_preferences(conn: Any, account_id: int, *, modes: Any = None,
                             timezone: Any = None) -> MailPreferences:
    """Change the modes (merged, see :func:`check_modes`) and/or the time zone; both are
    checked before anything is written."""
    current = await preferences(conn, account_id)
    new_modes = dict(current.modes) if modes is None else check_modes(modes, current.modes)
    new_zone = current.timezone if timezone is None else check_timezone(timezone)
    await store.save_settings(conn, account_id, modes=new_modes, timezone=new_zone)
    return MailPreferences(new_modes, new_zone)


# --- unsubscribe --------------------------------------------------------------------------------

def _mac(secret: bytes, account_id: int, scope: str) -> str:
    digest = hmac.new(secret, f"unsubscribe:{account_id}:{scope}".encode(),
                      hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(account_id: int, scope: str, secret: bytes) -> str:
    return f"{account_id}.{scope}.{_mac(secret, account_id, scope)}"


async def unsubscribe_url(conn: Any, ctx: Context, account_id: int, scope: str = ALL) -> str:
    settings = await store.ensure_settings(conn, account_id)
    token = unsubscribe_token(account_id, scope, settings.unsubscribe_secret)
    return ctx.url(f"/unsubscribe/{token}")


_TOKEN = re.compile(r"^([1-9][0-9]{0,17})\.([a-z_]{1,40})\.([A-Za-z0-9_-]{24})$")


async def read_unsubscribe_token(conn: Any, token: str) -> tuple[Recipient, str] | None:
    """The account and scope a token names, when its signature is right; else None."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    account_id, scope = int(match.group(1)), match.group(2)
    if scope != ALL and scope not in TYPES:
        return None
    settings = await store.get_settings(conn, account_id)
    account = await store.recipient(conn, account_id)
    if settings is None or account is None:
        return None
    if not hmac.compare_digest(_mac(settings.unsubscribe_secret, account_id, scope),
                               match.group(3)):
        return None
    return account, scope


@dataclass(frozen=True)
class Unsubscribed:
    account: Recipient
    scope: str


async def unsubscribe(ctx: Context, token: str) -> Unsubscribed:
    """Switch off what the token names (every notification mail, or one type); doing it
    twice changes nothing. NotFound for a token that is not ours."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await read_unsubscribe_token(conn, token)
        if found is None:
            raise NotFound(BAD_TOKEN, code="invalid_token")
        account, scope = found
        current = await preferences(conn, account.id)
        modes = {"default": "off"} if scope == ALL else {**current.modes, scope: "off"}
        await store.save_settings(conn, account.id, modes=modes, timezone=current.timezone)
    return Unsubscribed(account, scope)


# --- composing ----------------------------------------------------------------------------

def mailable(account: Recipient | None) -> bool:
    """Only active accounts with a confirmed address get notification mail."""
    return (account is not None and account.status == "active"
            and account.email_confirmed_at is not None)


def _link(ctx: Context, notice: PendingNotice) -> str:
    if notice.post_id is not None:
        if notice.post_parent_id is None or notice.thread_id in (None, notice.post_id):
            return ctx.url(f"/posts/{notice.post_id}")
        return ctx.url(f"/posts/{notice.thread_id}#post-{notice.post_id}")
    if notice.thread_id is not None:
        return ctx.url(f"/posts/{notice.thread_id}")
    if notice.type == "report":
        return ctx.url("/mod/reports")
    if notice.type == "signup":
        return ctx.url("/admin/signups")
    return ctx.url("/notifications")


def _item(ctx: Context, notice: PendingNotice) -> dict[str, Any]:
    data = notice.data if isinstance(notice.data, dict) else {}
    action, reason = data.get("action"), data.get("reason")
    return {"type": notice.type, "actor": notice.actor_name or "",
            "title": notice.thread_title or "", "group": notice.group_title or "",
            "count": notice.count, "action": action if isinstance(action, str) else "",
            "reason": reason if isinstance(reason, str) else "",
            "url": _link(ctx, notice)}


async def compose_mail(conn: Any, ctx: Context, account: Recipient,
                       notices: Sequence[PendingNotice], *, template: str,
                       extra: Mapping[str, Any] | None = None) -> None:
    """Queue one mail listing ``notices`` (in the caller's transaction), with the
    one-click unsubscribe headers of RFC 8058."""
    link = await unsubscribe_url(conn, ctx, account.id)
    await enqueue_mail(
        conn, ctx, to=account.email, template=template, lang=mail_language(account),
        values={"name": account.name, "items": [_item(ctx, n) for n in notices],
                "unsubscribe_url": link, **(extra or {})},
        headers={"List-Unsubscribe": f"<{link}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


async def send_immediate(conn: Any, ctx: Context, account_id: int) -> int:
    """Mail the account's unread notices of its immediate types not mailed yet, as one
    mail (in the caller's transaction); how many notices it lists."""
    account = await store.recipient(conn, account_id)
    if not mailable(account):
        return 0
    assert account is not None
    types = (await preferences(conn, account_id)).types_with("immediate")
    if not types:
        return 0
    notices = await store.waiting_notices(conn, account_id, types=types)
    taken = set(await store.mark_mailed(conn, [n.id for n in notices], digest=False))
    notices = [n for n in notices if n.id in taken]
    if notices:
        await compose_mail(conn, ctx, account, notices, template="notification")
    return len(notices)


# --- the hook -------------------------------------------------------------------------------

async def notifications_created(conn: Any, ctx: Context, notification_ids: Sequence[int]) -> None:
    """Called in the transaction that created the notifications: schedules their mail
    (one job per account wanting some of them at once; the job waits the grouping delay)."""
    if not notification_ids:
        return
    wanted = await store.unread_types(conn, list(notification_ids))
    delay = timedelta(seconds=ctx.settings.notify_mail_delay)
    for account_id, types in sorted(wanted.items()):
        prefs = await preferences(conn, account_id)
        if any(prefs.mode(t) == "immediate" for t in types):
            await store.schedule_immediate(conn, account_id, delay=delay)
