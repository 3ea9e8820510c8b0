"""Settings read once from the environment (documented in the README's configuration table)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting has a wrong value; the message names the variable."""


# Jobs in flight per worker process (FEDI_WORKERS). Deliveries mostly wait on the network:
# a fan-out can go no faster than this many per round trip (32 at 100 ms: 320/s). On
# loopback (tests/bench/fanout.py, 1,000 hosts, 2 cores) 16, 32 and 64 sent about equally
# fast, CPU-bound; PostgreSQL's CPU per delivery fell as more were in flight (outcomes
# batch better), 4 and 8 were slower (issue 17).
DEFAULT_WORKERS = 32


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
    # Outgoing mail (issue 13): None writes .eml files to data_dir/mail/ instead.
    smtp: SmtpTarget | None = None
    mail_from: str = ""
    # Confirmed addresses under these domains make an account official (issue 13).
    official_email_domains: tuple[str, ...] = ()
    # Seconds an immediate notification mail waits for more notices to group (issue 14).
    notify_mail_delay: int = 60
    # Uploads (issue 19): the largest file in MB, each account's total in MB (0: no
    # limit), and an S3-compatible store instead of data_dir/media (fedi/core/media_store.py).
    media_max_mb: int = 10
    media_quota_mb: int = 500
    media_s3_url: str | None = field(default=None, repr=False)
    # Secure mode (issue 20): ActivityPub GETs need an HTTP signature (FEDI_AUTHORIZED_FETCH).
    authorized_fetch: bool = False

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
            workers=_int(env, "FEDI_WORKERS", DEFAULT_WORKERS, minimum=0, maximum=256),
            demo=_bool(env, "FEDI_DEMO", True),
            smtp=parse_smtp_url(env.get("FEDI_SMTP_URL", "")),
            mail_from=_mail_from(env.get("FEDI_MAIL_FROM", ""), base_url),
            official_email_domains=_domains(env, "FEDI_OFFICIAL_EMAIL_DOMAINS"),
            notify_mail_delay=_int(env, "FEDI_NOTIFY_MAIL_DELAY", 60, minimum=0,
                                   maximum=3600),
            media_max_mb=_int(env, "FEDI_MEDIA_MAX_MB", 10, minimum=1, maximum=1024),
            media_quota_mb=_int(env, "FEDI_MEDIA_QUOTA_MB", 500, minimum=0,
                                maximum=10_000_000),
            media_s3_url=_s3_url(env.get("FEDI_MEDIA_S3_URL", "")),
            authorized_fetch=_bool(env, "FEDI_AUTHORIZED_FETCH", False),
        )


def _s3_url(value: str) -> str | None:
    """``https://KEY:SECRET@s3.example.de/bucket`` (credentials optional: else boto3's
    usual sources); plain http only to a loopback host."""
    raw = value.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    bucket = parts.path.strip("/")
    if parts.scheme not in ("http", "https") or not parts.hostname or not bucket \
            or "/" in bucket:
        raise ConfigError("FEDI_MEDIA_S3_URL must look like "
                          "https://KEY:SECRET@s3.example.de/bucket")
    if parts.scheme == "http" and not _is_loopback_host(parts.hostname):
        raise ConfigError("FEDI_MEDIA_S3_URL: plain http is allowed to a loopback address "
                          f"only, not to {parts.hostname!r}")
    return raw


def _domains(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of host names, lower-cased (``musterstadt.de,kreis-x.de``)."""
    found = []
    for part in env.get(name, "").split(","):
        domain = part.strip().lower().lstrip("@")
        if not domain:
            continue
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+",
                            domain):
            raise ConfigError(f"{name} must be domain names separated by commas, "
                              f"got {part.strip()!r}")
        found.append(domain)
    return tuple(found)


@dataclass(frozen=True)
class SmtpTarget:
    """Where mail goes (``FEDI_SMTP_URL``): ``tls`` is ``starttls``, ``tls`` (implicit,
    smtps://) or ``none`` (plain, loopback only)."""

    host: str
    port: int
    tls: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(value: str) -> SmtpTarget | None:
    """``smtp://user:pass@host:587`` (STARTTLS), ``smtps://user:pass@host:465`` (TLS),
    ``smtp://127.0.0.1:1025`` (plain on loopback); empty: None. A plain connection to
    another host would send passwords and mails readable on the way: refused."""
    raw = value.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("FEDI_SMTP_URL must look like smtp://user:password@host:587 or "
                          f"smtps://user:password@host:465, got scheme {parts.scheme!r}")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ConfigError("FEDI_SMTP_URL has an invalid port") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    # ?starttls=no|yes overrides the default: plain to loopback, STARTTLS elsewhere.
    starttls = dict(parse_qsl(parts.query)).get("starttls", "").lower()
    loopback = _is_loopback_host(parts.hostname)
    if parts.scheme == "smtps" or (port == 465 and not starttls):
        tls = "tls"
    elif starttls in _FALSE or (loopback and starttls not in _TRUE):
        if not loopback:
            raise ConfigError("FEDI_SMTP_URL: plain SMTP (without TLS) is allowed to a "
                              f"loopback address only, not to {parts.hostname!r}")
        tls = "none"
    else:
        tls = "starttls"
    return SmtpTarget(parts.hostname, port, tls, username, password)


def _mail_from(value: str, base_url: str) -> str:
    address = value.strip()
    if not address:
        return f"noreply@{urlsplit(base_url).hostname}"
    if "@" not in address or any(ch in address for ch in "\r\n"):
        raise ConfigError(f"FEDI_MAIL_FROM must be an e-mail address, got {value!r}")
    return address


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
