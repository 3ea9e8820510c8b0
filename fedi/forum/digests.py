"""Daily and weekly digests of notifications (issue 14).

A digest belongs to a period: ``daily:2026-12-05`` starts at 07:00 in the account's time
zone that day, ``weekly:2026-W49`` at 07:00 on that week's Monday. Once a period has
started, an account with waiting notices of its daily (weekly) types created before the
start gets one digest of them. ``now=True`` (``fedi notifications send-digests --now``)
ignores the morning: the period is the current day (week) and every waiting notice counts.

Each digest is one transaction: insert the digest's row (UNIQUE account and period: a
second worker, or the CLI beside a worker, waits for the first and then finds the row),
mark the notices digested, queue the mail. So nothing is sent twice, however many run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fedi.core.context import Context
from fedi.forum.notification_mail import DEFAULT_TIMEZONE, compose_mail, mailable, preferences
from storage import notification_mail as store
from storage.notification_mail import PendingNotice

__all__ = ["DIGEST_HOUR", "KINDS", "Period", "current_period", "send_digests"]

log = logging.getLogger("fedi.forum.digests")

DIGEST_HOUR = 7  # the local morning after which a day's (week's) digest goes out
KINDS = ("daily", "weekly")
# Older waiting notices are no news: a digest lists those of the last eight days.
LOOK_BACK = timedelta(days=8)


@dataclass(frozen=True)
class Period:
    key: str  # "daily:2026-12-05", "weekly:2026-W49"
    # Notices created before this moment belong to the period's digest.
    cutoff: datetime


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(DIGEST_HOUR), tzinfo=zone)


def _key(kind: str, day: date) -> str:
    if kind == "daily":
        return f"daily:{day.isoformat()}"
    year, week, _ = day.isocalendar()
    return f"weekly:{year}-W{week:02d}"


def current_period(kind: str, now: datetime, timezone: str, *, ignore_morning: bool = False
                   ) -> Period:
    """The period whose digest is due at ``now``: the latest one that has started."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError):  # a zone removed from tzdata since it was chosen
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    local = now.astimezone(zone)
    if ignore_morning:
        return Period(_key(kind, local.date()), now)
    day = local.date()
    if kind == "weekly":
        day -= timedelta(days=day.weekday())  # that week's Monday
    start = _start(day, zone)
    if local < start:
        day -= timedelta(days=1 if kind == "daily" else 7)
        start = _start(day, zone)
    return Period(_key(kind, day), start)


async def _waiting(conn: Any, account_id: int, types: list[str], period: Period,
                   now: datetime) -> list[PendingNotice]:
    return await store.waiting_notices(conn, account_id, types=types,
                                       created_before=period.cutoff,
                                       created_after=now - LOOK_BACK)


async def _digest(ctx: Context, account_id: int, kind: str, now: datetime,
                  ignore_morning: bool) -> int:
    """One account's digest of ``kind``, when due and not sent yet; how many notices."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        prefs = await preferences(conn, account_id)
        types = prefs.types_with(kind)
        account = await store.recipient(conn, account_id)
        if not types or not mailable(account):
            return 0
        assert account is not None
        period = current_period(kind, now, prefs.timezone, ignore_morning=ignore_morning)
        if not await _waiting(conn, account_id, types, period, now):
            return 0
        digest_id = await store.claim_digest(conn, account_id, period.key)
        if digest_id is None:
            return 0  # sent already (by another worker, or earlier in the period)
        notices = await _waiting(conn, account_id, types, period, now)
        taken = set(await store.mark_mailed(conn, [n.id for n in notices], digest=True))
        notices = [n for n in notices if n.id in taken]
        if not notices:
            # Taken meanwhile by another mail: no digest, the period stays open.
            await store.drop_digest(conn, digest_id)
            return 0
        await store.set_digest_items(conn, digest_id, len(notices))
        await compose_mail(conn, ctx, account, notices, template="digest",
                           extra={"weekly": kind == "weekly", "period": period.key})
        return len(notices)


async def send_digests(ctx: Context, *, now: datetime, ignore_morning: bool = False) -> int:
    """Build every digest due at ``now``; how many digests were queued."""
    async with ctx.pool.acquire() as conn:
        accounts = await store.accounts_waiting(conn, since=now - LOOK_BACK)
    sent = 0
    for account_id in accounts:
        for kind in KINDS:
            if await _digest(ctx, account_id, kind, now, ignore_morning):
                sent += 1
    if sent:
        log.info("%d notification digests queued", sent)
    return sent
