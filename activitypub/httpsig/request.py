"""The request as signatures see it: headers, the target URL's parts, and times."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from activitypub.errors import SignatureError

__all__ = ["Target", "aware", "header_value", "lower_headers", "timestamp"]


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # Repeated fields are combined as HTTP allows (both schemes sign the joined value).
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key, value = name.lower(), value.strip()
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    return lowered


def header_value(name: str, headers: Mapping[str, str]) -> str:
    """A covered header's value from the lowered headers; its absence is an error."""
    if name in headers:
        return headers[name]
    if name in ("digest", "content-digest"):
        raise SignatureError(f"missing digest: the signed {name} header is absent")
    raise SignatureError(f"missing header: {name}")


@dataclass(frozen=True)
class Target:
    """The parts of the request URL that signatures cover."""

    scheme: str
    authority: str
    path: str
    query: str | None  # None: no "?" at all; "": an empty query

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        authority = parts.netloc.rpartition("@")[2].lower()
        default_port = {"http": ":80", "https": ":443"}.get(scheme)
        if default_port and authority.endswith(default_port):
            authority = authority[: -len(default_port)]
        has_query = "?" in url.partition("#")[0]
        return cls(scheme, authority, parts.path or "/", parts.query if has_query else None)

    @property
    def request_target(self) -> str:
        return self.path if self.query is None else f"{self.path}?{self.query}"

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.authority}{self.request_target}"


def timestamp(value: int | None) -> datetime | None:
    """A signature's Unix time as an aware datetime; out of range is a malformed signature."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError(f"malformed signature: timestamp {value} out of range") from exc


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone; a naive one is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
