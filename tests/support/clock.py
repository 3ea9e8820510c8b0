"""A clock the tests move forward instead of waiting (the workers, signatures and
policies take a ``clock`` callable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """The code's notion of now; by default a little ahead of the real one, so rows queued
    just after it is made (at the database's now) are already due."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now if now is not None else datetime.now(UTC) + timedelta(seconds=5)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
