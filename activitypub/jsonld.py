"""Low-level readers for compacted ActivityStreams JSON, shared by the vocabulary views.

Real servers disagree on shapes (an id or an embedded object, one value or a list,
``contentMap`` instead of ``content``), so every reader here accepts all the shapes
seen in the wild and raises :class:`InvalidObject` with a readable reason otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from activitypub.errors import InvalidObject

__all__ = [
    "AS_CONTEXT",
    "PUBLIC",
    "JSONDict",
    "addresses",
    "as_list",
    "dicts",
    "is_http_url",
    "is_public",
    "lang_map",
    "link_url",
    "loose_id",
    "natural_text",
    "normalize_public",
    "object_id",
    "opt_bool",
    "opt_datetime",
    "opt_int",
    "opt_ref_id",
    "opt_str",
    "ref_id",
    "ref_ids",
    "require_dict",
    "require_url",
    "types_of",
]

JSONDict = dict[str, Any]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Compacted spellings of the public collection that real servers send.
_PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})


def as_list(value: object) -> list[Any]:
    """Return ``value`` as a list: ``None`` is empty, a list stays, anything else is wrapped."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def object_id(value: object) -> str | None:
    """The id of an id-or-embedded value (a string, a dict with ``id``, a view, or a list)."""
    if isinstance(value, list | tuple):
        return object_id(value[0]) if value else None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    found = getattr(value, "id", None)
    return found if isinstance(found, str) else None


def normalize_public(value: str) -> str:
    """Spell every form of the public collection as the full URL."""
    return PUBLIC if value in _PUBLIC_ALIASES else value


def is_public(addressing: object) -> bool:
    """True if ``addressing`` (one address or a list of them) includes the public collection."""
    return any(
        isinstance(item, str) and normalize_public(item) == PUBLIC for item in as_list(addressing)
    )


def is_http_url(value: object) -> bool:
    """True for an absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def require_url(value: object, where: str) -> str:
    """Return ``value`` if it is an absolute http(s) URL, else raise with ``where`` named."""
    if is_http_url(value):
        assert isinstance(value, str)  # narrowed by is_http_url
        return value
    raise InvalidObject(f"{where} must be an absolute http(s) URL, got {_show(value)}")


def _show(value: object) -> str:
    """A short rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def require_dict(data: object, where: str) -> Mapping[str, Any]:
    """Return ``data`` if it is a JSON object."""
    if not isinstance(data, Mapping):
        raise InvalidObject(f"{where} must be a JSON object, got {type(data).__name__}")
    return data


def types_of(data: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The ``type`` values of a document; a list is allowed (Mastodon's vcard actors)."""
    raw = data.get("type")
    if raw is None:
        raise InvalidObject(f"{where}.type is missing")
    values = as_list(raw)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise InvalidObject(f"{where}.type must be a string or a list of strings, got {_show(raw)}")
    return tuple(values)


def opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """An optional string property (``null`` counts as absent)."""
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidObject(f"{where}.{key} must be a string, got {_show(value)}")


def opt_bool(data: Mapping[str, Any], key: str, where: str) -> bool | None:
    """An optional boolean property (``null`` counts as absent)."""
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InvalidObject(f"{where}.{key} must be true or false, got {_show(value)}")


def opt_int(data: Mapping[str, Any], key: str, where: str) -> int | None:
    """An optional non-negative integer property such as ``totalItems``."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidObject(f"{where}.{key} must be a non-negative integer, got {_show(value)}")
    return value


def opt_datetime(data: Mapping[str, Any], key: str, where: str) -> datetime | None:
    """An optional ISO 8601 date-time; a missing zone is read as UTC, as servers mean it."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidObject(f"{where}.{key} must be a date-time string, got {_show(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidObject(f"{where}.{key} is not an ISO 8601 date-time: {_show(value)}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def lang_map(data: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    """A language map such as ``contentMap`` (language tag -> text)."""
    value = data.get(key + "Map")
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidObject(f"{where}.{key}Map must map language tags to strings")
    return dict(value)


def natural_text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """``content``/``name``/``summary``, falling back to the first ``...Map`` value."""
    plain = opt_str(data, key, where)
    if plain is not None:
        return plain
    mapped = lang_map(data, key, where)
    return next(iter(mapped.values()), None)


def ref_id(value: object, where: str) -> str:
    """The id of one reference (a URL string or an embedded object with an ``id``)."""
    if isinstance(value, Mapping):
        if "id" not in value:
            raise InvalidObject(f"{where} is an embedded object without an id")
        return require_url(value.get("id"), f"{where}.id")
    return require_url(value, where)


def ref_ids(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """All ids of a property that holds one or more references (``attributedTo``)."""
    return tuple(ref_id(v, f"{where}.{key}") for v in as_list(data.get(key)))


def opt_ref_id(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """The id of a single optional reference (``inReplyTo``, ``followers``, ``partOf``)."""
    ids = ref_ids(data, key, where)
    return ids[0] if ids else None


def loose_id(data: Mapping[str, Any], key: str, where: str) -> str | None:
    """An id that need not be an http URL: ``context``/``conversation`` may be ``tag:`` URIs."""
    value = data.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    raise InvalidObject(f"{where}.{key} must be an id or an object with an id, got {_show(value)}")


def addresses(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """An addressing property (``to``, ``cc``, ``audience``) as ids, Public spelled in full."""
    found: list[str] = []
    for value in as_list(data.get(key)):
        target = object_id(value)
        if target is None:
            raise InvalidObject(f"{where}.{key} must hold ids, got {_show(value)}")
        found.append(normalize_public(target))
    return tuple(found)


def link_url(value: object, where: str) -> str | None:
    """The URL of a ``url``/``icon``/``image`` value: a string, an Image/Link, or a list.

    From a list, an HTML link is preferred (what Mastodon shows as the profile link).
    """
    candidates = [_one_url(v, where) for v in as_list(value)]
    for item, url in zip(as_list(value), candidates, strict=True):
        if url and isinstance(item, Mapping) and item.get("mediaType") == "text/html":
            return url
    return next((url for url in candidates if url), None)


def _one_url(value: object, where: str) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = value.get("href", value.get("url"))
        return link_url(inner, where) if inner is not None else None
    raise InvalidObject(
        f"{where} must be a URL, a Link/Image or a list of them, got {_show(value)}"
    )


def dicts(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    """The embedded objects of a property such as ``tag`` or ``attachment`` (one or a list)."""
    found = []
    for value in as_list(data.get(key)):
        if isinstance(value, str):
            continue  # a bare link in tag/attachment carries nothing we read
        found.append(require_dict(value, f"{where}.{key}[]"))
    return found
