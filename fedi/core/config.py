"""Settings read once from the environment (documented in the README's configuration table)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting has a wrong value; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    base_url: str
    database_url: str | None
    data_dir: Path
    allow_private_addresses: bool
    instance_name: str
    log_level: str
    workers: int
    demo: bool

    @property
    def host(self) -> str:
        """The host as it appears in actor ids (with the port when there is one)."""
        return urlsplit(self.base_url).netloc

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base_url = _base_url(env.get("FEDI_BASE_URL", "http://127.0.0.1:8000"))
        database_url = env.get("DATABASE_URL") or None
        if database_url is not None and not database_url.startswith(
            ("postgres://", "postgresql://")
        ):
            raise ConfigError(
                "DATABASE_URL must start with postgresql:// or postgres://, "
                f"got {database_url.split(':', 1)[0]!r}"
            )
        loopback = _is_loopback_host(urlsplit(base_url).hostname or "")
        return cls(
            base_url=base_url,
            database_url=database_url,
            data_dir=Path(env.get("FEDI_DATA_DIR", "./.fedi-data")),
            allow_private_addresses=_bool(env, "FEDI_ALLOW_PRIVATE_ADDRESSES", loopback),
            instance_name=env.get("FEDI_INSTANCE_NAME", "dEMiSA").strip() or "dEMiSA",
            log_level=_log_level(env.get("FEDI_LOG_LEVEL", "INFO")),
            workers=_int(env, "FEDI_WORKERS", 4, minimum=0, maximum=256),
            demo=_bool(env, "FEDI_DEMO", True),
        )


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "FEDI_BASE_URL must be an http(s) origin such as https://forum.example.de, "
            f"got {value!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"FEDI_BASE_URL must be an origin without a path, got {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ConfigError(f"FEDI_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return value
