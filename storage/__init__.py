"""PostgreSQL persistence through asyncpg: rows and SQL, no ActivityPub meaning."""

from storage.db import Pool, create_pool, transaction
from storage.embedded import EmbeddedPostgres, start_embedded
from storage.migrate import applied_migrations, available_migrations, migrate

__all__ = [
    "EmbeddedPostgres",
    "Pool",
    "applied_migrations",
    "available_migrations",
    "create_pool",
    "migrate",
    "start_embedded",
    "transaction",
]
