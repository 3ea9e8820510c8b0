"""Ports: the few outside-world capabilities the protocol code takes as arguments.

The application passes real implementations; tests pass small fakes. Nothing here
is read from globals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Resolver"]


class Resolver(Protocol):
    """Turns a host name into the IP addresses (as strings) a connection may reach.

    The default, :func:`activitypub.netguard.system_resolver`, asks the event loop's
    ``getaddrinfo``; tests pass a fake to pretend a name points somewhere else.
    """

    async def __call__(self, host: str, port: int) -> Sequence[str]: ...
