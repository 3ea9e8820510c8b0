"""What the domain services need from the running application, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx

from activitypub.transport import DeliveryTransport
from fedi.core.config import Settings


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    http: httpx.AsyncClient
    # Deliveries go through it when set (fedi serve, fedi worker: aiohttp, connections
    # kept per host); else through ``http`` (tests and tools that build a Context).
    transport: DeliveryTransport | None = None

    @property
    def delivery_client(self) -> httpx.AsyncClient | DeliveryTransport:
        return self.transport or self.http

    def url(self, path: str) -> str:
        """An absolute URL on this instance."""
        return self.settings.base_url + path
