"""Account administration (admins only): approve or reject a sign-up, suspend an account
or lift the suspension, find accounts, log an account out everywhere.

A suspension also revokes the account's tokens (logged out everywhere); each change writes
its modlog entry (public for suspensions, not for sign-up decisions) in the same
transaction.
"""

from __future__ import annotations

from fedi.core.context import Context
from fedi.core.errors import Conflict, NotFound, ValidationFailed
from fedi.forum.staff import Staff, log, require_admin
from storage import accounts as account_store
from storage import actors as actor_store
from storage.accounts import Account

SEARCH_MAX = 200

# action -> (required current status, new status, public in the modlog)
ACCOUNT_ACTIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "approve": (("pending",), "active", False),
    "reject": (("pending",), "rejected", False),
    "suspend": (("active", "pending"), "suspended", True),
    "unsuspend": (("suspended",), "active", True),
}


async def account_action(ctx: Context, staff: Staff, username: str, action: str, *,
                         reason: str) -> Account:
    require_admin(staff)
    before, after, public = ACCOUNT_ACTIONS[action]
    async with ctx.pool.acquire() as conn, conn.transaction():
        account = await account_store.by_username(conn, username.strip().lstrip("@"))
        if account is None:
            raise NotFound(f"no account {username!r}")
        if account.id == staff.account.id:
            raise ValidationFailed("you cannot change your own account's status",
                                   field="username")
        if account.status not in before:
            raise Conflict(f"the account is {account.status}: cannot {action} it",
                           code="wrong_status")
        await account_store.set_account_status(conn, account.id, after)
        if after == "suspended":
            await account_store.delete_all_tokens(conn, account.id)  # logged out everywhere
        actor = await actor_store.get(conn, account.actor_id)
        await log(conn, f"account_{action}", staff=staff, target=actor, reason=reason,
                  public=public)
        changed = await account_store.get(conn, account.id)
    assert changed is not None
    return changed


async def search_accounts(ctx: Context, staff: Staff, query: str, *, limit: int,
                          offset: int = 0) -> list[Account]:
    """Local accounts by part of the username, display name or e-mail address."""
    require_admin(staff)
    if len(query) > SEARCH_MAX:
        raise ValidationFailed(f"q must be at most {SEARCH_MAX} characters", field="q")
    async with ctx.pool.acquire() as conn:
        return await account_store.search(conn, query.strip(), limit=limit, offset=offset)


async def reset_sessions(ctx: Context, staff: Staff, username: str, *, reason: str = ""
                         ) -> int:
    """Log an account out everywhere: every web session and API token ends (the person
    logs in again with the password). How many ended."""
    require_admin(staff)
    async with ctx.pool.acquire() as conn, conn.transaction():
        account = await account_store.by_username(conn, username.strip().lstrip("@"))
        if account is None:
            raise NotFound(f"no account {username!r}")
        ended = await account_store.delete_all_tokens(conn, account.id)
        actor = await actor_store.get(conn, account.actor_id)
        await log(conn, "account_sessions_reset", staff=staff, target=actor, reason=reason,
                  public=False, details={"ended": ended})
    return ended
