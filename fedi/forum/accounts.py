"""Account services: registration, password log-in, tokens, the registration mode.

No HTTP here: the JSON API and the web forum (session log-in) both call these. Failures
are typed ``AppError``s with a field where one applies.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from fedi.core.actors import check_name, create_local_actor
from fedi.core.context import Context
from fedi.core.errors import AppError, Conflict, Forbidden, Unauthorized, ValidationFailed
from fedi.forum import confirmation
from storage import accounts as store
from storage import actors as actor_store
from storage import notification_events
from storage.accounts import Account, ApiToken

__all__ = [
    "REGISTRATION_MODES",
    "TOKEN_KINDS",
    "Account",
    "ApiToken",
    "TokenMatch",
    "account_for_token",
    "authenticate",
    "check_display_name",
    "check_email",
    "check_password",
    "create_account",
    "create_token",
    "get_registration_mode",
    "hash_password",
    "hash_token",
    "issue_token",
    "list_tokens",
    "login_error",
    "register",
    "resolve_token",
    "revoke_token",
    "set_registration_mode",
    "verify_password",
]

REGISTRATION_MODES = ("open", "closed", "approval")
REGISTRATION_SETTING = "registration_mode"
TOKEN_KINDS = ("api", "session")
PASSWORD_MIN = 10
PASSWORD_MAX = 1024
# The password policy's refusals: fixed sentences (the web translates them, see
# fedi/web/messages.py) that tell the person what to do instead.
REFUSED_AS_NAME = ("the password must not be your username or e-mail address: please "
                   "choose another one")
REFUSED_AS_REPEATED = ("the password must not be one character repeated: please choose one "
                       "of different characters, for example several words")
REFUSED_AS_GUESSABLE = ("this password is too common or too easy to guess: please choose a "
                        "longer one, for example several words that do not belong together")
# zxcvbn's score runs from 0 to 4; 2 and up take more than a million guesses, beyond any
# online attack under the log-in rate limit (10 per 5 minutes per address).
PASSWORD_MIN_SCORE = 2
# zxcvbn's time grows steeply with length (about 60 ms for 20 crafted characters, seconds
# for 40): only the start of a longer password is judged. A weak start is still refused.
PASSWORD_JUDGED_CHARS = 20
DELETED_NAME = ("the name {name!r} belonged to a deleted account and cannot be used again:"
                " please choose another one")
DISPLAY_NAME_MAX = 100
EMAIL_MAX = 254
TOKEN_NAME_MAX = 100
# Deliberately loose: one @, no spaces, a dot in the domain. Real validation is a mail.
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")

_hasher = PasswordHasher()  # argon2id with the library's default cost parameters

_STATUS_ERRORS = {
    "pending": ("account_pending", "Your sign-up awaits approval by an administrator."),
    "rejected": ("account_rejected", "Your sign-up was not approved."),
    "suspended": ("account_suspended", "This account is suspended."),
}


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


# --- validation ---------------------------------------------------------------------------


def check_email(email: str) -> str:
    value = email.strip()
    if not value:
        raise ValidationFailed("email is required", field="email")
    if len(value) > EMAIL_MAX or not EMAIL_RE.match(value):
        raise ValidationFailed(f"{email!r} is not an e-mail address", field="email")
    return value


def check_password(password: str, *, username: str = "", email: str = "") -> str:
    """The password if the policy allows it: 10 to 1024 characters, not the username or
    the e-mail address (or its local part), not one character repeated, and not common
    or easy to guess (zxcvbn, with the username and e-mail address as known words)."""
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(
            f"password must be at least {PASSWORD_MIN} characters", field="password"
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(
            f"password must be at most {PASSWORD_MAX} characters", field="password"
        )
    known = [n.casefold() for n in (username, email, email.partition("@")[0]) if n]
    if password.casefold() in known:
        raise ValidationFailed(REFUSED_AS_NAME, field="password")
    if len(set(password)) == 1:
        raise ValidationFailed(REFUSED_AS_REPEATED, field="password")
    judged = zxcvbn(password[:PASSWORD_JUDGED_CHARS], user_inputs=known)
    if judged["score"] < PASSWORD_MIN_SCORE:
        raise ValidationFailed(REFUSED_AS_GUESSABLE, field="password")
    return password


def check_display_name(name: str | None, username: str) -> str:
    """Any Unicode text on one line; empty means the username."""
    value = (name or "").strip()
    if not value:
        return username
    if len(value) > DISPLAY_NAME_MAX:
        raise ValidationFailed(
            f"display_name must be at most {DISPLAY_NAME_MAX} characters", field="display_name"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationFailed(
            "display_name must not contain control characters or line breaks",
            field="display_name",
        )
    return value


# --- passwords ----------------------------------------------------------------------------


async def hash_password(password: str) -> str:
    # argon2 costs tens of milliseconds and 64 MiB: keep it off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(account: Account, password: str) -> bool:
    """Whether ``password`` is the account's (a password change asks for the current one)."""
    return await asyncio.to_thread(_verify, account.password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    # Verified for unknown usernames so that a miss costs as long as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


# --- registration -------------------------------------------------------------------------


async def get_registration_mode(conn: Any) -> str:
    value = await store.get_setting(conn, REGISTRATION_SETTING)
    return value if value in REGISTRATION_MODES else "open"


async def set_registration_mode(conn: Any, mode: str) -> str:
    if mode not in REGISTRATION_MODES:
        raise ValidationFailed(
            f"mode must be one of {', '.join(REGISTRATION_MODES)}, got {mode!r}", field="mode"
        )
    await store.set_setting(conn, REGISTRATION_SETTING, mode)
    return mode


async def register(
    conn: Any, ctx: Context, *, username: str, email: str, password: str,
    display_name: str | None = None, reason: str | None = None,
) -> Account:
    """Self-service sign-up under the instance's registration mode.

    closed -> Forbidden ``registrations_closed``; approval -> the account is ``pending``.
    """
    mode = await get_registration_mode(conn)
    if mode == "closed":
        raise Forbidden("Registrations on this instance are closed.",
                        code="registrations_closed")
    # The address is confirmed by the mail sent here (fedi/forum/confirmation.py); the
    # account and its mail are one transaction: no account without the mail.
    async with conn.transaction():
        account = await create_account(
            conn, ctx, username=username, email=email, password=password,
            display_name=display_name, status="pending" if mode == "approval" else "active",
            reason=reason, email_confirmed=False,
        )
        await confirmation.send_confirmation(conn, ctx, account)
        if account.status == "pending":  # the admins hear of it (fedi/forum/notify_queue.py)
            await notification_events.enqueue_event(conn, "signup", {"account_id": account.id})
    return account


async def create_account(
    conn: Any, ctx: Context, *, username: str, email: str, password: str,
    display_name: str | None = None, role: str = "user", status: str = "active",
    reason: str | None = None, email_confirmed: bool = True,
) -> Account:
    """Create an account and its Person actor (with keys) in one transaction. The
    e-mail address counts as confirmed unless ``email_confirmed`` is False (only the
    public sign-up, :func:`register`, makes unconfirmed accounts).

    Raises ValidationFailed (422) for bad input and Conflict (409) with ``field`` set
    when the username (shared with groups) or the e-mail address is taken.
    """
    name = check_name(username)
    address = check_email(email)
    # zxcvbn is pure Python and can take tens of milliseconds: off the event loop.
    await asyncio.to_thread(check_password, password, username=name, email=address)
    shown = check_display_name(display_name, name)
    # Cheap checks first, so a taken name costs no key generation and no hashing.
    existing = await actor_store.by_handle(conn, name, ctx.settings.host)
    if existing is not None and existing.deleted_at is not None:
        # Erased accounts keep their name (fedi/forum/erasure.py): nobody may speak as them.
        raise Conflict(DELETED_NAME.format(name=name), field="username")
    if existing is not None:
        raise Conflict(f"the name {name!r} is already taken", field="username")
    if await store.email_taken(conn, address):
        raise Conflict("an account with this e-mail address exists", field="email")
    password_hash = await hash_password(password)
    try:
        async with conn.transaction():
            actor = await create_local_actor(conn, ctx, type_="Person", username=name,
                                             name=shown)
            return await store.insert(
                conn, actor_id=actor.id, username=name, email=address,
                password_hash=password_hash, role=role, status=status,
                registration_reason=reason, email_confirmed=email_confirmed,
            )
    except asyncpg.UniqueViolationError as exc:
        # Lost a race with a concurrent sign-up.
        if exc.constraint_name == "accounts_email":
            raise Conflict("an account with this e-mail address exists",
                           field="email") from None
        raise Conflict(f"the name {name!r} is already taken", field="username") from None


# --- log-in and tokens --------------------------------------------------------------------


def login_error(account: Account) -> AppError | None:
    """The 403 to answer for an account that may not act (pending, suspended ...)."""
    if account.status == "active":
        return None
    code, message = _STATUS_ERRORS.get(
        account.status, ("account_inactive", "This account cannot log in.")
    )
    return Forbidden(message, code=code)


async def authenticate(conn: Any, username: str, password: str) -> Account:
    """The account for these credentials.

    Raises InvalidCredentials (401, one message for unknown name and wrong password)
    or Forbidden (403) when the password is right but the account may not log in.
    """
    account = await store.by_username(conn, username.strip().lstrip("@"))
    stored = account.password_hash if account is not None else _dummy_hash()
    ok = await asyncio.to_thread(_verify, stored, password)
    if account is None or not ok:
        raise InvalidCredentials("The username or the password is wrong.")
    if _hasher.check_needs_rehash(account.password_hash):
        await store.set_password_hash(conn, account.id, await hash_password(password))
    error = login_error(account)
    if error is not None:
        raise error
    return account


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _token_name(name: str) -> str:
    value = name.strip()
    if len(value) > TOKEN_NAME_MAX:
        raise ValidationFailed(f"name must be at most {TOKEN_NAME_MAX} characters", field="name")
    return value


async def create_token(
    conn: Any, account: Account, name: str = "", kind: str = "api",
    *, expires_in: timedelta | None = None,
) -> tuple[str, ApiToken]:
    """A new token (32 random bytes, url-safe base64) and its stored metadata."""
    if kind not in TOKEN_KINDS:
        raise ValueError(f"token kind must be one of {TOKEN_KINDS}, got {kind!r}")
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + expires_in if expires_in is not None else None
    row = await store.insert_token(
        conn, account_id=account.id, token_hash=hash_token(token), name=_token_name(name),
        kind=kind, expires_at=expires_at,
    )
    return token, row


async def issue_token(
    conn: Any, account: Account, name: str = "", kind: str = "api",
    *, expires_in: timedelta | None = None,
) -> str:
    """A new token for the account; only its SHA-256 is stored."""
    token, _ = await create_token(conn, account, name, kind, expires_in=expires_in)
    return token


@dataclass(frozen=True)
class TokenMatch:
    account: Account
    token: ApiToken


async def resolve_token(conn: Any, token: str) -> TokenMatch | None:
    """The account and token row for a presented token (any account status), or None.

    Records the use (at most once a minute).
    """
    if not token or len(token) > 200:
        return None
    row = await store.token_by_hash(conn, hash_token(token))
    if row is None:
        return None
    account = await store.get(conn, row.account_id)
    if account is None:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at >= timedelta(minutes=1):
        await store.touch_token(conn, row.id)
    return TokenMatch(account=account, token=row)


async def account_for_token(conn: Any, token: str) -> Account | None:
    """The active account a token belongs to; None for unknown, expired or inactive."""
    match = await resolve_token(conn, token)
    if match is None or match.account.status != "active":
        return None
    return match.account


async def list_tokens(
    conn: Any, account: Account, *, before_id: int | None = None, limit: int = 100,
) -> list[ApiToken]:
    return await store.list_tokens(conn, account.id, before_id=before_id, limit=limit)


async def revoke_token(conn: Any, account: Account, token_id: int) -> bool:
    """Revoke one of the account's own tokens; False if it has none with this id."""
    return await store.delete_token(conn, account.id, token_id)
