"""Creating test databases on the session's PostgreSQL server (tests and the benchmark)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.db import connect
from storage.migrate import migrate


def dsn_for(server_dsn: str, database: str) -> str:
    """Replace the database name in a postgresql:// DSN (query parameters kept)."""
    parts = urlsplit(server_dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def create_database(server_dsn: str, name: str, *, template: str | None = None) -> str:
    """(Re)create database ``name``: a copy of ``template``, or a freshly migrated one."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clause = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await admin.close()
    dsn = dsn_for(server_dsn, name)
    if template is None:
        conn = await connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
    return dsn
