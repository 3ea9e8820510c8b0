"""Turning Python field values into ActivityStreams JSON, for the views' ``build()`` methods.

Documents we create must be valid JSON-LD for servers that expand them, so the ``@context``
names every extension term a document uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from activitypub._jsonld import AS_CONTEXT, SECURITY_CONTEXT, JSONDict, as_list
from activitypub._values import Source

_PREFIXES = {
    "toot": "http://joinmastodon.org/ns#",
    "lemmy": "https://join-lemmy.org/ns#",
    "ostatus": "http://ostatus.org#",
}
# Extension terms (properties, or tag types) -> (prefix needed or None, definition).
_EXTENSION_TERMS: dict[str, tuple[str | None, object]] = {
    "sensitive": (None, "as:sensitive"),
    "manuallyApprovesFollowers": (None, "as:manuallyApprovesFollowers"),
    "Hashtag": (None, "as:Hashtag"),
    "discoverable": ("toot", "toot:discoverable"),
    "featured": ("toot", {"@id": "toot:featured", "@type": "@id"}),
    "Emoji": ("toot", "toot:Emoji"),
    "postingRestrictedToMods": ("lemmy", "lemmy:postingRestrictedToMods"),
    "conversation": ("ostatus", "ostatus:conversation"),
}


class _Embeddable(Protocol):
    """A view that can be written into another document (avoids importing the views here)."""

    def to_json(self) -> JSONDict: ...


def type_for(given: str | None, own: str | None, builder: str) -> str:
    """The type a builder writes: the one given, else the class's own."""
    kind = given or own
    if not kind:
        raise TypeError(f"{builder}.build() needs type=...")
    return kind


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def json_value(value: object) -> Any:
    """A Python value as JSON: views embedded without ``@context``, dates as UTC ``Z``."""
    if hasattr(value, "to_json"):
        embedded: _Embeddable = value
        document = embedded.to_json()
        document.pop("@context", None)
        return document
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Source):
        return {"content": value.content, "mediaType": value.media_type}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


def json_fields(fields: Mapping[str, object]) -> JSONDict:
    """Keyword fields (Python names) as JSON properties; None means leave it out."""
    return {_camel(k): json_value(v) for k, v in fields.items() if v is not None}


def context_for(doc: Mapping[str, Any], *, security: bool) -> list[object]:
    """``@context``: ActivityStreams, the security vocabulary for keys, and used extensions."""
    tag_types = {t.get("type") for t in as_list(doc.get("tag")) if isinstance(t, Mapping)}
    used = set(doc) | tag_types
    terms: dict[str, object] = {}
    for term, (prefix, definition) in _EXTENSION_TERMS.items():
        if term in used:
            if prefix:
                terms[prefix] = _PREFIXES[prefix]
            terms[term] = definition
    context: list[object] = [AS_CONTEXT]
    if security:
        context.append(SECURITY_CONTEXT)
    if terms:
        context.append(terms)
    return context
