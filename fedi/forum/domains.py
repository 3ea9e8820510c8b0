"""The instance's dealings with other servers, and its moderation settings (admins only):
domain blocks and the allowlist, the delivery health of known instances, inbound
activities the queue gave up on ("parked"), and the settings ``allowlist_mode`` and
``modlog_show_moderators``.

A domain block refuses the domain's activities, stops delivering to it and hides its
content; an unblock reverses the last two. Every change writes its modlog entry in the
same transaction (fedi/forum/staff.py).
"""

from __future__ import annotations

import re
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.forum.staff import Staff, log, require_admin
from storage import accounts as account_store
from storage import deliveries as delivery_store
from storage import inbox as inbox_store
from storage import instances as instance_store
from storage import moderation as moderation_store

SHOW_MODERATORS_SETTING = "modlog_show_moderators"


# --- domains --------------------------------------------------------------------------------

_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,62}"
                   r"[a-z0-9])?(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$")


def check_domain(ctx: Context, value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    if not _HOST.match(domain):
        raise ValidationFailed(f"{value!r} is not a host name (with an optional :port)",
                               field="domain")
    if domain == ctx.settings.host.lower():
        raise ValidationFailed("this is our own host", field="domain")
    return domain


async def set_domain(ctx: Context, staff: Staff, domain: str, *, blocked: bool | None,
                     allowed: bool | None, reason: str) -> dict[str, Any]:
    """Block or unblock a domain (refuse its activities, stop delivering to it, hide its
    content; an unblock reverses the last two), and put it on or off the allowlist."""
    require_admin(staff)
    domain = check_domain(ctx, domain)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if blocked is True:
            await moderation_store.block_domain(conn, domain, reason=reason,
                                                created_by=staff.account.id)
            cancelled = await moderation_store.cancel_deliveries(conn, domain)
            hidden = await moderation_store.hide_domain_posts(conn, domain)
            await log(conn, "domain_block", staff=staff, domain=domain, reason=reason,
                      details={"cancelled_deliveries": cancelled, "hidden_posts": hidden})
        elif blocked is False:
            await _unblock(conn, staff, domain, reason)
        if allowed is True:
            await moderation_store.allow_domain(conn, domain, reason=reason,
                                                created_by=staff.account.id)
            await log(conn, "domain_allow", staff=staff, domain=domain, reason=reason)
        elif allowed is False and await moderation_store.disallow_domain(conn, domain):
            await log(conn, "domain_disallow", staff=staff, domain=domain, reason=reason)
        return await _domain_state(conn, domain)


async def _unblock(conn: Any, staff: Staff, domain: str, reason: str) -> None:
    if await moderation_store.unblock_domain(conn, domain):
        requeued = await moderation_store.requeue_cancelled(conn, domain)
        shown = await moderation_store.show_domain_posts(conn, domain)
        if requeued:
            await delivery_store.notify(conn)
        await log(conn, "domain_unblock", staff=staff, domain=domain, reason=reason,
                  details={"requeued_deliveries": requeued, "shown_posts": shown})


async def forget_domain(ctx: Context, staff: Staff, domain: str) -> None:
    """Remove a domain's block and allowlist entry."""
    require_admin(staff)
    domain = check_domain(ctx, domain)
    async with ctx.pool.acquire() as conn, conn.transaction():
        state = await _domain_state(conn, domain)
        if not state["blocked"] and not state["allowed"]:
            raise NotFound(f"{domain} is neither blocked nor allowed")
        await _unblock(conn, staff, domain, "")
        if await moderation_store.disallow_domain(conn, domain):
            await log(conn, "domain_disallow", staff=staff, domain=domain)


async def _domain_state(conn: Any, domain: str) -> dict[str, Any]:
    blocks = {b.domain: b for b in await moderation_store.domain_blocks(conn)}
    allows = {a.domain: a for a in await moderation_store.domain_allows(conn)}
    block = blocks.get(domain)
    allow = allows.get(domain)
    return {"domain": domain, "blocked": block is not None, "allowed": allow is not None,
            "reason": (block.reason if block else allow.reason if allow else "")}


async def list_domains(ctx: Context, staff: Staff) -> list[dict[str, Any]]:
    require_admin(staff)
    async with ctx.pool.acquire() as conn:
        names = sorted({b.domain for b in await moderation_store.domain_blocks(conn)}
                       | {a.domain for a in await moderation_store.domain_allows(conn)})
        return [await _domain_state(conn, name) for name in names]


# --- instances and parked activities --------------------------------------------------------

async def instance_action(ctx: Context, staff: Staff, domain: str, action: str) -> int:
    """``reset``: forget the host's failures and resume its parked deliveries;
    ``retry``: queue its failed deliveries again. Returns how many rows changed."""
    require_admin(staff)
    domain = check_domain(ctx, domain)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if action == "reset":
            known = await instance_store.reset_instance(conn, domain)
            if not known:
                raise NotFound(f"{domain} is not a known instance")
            changed = 1
        else:
            changed = await moderation_store.retry_failed_deliveries(conn, domain)
        await delivery_store.notify(conn)
        await log(conn, f"instance_{action}", staff=staff, domain=domain, public=False,
                  details={"rows": changed})
    return changed


async def parked_action(ctx: Context, staff: Staff, row_id: int, action: str) -> None:
    """Retry or discard an inbound activity the queue gave up on."""
    require_admin(staff)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await inbox_store.get(conn, row_id)
        done = (await inbox_store.retry_parked(conn, row_id) if action == "retry"
                else await inbox_store.discard_parked(conn, row_id))
        if row is None or not done:
            raise NotFound(f"no parked inbound activity {row_id}")
        await log(conn, f"inbox_{action}", staff=staff, public=False,
                  details={"inbox_id": row_id, "ap_id": row.ap_id, "type": row.type})


# --- settings ---------------------------------------------------------------------------------

async def moderation_settings(conn: Any) -> dict[str, bool]:
    return {
        "allowlist_mode": await account_store.get_setting(
            conn, moderation_store.ALLOWLIST_SETTING) is True,
        "modlog_show_moderators": await account_store.get_setting(
            conn, SHOW_MODERATORS_SETTING) is True,
    }


async def update_settings(ctx: Context, staff: Staff, changes: dict[str, bool]
                          ) -> dict[str, bool]:
    require_admin(staff)
    keys = {"allowlist_mode": moderation_store.ALLOWLIST_SETTING,
            "modlog_show_moderators": SHOW_MODERATORS_SETTING}
    async with ctx.pool.acquire() as conn, conn.transaction():
        for name, value in changes.items():
            await account_store.set_setting(conn, keys[name], value)
        await log(conn, "settings_update", staff=staff, details=dict(changes), public=False)
        return await moderation_settings(conn)
