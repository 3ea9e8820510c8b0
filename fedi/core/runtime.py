"""Process-level plumbing shared by ``fedi serve`` and ``fedi worker`` (and the other CLI
commands): logging, the database, migrations, the pool and HTTP client a process runs
on, and what counts as "the database cannot be reached". Imports nothing above it
(no routes, no features), so both the app and the workers build on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import sys
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import httpx

from activitypub.transport import DeliveryTransport
from fedi import __version__
from fedi.core.config import Settings
from fedi.core.context import Context
from storage import start_embedded
from storage.db import connect, create_pool
from storage.migrate import migrate

log = logging.getLogger("fedi.runtime")

# Errors that say the database cannot be reached (down, restarting, refusing more
# connections, a connection lost midway) rather than that a statement was wrong.
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # 08xxx
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.InterfaceError,  # the connection (or the pool) is closed
)


def _through_asyncpg(exc: BaseException) -> bool:
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        if "/asyncpg/" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached now. An OSError or a timeout
    counts when it came out of asyncpg (connecting, a lost socket, a pool acquire that
    timed out), not when some other part of the program raised it."""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return True
    return isinstance(exc, OSError | TimeoutError) and _through_asyncpg(exc)


# Deliveries to one host at once through the transport: the delivery queue's PER_HOST
# (fedi.federation.delivery_queue, a layer above; kept equal by
# tests/federation/test_delivery_transport.py).
DELIVERY_PER_HOST = 4
# Delivery connections in use at once (the worker's concurrency bounds them first); idle
# ones are kept per host whatever their number, so a post to 1,000 hosts reuses them.
DELIVERY_CONNECTIONS = 1000


def user_agent(settings: Settings) -> str:
    return f"dEMiSA/{__version__} (+{settings.base_url})"


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one and return it: a fan-out keeps a
    connection per host it delivered to (1,000 hosts, 1,000 sockets), and the usual soft
    default is 1,024. asyncio polls with epoll, so descriptors above 1,024 are fine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open files limit from %d: %s", soft, exc)
    return soft


@asynccontextmanager
async def process_context(settings: Settings, dsn: str, *, pool_size: int,
                          http_connections: int = 100) -> AsyncIterator[Context]:
    """The pool, the HTTP client (fetching) and the delivery transport of one process
    (``fedi serve`` or ``fedi worker``), closed again on exit."""
    raise_open_files_limit()
    pool = await create_pool(dsn, min_size=1, max_size=pool_size)
    transport = DeliveryTransport(
        user_agent=user_agent(settings),
        allow_private=settings.allow_private_addresses,
        max_connections=max(DELIVERY_CONNECTIONS, http_connections),
        per_host=DELIVERY_PER_HOST,
    )
    try:
        async with httpx.AsyncClient(
            headers={"User-Agent": user_agent(settings)},
            timeout=httpx.Timeout(10.0),
            limits=httpx.Limits(max_connections=http_connections,
                                max_keepalive_connections=50),
            follow_redirects=False,
        ) as http:
            try:
                yield Context(settings=settings, pool=pool, http=http, transport=transport)
            finally:
                await transport.aclose()
    finally:
        try:
            # A graceful close waits for the server's answer; an unreachable one never
            # gives it.
            await asyncio.wait_for(pool.close(), timeout=10)
        except TimeoutError:
            pool.terminate()


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


async def wait_for_database(dsn: str, *, stop: asyncio.Event | None = None,
                            first_delay: float = 0.5, max_delay: float = 10.0) -> bool:
    """Wait until the database answers (a process started while PostgreSQL is down or
    restarting waits for it instead of exiting). False when ``stop`` was set first."""
    delay = first_delay
    while True:
        try:
            conn = await connect(dsn)
        except Exception as exc:
            if not database_unavailable(exc) and not isinstance(exc, OSError):
                raise
            log.warning("database unreachable (%s): trying again in %.1f s", exc, delay)
        else:
            await conn.close()
            return True
        if stop is None:
            await asyncio.sleep(delay)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            if stop.is_set():
                return False
        delay = min(delay * 2, max_delay)


def run_periodically(job: Callable[[], Awaitable[object]], interval: float, what: str,
                     logger: logging.Logger) -> Callable[[], Awaitable[None]]:
    """Run ``job`` now and then every ``interval`` seconds in a task (a startup hook's
    loop); a database or network failure is logged as "<what> failed" and the loop goes
    on, as it does after any other error (logged with its traceback): a periodic job
    must not end for good because one run failed. Returns the hook's stopper."""

    async def loop() -> None:
        while True:
            try:
                await job()
            except (asyncpg.PostgresError, OSError) as exc:
                logger.warning("%s failed: %s", what, exc)
            except Exception:
                logger.exception("%s failed", what)
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop())

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
