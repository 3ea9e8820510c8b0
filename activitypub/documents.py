"""The parsing core of the vocabulary: the base views, the parser that picks one, and the
views it falls back to for types it does not know (``APObject``, ``Activity``).

Actors are in :mod:`activitypub.actors`, collections in :mod:`activitypub.collection`; the
concrete types (``Note``, ``Follow`` ...) live in :mod:`activitypub.vocab` and register
themselves in ``_REGISTRY`` when it is imported. The app imports views from ``vocab``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Self, TypeAlias

from activitypub import jsonld as j
from activitypub.errors import InvalidObject
from activitypub.jsonld import AS_CONTEXT, JSONDict
from activitypub.values import (
    Attachment,
    Emoji,
    Hashtag,
    Mention,
    Source,
    read_attachments,
    read_language,
    read_source,
    read_tags,
)

__all__ = [
    "APObject",
    "Activity",
    "ActivityStreamsDocument",
    "Link",
    "Ref",
    "UnknownObject",
    "parse",
    "read_opt_ref",
    "read_refs",
]

# An id, or a document embedded in its place.
Ref: TypeAlias = "str | ActivityStreamsDocument"

_REGISTRY: dict[str, type[ActivityStreamsDocument]] = {}
_AS_PREFIXES = ("as:", AS_CONTEXT + "#")


# ---------------------------------------------------------------------------- parsing


def parse(data: object) -> ActivityStreamsDocument:
    """Validate a document from the wire and return the view for its type.

    Unknown types are not an error: they come back as a generic ``Activity`` (if they have an
    ``actor``), ``APObject`` (if they have content or an author) or ``UnknownObject``.
    """
    j.require_dict(data, "document")
    return _parse(copy.deepcopy(data), "", need_id=True)


def _parse(data: object, where: str, *, need_id: bool) -> ActivityStreamsDocument:
    doc = j.require_dict(data, where or "document")
    types = j.types_of(doc, where or "document")
    cls, kind = _class_for(types, doc)
    where = where or kind  # errors in a top-level document are named by its type
    ident = doc.get("id")
    if ident is not None:
        j.require_url(ident, f"{where}.id")
    elif need_id and cls is not Link:
        raise InvalidObject(f"{where}.id is missing (a {kind} needs an id)")
    fields = cls._read(doc, where)
    return cls(id=ident, type=kind, types=types, raw=dict(doc), **fields)


def _canonical(kind: str) -> str:
    """``as:Note`` and the full IRI mean ``Note``."""
    for prefix in _AS_PREFIXES:
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind


def _class_for(
    types: Sequence[str], doc: Mapping[str, Any]
) -> tuple[type[ActivityStreamsDocument], str]:
    """The view class for the first known type; unknown types are classified by shape."""
    for kind in map(_canonical, types):
        if kind in _REGISTRY:
            return _REGISTRY[kind], kind
    kind = _canonical(types[0])
    if "actor" in doc:
        return Activity, kind
    if any(key in doc for key in ("content", "contentMap", "attributedTo")):
        return APObject, kind
    return UnknownObject, kind


def _ref(value: object, where: str, *, need_id: bool = True) -> Ref:
    """One reference: an id, or an embedded document parsed into its view."""
    if isinstance(value, Mapping):
        if "type" not in value and "id" in value:
            # Some servers embed a bare {"id": ...}: that is just a reference.
            return j.require_url(value["id"], f"{where}.id")
        return _parse(value, where, need_id=need_id)
    return j.require_url(value, where)


def read_refs(
    doc: Mapping[str, Any], key: str, where: str, *, need_id: bool = True
) -> tuple[Ref, ...]:
    """The references under ``key`` (one or a list), embedded documents parsed."""
    return tuple(_ref(v, f"{where}.{key}", need_id=need_id) for v in j.as_list(doc.get(key)))


def read_opt_ref(
    doc: Mapping[str, Any], key: str, where: str, *, need_id: bool = True
) -> Ref | None:
    """The first reference under ``key``, or None."""
    found = read_refs(doc, key, where, need_id=need_id)
    return found[0] if found else None


def _addressing(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    return {
        "to": j.addresses(doc, "to", where),
        "cc": j.addresses(doc, "cc", where),
        "audience": j.addresses(doc, "audience", where),
    }


def _tags(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    tags = read_tags(doc, where)
    return {"mentions": tags.mentions, "hashtags": tags.hashtags, "emojis": tags.emojis}


# ---------------------------------------------------------------------------- base views


@dataclass(frozen=True, kw_only=True)
class ActivityStreamsDocument:
    """What every view has: ``id``, the chosen ``type``, all ``types``, and the raw JSON."""

    id: str | None
    type: str
    types: tuple[str, ...]
    raw: JSONDict = field(repr=False, hash=False)

    TYPE: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("TYPE"):
            _REGISTRY[cls.__dict__["TYPE"]] = cls

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse ``data`` and check that it is this kind of document."""
        doc = parse(data)
        if not isinstance(doc, cls):
            raise InvalidObject(f"expected a {cls.TYPE or cls.__name__}, got a {doc.type}")
        return doc

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The fields of this view beyond the common ones, read from ``doc``."""
        return {}

    def to_json(self) -> JSONDict:
        """The document as received (a copy: changing it does not change the view)."""
        return copy.deepcopy(self.raw)


@dataclass(frozen=True, kw_only=True)
class UnknownObject(ActivityStreamsDocument):
    """A document of a type this vocabulary does not model; only id and type are read."""


@dataclass(frozen=True, kw_only=True)
class Link(ActivityStreamsDocument):
    """A ``Link``: a reference with a media type, not an object of its own (may lack an id)."""

    TYPE = "Link"
    href: str | None
    name: str | None
    media_type: str | None
    rel: tuple[str, ...]

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        href = doc.get("href")
        return {
            "href": None if href is None else j.require_url(href, f"{where}.href"),
            "name": j.natural_text(doc, "name", where),
            "media_type": j.opt_str(doc, "mediaType", where),
            "rel": tuple(str(r) for r in j.as_list(doc.get("rel"))),
        }


@dataclass(frozen=True, kw_only=True)
class APObject(ActivityStreamsDocument):
    """A post or other content object: Note, Page, Article, Question, Event, media, Tombstone."""

    attributed_to: tuple[str, ...]
    name: str | None
    name_map: dict[str, str] = field(hash=False)
    content: str | None
    content_map: dict[str, str] = field(hash=False)
    summary: str | None
    sensitive: bool
    source: Source | None
    in_reply_to: str | None
    published: datetime | None
    updated: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    audience: tuple[str, ...]
    context: str | None
    conversation: str | None
    mentions: tuple[Mention, ...]
    hashtags: tuple[Hashtag, ...]
    emojis: tuple[Emoji, ...]
    attachments: tuple[Attachment, ...]
    url: str | None
    media_type: str | None
    language: str | None

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            "attributed_to": j.ref_ids(doc, "attributedTo", where),
            "name": j.natural_text(doc, "name", where),
            "name_map": j.lang_map(doc, "name", where),
            "content": j.natural_text(doc, "content", where),
            "content_map": j.lang_map(doc, "content", where),
            "summary": j.natural_text(doc, "summary", where),
            "sensitive": bool(j.opt_bool(doc, "sensitive", where)),
            "source": read_source(doc, where),
            "in_reply_to": j.opt_ref_id(doc, "inReplyTo", where),
            "published": j.opt_datetime(doc, "published", where),
            "updated": j.opt_datetime(doc, "updated", where),
            "start_time": j.opt_datetime(doc, "startTime", where),
            "end_time": j.opt_datetime(doc, "endTime", where),
            **_addressing(doc, where),
            "context": j.loose_id(doc, "context", where),
            "conversation": j.loose_id(doc, "conversation", where),
            **_tags(doc, where),
            "attachments": read_attachments(doc, where),
            "url": j.link_url(doc.get("url"), f"{where}.url"),
            "media_type": j.opt_str(doc, "mediaType", where),
            "language": read_language(doc, where),
        }


@dataclass(frozen=True, kw_only=True)
class Activity(ActivityStreamsDocument):
    """An activity: someone (``actor``) does something to ``object``.

    ``object`` is the single object (an id or an embedded view); ``objects`` holds all of them,
    because a ``Flag`` names several.
    """

    actor: str
    objects: tuple[Ref, ...]
    target: Ref | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    audience: tuple[str, ...]
    name: str | None
    summary: str | None
    content: str | None
    published: datetime | None
    updated: datetime | None
    end_time: datetime | None
    expires: datetime | None
    mentions: tuple[Mention, ...]
    hashtags: tuple[Hashtag, ...]
    emojis: tuple[Emoji, ...]

    @property
    def object(self) -> Ref | None:
        """The object (the first one when several are named), or None."""
        return self.objects[0] if self.objects else None

    @property
    def object_id(self) -> str | None:
        """The id of the object, whether it was given as an id or embedded."""
        return j.object_id(self.object)

    @property
    def object_type(self) -> str | None:
        """The type of an embedded object; None when only its id was given."""
        embedded = self.object
        return embedded.type if isinstance(embedded, ActivityStreamsDocument) else None

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            "actor": _actor_id(doc, where),
            "objects": read_refs(doc, "object", where),
            "target": read_opt_ref(doc, "target", where),
            **_addressing(doc, where),
            "name": j.natural_text(doc, "name", where),
            "summary": j.natural_text(doc, "summary", where),
            "content": j.natural_text(doc, "content", where),
            "published": j.opt_datetime(doc, "published", where),
            "updated": j.opt_datetime(doc, "updated", where),
            "end_time": j.opt_datetime(doc, "endTime", where),
            "expires": j.opt_datetime(doc, "expires", where),
            **_tags(doc, where),
        }


def _actor_id(doc: Mapping[str, Any], where: str) -> str:
    actors = j.as_list(doc.get("actor"))
    if not actors:
        raise InvalidObject(f"{where}.actor is missing")
    if len(actors) > 1:
        # Signatures and permissions are checked against one actor; several are ambiguous.
        raise InvalidObject(f"{where}.actor must name one actor, got {len(actors)}")
    return j.ref_id(actors[0], f"{where}.actor")
