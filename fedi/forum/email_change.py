"""Changing the e-mail address (issue 13 point 4): asked for with the password, confirmed
by a link mailed to the new address (48 hours, once), and announced to the old address,
so a stolen session cannot quietly move the account away. On confirmation a new address
under FEDI_OFFICIAL_EMAIL_DOMAINS makes the account official (officials.py)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from fedi.core.context import Context
from fedi.core.errors import AppError, Conflict, Forbidden, ValidationFailed
from fedi.core.mail import enqueue_mail
from fedi.forum.accounts import check_email, verify_password
from fedi.forum.officials import apply_official_domains
from fedi.forum.profiles import account_language
from storage import accounts as account_store
from storage import profiles as store
from storage.accounts import Account

__all__ = ["CONFIRM_PATH", "InvalidEmailToken", "confirm_email_change",
           "pending_address", "request_email_change"]

LIFETIME = timedelta(hours=48)
CONFIRM_PATH = "/email/confirm/"
INVALID = ("This link to confirm a new e-mail address is not valid: it was used already, "
           "has expired or is incomplete. Please ask for the change again in the settings.")
TAKEN = "an account with this e-mail address exists"


class InvalidEmailToken(AppError):
    status = 400
    code = "invalid_token"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def request_email_change(ctx: Context, account: Account, *, password: str,
                               new_email: str) -> str:
    """Check the password and the address, then queue the two mails (the link to the
    new address, the notice to the old one) in one transaction; the new address."""
    if not await verify_password(account, password):
        raise Forbidden("The current password is wrong.", code="wrong_password",
                        field="current_password")
    address = check_email(new_email)
    if address.casefold() == account.email.casefold():
        raise ValidationFailed("this is your current e-mail address already", field="email")
    token = secrets.token_urlsafe(32)
    lang = account_language(account)
    name = account.display_name or account.username
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await account_store.email_taken(conn, address):
            raise Conflict(TAKEN, field="email")
        await store.insert_email_change(conn, account_id=account.id, new_email=address,
                                        token_hash=_hash(token),
                                        expires_at=datetime.now(UTC) + LIFETIME)
        await enqueue_mail(conn, ctx, to=address, template="email_change_confirm", lang=lang,
                           values={"name": name, "username": account.username,
                                   "link": ctx.url(CONFIRM_PATH + token)})
        await enqueue_mail(conn, ctx, to=account.email, template="email_change_notice",
                           lang=lang, values={"name": name, "username": account.username,
                                              "new_email": address})
    return address


async def pending_address(conn: Any, token: str) -> str | None:
    """The new address a token would confirm (the page before the button), or None."""
    if not token or len(token) > 200:
        return None
    return await store.peek_email_change(conn, _hash(token))


async def confirm_email_change(ctx: Context, token: str) -> Account:
    """Make the new address the account's (confirmed); InvalidEmailToken when the token
    does not work, Conflict when another account took the address meanwhile."""
    if not token or len(token) > 200:
        raise InvalidEmailToken(INVALID)
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            found = await store.use_email_change(conn, _hash(token))
            if found is None:
                raise InvalidEmailToken(INVALID)
            account_id, address = found
            await store.set_email(conn, account_id, address)
            account = await account_store.get(conn, account_id)
            assert account is not None
            await apply_official_domains(conn, ctx, account)
    except asyncpg.UniqueViolationError:
        raise Conflict(TAKEN, field="email") from None
    return account
