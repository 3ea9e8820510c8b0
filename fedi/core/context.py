"""What the domain services need from the running application, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx

from fedi.core.config import Settings


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    http: httpx.AsyncClient

    def url(self, path: str) -> str:
        """An absolute URL on this instance."""
        return self.settings.base_url + path
