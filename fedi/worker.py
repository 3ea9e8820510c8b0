"""Queue workers (filled in with the delivery queue)."""

from __future__ import annotations

from fedi.config import Settings


async def run_worker_process(settings: Settings, dsn: str, *, concurrency: int | None) -> None:
    del settings, dsn, concurrency
