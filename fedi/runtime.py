"""Process-level plumbing shared by the CLI commands: logging, the database, migrations."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from fedi.config import Settings
from storage import start_embedded
from storage.db import connect
from storage.migrate import migrate


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The embedded server's helper library is chatty at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """Yield a DSN: DATABASE_URL, or the embedded server (left again on exit)."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = start_embedded(settings.data_dir)
    try:
        yield embedded.dsn
    finally:
        embedded.stop()


async def migrate_database(dsn: str) -> list[int]:
    conn = await connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
