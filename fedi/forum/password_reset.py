"""Resetting a forgotten password by mail (issue 13 point 3).

:func:`request_reset` answers the same whether or not an account has the address (no
account enumeration: the caller answers 202 either way); when one has, it gets a mail
with ``{base}/reset/{token}`` (one hour, single use, only the SHA-256 stored, a new
request ends the older tokens). :func:`reset_password` sets the new password under the
password policy, ends every session and API token of the account, and counts as a
confirmation of the address the link was sent to. A refused new password does not use
the token up: the person can try another one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fedi.core.context import Context
from fedi.core.mail import enqueue_mail, mail_language
from fedi.forum.accounts import check_password, hash_password
from fedi.forum.confirmation import InvalidToken, new_token, token_hash
from storage import account_tokens as token_store
from storage import accounts as account_store
from storage.account_tokens import Purpose
from storage.accounts import Account

__all__ = ["INVALID_RESET", "RESET_LIFETIME", "request_reset", "reset_password",
           "token_works"]

RESET_LIFETIME = timedelta(hours=1)
RESET_PATH = "/reset/"
INVALID_RESET = ("This link to set a new password is not valid: it was used already, has "
                 "expired (after one hour) or is incomplete. Please ask for a new one.")


async def request_reset(conn: Any, ctx: Context, email: str) -> bool:
    """Queue the reset mail when an account has this address; whether one was sent (for
    logs and tests only: callers must not tell the client)."""
    account = await account_store.by_email(conn, email.strip())
    if account is None or account.status in ("rejected",):
        return False
    async with conn.transaction():
        token = await new_token(conn, account, Purpose.RESET_PASSWORD, RESET_LIFETIME)
        await enqueue_mail(conn, ctx, to=account.email, template="reset_password",
                           lang=mail_language(account), values={
                               "name": account.display_name or account.username,
                               "username": account.username,
                               "link": ctx.url(RESET_PATH + token)})
    return True


async def token_works(conn: Any, token: str) -> bool:
    """Whether a reset token would be accepted now (the page shows the form or not)."""
    if not token or len(token) > 200:
        return False
    return await token_store.peek(conn, purpose=Purpose.RESET_PASSWORD,
                                  token_hash=token_hash(token),
                                  now=datetime.now(UTC)) is not None


async def reset_password(conn: Any, token: str, password: str) -> Account:
    """Set a new password with a reset token; InvalidToken when the token does not work,
    ValidationFailed (field ``password``) when the policy refuses the password."""
    if not token or len(token) > 200:
        raise InvalidToken(INVALID_RESET)
    now = datetime.now(UTC)
    async with conn.transaction():
        row = await token_store.use(conn, purpose=Purpose.RESET_PASSWORD,
                                    token_hash=token_hash(token), now=now)
        account = await account_store.get(conn, row.account_id) if row else None
        if row is None or account is None:
            raise InvalidToken(INVALID_RESET)
        # Refused here, the transaction rolls back: the token stays unused.
        await asyncio.to_thread(check_password, password, username=account.username,
                                email=account.email)
        await account_store.set_password_hash(conn, account.id, await hash_password(password))
        # Every way in that the old password opened ends: sessions and API tokens.
        await account_store.delete_all_tokens(conn, account.id)
        await token_store.void(conn, account.id, Purpose.RESET_PASSWORD, now=now)
        # The link arrived at the address: it is confirmed (if it still is the account's).
        await token_store.confirm_email(conn, account.id, row.email, now=now)
        fresh = await account_store.get(conn, account.id)
    assert fresh is not None
    return fresh
