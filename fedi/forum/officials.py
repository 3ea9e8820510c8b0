"""Official accounts: an administrator marks an account as an official voice with its
position ("Bürgermeisterin der Gemeinde Musterstadt"), or withdraws it; a confirmed
address under a configured domain (FEDI_OFFICIAL_EMAIL_DOMAINS) does it by itself.

The position lives on the actor, so every post, list and profile shows the badge; each
change is written to the modlog and federated as Update(Person), in one transaction.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.forum import confirmation
from fedi.forum.profiles import send_person_update
from fedi.forum.staff import Staff, log, require_admin
from storage import accounts as account_store
from storage import actors as actor_store
from storage import profiles as store
from storage.accounts import Account
from storage.actors import Actor

__all__ = [
    "POSITION_MAX",
    "apply_official_domains",
    "check_position",
    "confirm_address",
    "official_domain",
    "set_official",
    "withdraw_official",
]

POSITION_MAX = 200


def check_position(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationFailed("position must be text", field="position")
    text = value.strip()
    if not text:
        raise ValidationFailed("position must not be empty: say in which office the "
                               "account speaks", field="position")
    if len(text) > POSITION_MAX:
        raise ValidationFailed(f"position must be at most {POSITION_MAX} characters",
                               field="position")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationFailed("position must not contain control characters or line breaks",
                               field="position")
    return text


async def _account_actor(conn: Any, username: str) -> tuple[Account, Actor]:
    account = await account_store.by_username(conn, username.strip().lstrip("@"))
    actor = await actor_store.get(conn, account.actor_id) if account else None
    if account is None or actor is None or actor.deleted_at is not None:
        raise NotFound(f"no account {username!r}")
    return account, actor


async def _mark(conn: Any, ctx: Context, actor: Actor, position: str | None) -> Actor:
    await store.set_official(conn, actor.id, position)
    fresh = await actor_store.get(conn, actor.id)
    assert fresh is not None
    await send_person_update(conn, ctx, fresh)
    return fresh


async def set_official(ctx: Context, staff: Staff, username: str, position: Any,
                       *, reason: str = "") -> Actor:
    """Mark the account as official with ``position`` (or change the position)."""
    require_admin(staff)
    text = check_position(position)
    async with ctx.pool.acquire() as conn, conn.transaction():
        _, actor = await _account_actor(conn, username)
        fresh = await _mark(conn, ctx, actor, text)
        await log(conn, "official_set", staff=staff, target=fresh, reason=reason,
                  details={"position": text, "before": actor.official_position})
    return fresh


async def withdraw_official(ctx: Context, staff: Staff, username: str, *,
                            reason: str = "") -> Actor:
    """The account speaks for itself again; 404 when it is not official."""
    require_admin(staff)
    async with ctx.pool.acquire() as conn, conn.transaction():
        _, actor = await _account_actor(conn, username)
        if actor.official_position is None:
            raise NotFound("this account is not an official account", code="not_official")
        fresh = await _mark(conn, ctx, actor, None)
        await log(conn, "official_withdraw", staff=staff, target=fresh, reason=reason,
                  details={"position": actor.official_position})
    return fresh


def official_domain(email: str, domains: tuple[str, ...]) -> str | None:
    """The configured domain the address is under (the domain itself or a subdomain)."""
    host = email.rpartition("@")[2].strip().lower()
    for domain in domains:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


async def apply_official_domains(conn: Any, ctx: Context, account: Account) -> bool:
    """Call when the account's address has just been confirmed, in that transaction:
    an address under FEDI_OFFICIAL_EMAIL_DOMAINS makes the account official (position:
    its organisation, else "Offizielles Konto (domain)"), unless an admin already set a
    position. True when it changed."""
    domain = official_domain(account.email, ctx.settings.official_email_domains)
    if domain is None:
        return False
    actor = await actor_store.get(conn, account.actor_id)
    if actor is None or actor.deleted_at is not None or actor.official_position:
        return False
    profile = await store.get(conn, account.id)
    position = profile.organisation or f"Offizielles Konto ({domain})"
    fresh = await _mark(conn, ctx, actor, position)
    await log(conn, "official_set", staff=None, target=fresh,
              details={"position": position, "email_domain": domain})
    return True


async def confirm_address(conn: Any, ctx: Context, token: str) -> Account:
    """Confirm the address a confirmation mail went to and, in the same transaction, give
    the account the badge of an official e-mail domain (CONSUL's rule: the confirmation is
    what proves the address)."""
    async with conn.transaction():
        account = await confirmation.confirm(conn, token)
        await apply_official_domains(conn, ctx, account)
    return account
