"""Confirming an account's e-mail address (issue 13 point 2).

An account made through the public sign-up (API or web) starts with
``email_confirmed_at`` NULL and gets a mail with ``{base}/confirm/{token}``; the
account's ``status`` (active, pending, ...) is untouched, so log-in works as before. The
API shows ``"status": "unconfirmed"`` for an active account whose address is not yet
confirmed (:func:`shown_status`). While the instance setting ``email_confirmation`` is
``required`` (the default), :mod:`fedi.forum.policy` refuses writing to such an account
(rule ``email_unconfirmed``); with ``off`` it may write, and can still confirm.
Accounts made by an admin, ``fedi user create`` and the demo start confirmed.

Tokens: 32 random bytes, only their SHA-256 stored, single use, 48 hours; sending a new
one ends the older ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import AppError, Conflict, ValidationFailed
from fedi.core.mail import enqueue_mail, mail_language
from storage import account_tokens as token_store
from storage import accounts as account_store
from storage.account_tokens import Purpose
from storage.accounts import Account

__all__ = ["CONFIRMATION_MODES", "InvalidToken", "confirm", "confirmation_mode",
           "is_unconfirmed", "new_token", "send_confirmation", "set_confirmation_mode",
           "shown_status", "writing_blocked"]

CONFIRMATION_MODES = ("required", "off")
CONFIRMATION_SETTING = "email_confirmation"
CONFIRM_LIFETIME = timedelta(hours=48)
CONFIRM_PATH = "/confirm/"


class InvalidToken(AppError):
    """A token that is unknown, used already or expired (one answer for all three)."""

    status = 400
    code = "invalid_token"


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def new_token(conn: Any, account: Account, purpose: Purpose, lifetime: timedelta,
                    *, email: str | None = None) -> str:
    """A fresh token for ``purpose`` (ending the account's older ones); only its hash
    is stored."""
    now = datetime.now(UTC)
    await token_store.void(conn, account.id, purpose, now=now)
    token = secrets.token_urlsafe(32)
    await token_store.insert(conn, account_id=account.id, purpose=purpose,
                             token_hash=token_hash(token), email=email or account.email,
                             expires_at=now + lifetime)
    return token


def is_unconfirmed(account: Account) -> bool:
    return account.email_confirmed_at is None


def shown_status(account: Account) -> str:
    """The status the API shows: ``unconfirmed`` for an active account whose e-mail
    address is not confirmed yet, else the account's own status."""
    if account.status == "active" and is_unconfirmed(account):
        return "unconfirmed"
    return account.status


async def confirmation_mode(conn: Any) -> str:
    value = await account_store.get_setting(conn, CONFIRMATION_SETTING)
    return value if value in CONFIRMATION_MODES else "required"


async def set_confirmation_mode(conn: Any, mode: str) -> str:
    if mode not in CONFIRMATION_MODES:
        raise ValidationFailed(
            f"mode must be one of {', '.join(CONFIRMATION_MODES)}, got {mode!r}",
            field="mode")
    await account_store.set_setting(conn, CONFIRMATION_SETTING, mode)
    return mode


async def writing_blocked(conn: Any, account: Account) -> bool:
    """True when the account may not write because its address is unconfirmed."""
    return is_unconfirmed(account) and await confirmation_mode(conn) == "required"


async def send_confirmation(conn: Any, ctx: Context, account: Account) -> None:
    """Queue the confirmation mail (in the caller's transaction)."""
    if not is_unconfirmed(account):
        raise Conflict("This e-mail address is confirmed already.", code="already_confirmed")
    async with conn.transaction():
        token = await new_token(conn, account, Purpose.CONFIRM_EMAIL, CONFIRM_LIFETIME)
        await enqueue_mail(conn, ctx, to=account.email, template="confirm_email",
                           lang=mail_language(account), values={
                               "name": account.display_name or account.username,
                               "username": account.username,
                               "link": ctx.url(CONFIRM_PATH + token)})


async def token_works(conn: Any, token: str) -> bool:
    """Whether a confirmation token would be accepted now (the page before the button)."""
    if not token or len(token) > 200:
        return False
    return await token_store.peek(conn, purpose=Purpose.CONFIRM_EMAIL,
                                  token_hash=token_hash(token),
                                  now=datetime.now(UTC)) is not None


async def confirm(conn: Any, token: str) -> Account:
    """Confirm the address the token was sent to; InvalidToken when it does not work.
    (fedi.forum.officials.confirm_address also gives the badge of an official domain.)"""
    if not token or len(token) > 200:
        raise InvalidToken(INVALID_CONFIRM)
    now = datetime.now(UTC)
    async with conn.transaction():
        row = await token_store.use(conn, purpose=Purpose.CONFIRM_EMAIL,
                                    token_hash=token_hash(token), now=now)
        # The address changed since the mail was sent: that mail confirms nothing.
        if row is None or not await token_store.confirm_email(conn, row.account_id,
                                                              row.email, now=now):
            raise InvalidToken(INVALID_CONFIRM)
        account = await account_store.get(conn, row.account_id)
    assert account is not None
    return account


INVALID_CONFIRM = ("This confirmation link is not valid: it was used already, has expired "
                   "or is incomplete. Log in to have a new one sent.")
