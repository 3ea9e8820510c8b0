"""Rate limits for sign-up and log-in, per client address, for every way in.

The web forms (fedi/web/account_pages.py) and the JSON API (POST /api/v1/auth/token,
POST /api/v1/accounts) count in the same buckets: ``app.state.web_limits`` maps an action
("login", "signup") to a :class:`Limiter`. :class:`RateLimiter` keeps its counts in one
process's memory: with N web processes an address gets N times the limit, which still
stops password guessing at scale. A limiter shared by all processes (PostgreSQL) takes
the place of the objects in that mapping; its ``hit`` will be a coroutine, so the callers
(:func:`rate_wait`, and the web's own copy of it) then await it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from starlette.requests import Request

MAX_KEYS = 10_000
RATE_LIMITED_MESSAGE = "Too many attempts. Please wait a few minutes and try again."


class Limiter(Protocol):
    """Counts attempts per key (a client address)."""

    def hit(self, key: str) -> float | None:
        """Count an attempt: None when allowed, else the seconds until the next one is."""

    def reset(self, key: str) -> None:
        """Forget the key's attempts."""


def client_address(request: Request) -> str:
    """The key of a request: the client's address (uvicorn puts the proxy's
    X-Forwarded-For there when it comes from a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def rate_wait(request: Request, action: str) -> float | None:
    """Count an attempt at ``action`` from the request's address in the app's shared
    bucket; the seconds to wait when the address has used up its limit, else None."""
    limiter: Limiter = request.app.state.web_limits[action]
    return limiter.hit(client_address(request))


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float | None:
        """Count a hit; None when allowed, else the seconds until the next one is."""
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= MAX_KEYS:
                self._prune(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 1.0)
        hits.append(now)
        return None

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _prune(self, now: float) -> None:
        # Bounded memory under a flood of addresses: forget keys with no recent hit first.
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
        while len(self._hits) >= MAX_KEYS:
            self._hits.pop(next(iter(self._hits)))
