"""Rate limits for sign-up, log-in, password resets, confirmation mails and exports, shared
by every process on the database.

The web forms (fedi/web/account_pages.py) and the JSON API (POST /api/v1/auth/token,
POST /api/v1/accounts) count in the same buckets: ``app.state.web_limits`` maps an action
("login", "signup") to a :class:`RateLimiter`. The counts live in PostgreSQL (table
``rate_limits``, storage/ratelimits.py: a sliding window per (action, key), one atomic
upsert per hit), so two ``fedi serve`` processes on one database enforce one limit, and a
restart forgets nothing. A limiter object only names the action and its limit.
"""

from __future__ import annotations

import time
from datetime import datetime

from starlette.requests import Request

from storage import ratelimits as store

RATE_LIMITED_MESSAGE = "Too many attempts. Please wait a few minutes and try again."
# Rows whose window has passed are deleted at most this often per process (seconds): the
# table holds the keys of the last window or so, however many addresses come by.
CLEANUP_EVERY = 300.0


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key of ``action``."""

    def __init__(self, action: str, limit: int, window: float) -> None:
        self.action = action
        self.limit = limit
        self.window = window
        self._cleaned_at = time.monotonic()

    async def hit(self, db: object, key: str, now: datetime | None = None) -> float | None:
        """Count a hit in the shared table; None when allowed, else the seconds until the
        next one is (at least 1). ``db``: the pool (or a connection); ``now`` for tests,
        else the database's clock."""
        if time.monotonic() - self._cleaned_at > CLEANUP_EVERY:
            self._cleaned_at = time.monotonic()
            await store.delete_expired(db, now)
        wait = await store.hit(db, self.action, key, self.limit, self.window, now)
        return None if wait is None else max(wait, 1.0)


def client_address(request: Request) -> str:
    """The key of a request: the client's address (uvicorn puts the proxy's
    X-Forwarded-For there when it comes from a trusted proxy)."""
    return request.client.host if request.client else "unknown"


async def key_wait(request: Request, action: str, key: str) -> float | None:
    """Count an attempt at ``action`` under ``key`` (an address, an e-mail address, an
    account) in the app's shared bucket; the seconds to wait when the key has used up its
    limit, else None."""
    limiter: RateLimiter = request.app.state.web_limits[action]
    return await limiter.hit(request.app.state.ctx.pool, key)


async def rate_wait(request: Request, action: str) -> float | None:
    """Count an attempt at ``action`` from the request's address (see :func:`key_wait`)."""
    return await key_wait(request, action, client_address(request))
