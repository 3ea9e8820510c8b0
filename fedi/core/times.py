"""Times as every interface writes them: ISO 8601 in UTC with a ``Z`` (ActivityStreams
documents, the JSON API, the modlog), so a reader never has to guess a zone."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
