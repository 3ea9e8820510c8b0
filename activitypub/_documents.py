"""The parsing core of the vocabulary: the base views and the parser that picks one.

The concrete types (``Note``, ``Follow`` ...) live in :mod:`activitypub.vocab` and register
themselves in ``_REGISTRY`` when it is imported; import views from there, not from here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Self, TypeAlias

from activitypub import _jsonld as j
from activitypub._building import context_for, json_fields, json_value, type_for
from activitypub._jsonld import AS_CONTEXT, JSONDict
from activitypub._values import (
    Attachment,
    Emoji,
    Hashtag,
    Mention,
    Multikey,
    PropertyValue,
    PublicKey,
    Source,
    read_attachments,
    read_fields,
    read_language,
    read_multikeys,
    read_public_keys,
    read_source,
    read_tags,
)
from activitypub.errors import InvalidObject

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


def _refs(doc: Mapping[str, Any], key: str, where: str, *, need_id: bool = True) -> tuple[Ref, ...]:
    return tuple(_ref(v, f"{where}.{key}", need_id=need_id) for v in j.as_list(doc.get(key)))


def _opt_ref(doc: Mapping[str, Any], key: str, where: str, *, need_id: bool = True) -> Ref | None:
    found = _refs(doc, key, where, need_id=need_id)
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

    @classmethod
    def _built(cls, doc: JSONDict, *, security: bool = False) -> Self:
        """Validate a freshly built document through the same parser as received ones."""
        return cls.from_json({"@context": context_for(doc, security=security), **doc})


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
class Actor(ActivityStreamsDocument):
    """Person, Group, Service, Application or Organization. An inbox is required: without one
    nobody can deliver to the actor (Mastodon rejects such actors too)."""

    preferred_username: str | None
    name: str | None
    summary: str | None
    inbox: str
    outbox: str | None
    followers: str | None
    following: str | None
    featured: str | None
    shared_inbox: str | None
    public_keys: tuple[PublicKey, ...]
    assertion_methods: tuple[Multikey, ...]
    url: str | None
    icon: str | None
    image: str | None
    attributed_to: tuple[str, ...]
    moderators: str | None
    manually_approves_followers: bool
    discoverable: bool | None
    posting_restricted_to_mods: bool
    published: datetime | None
    also_known_as: tuple[str, ...]
    moved_to: str | None
    webfinger: str | None
    fields: tuple[PropertyValue, ...]

    @property
    def public_key(self) -> PublicKey | None:
        """The first ``publicKey`` (Mastodon's ``#main-key``), if any."""
        return self.public_keys[0] if self.public_keys else None

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        attributed_to = j.ref_ids(doc, "attributedTo", where)
        return {
            "preferred_username": j.opt_str(doc, "preferredUsername", where),
            "name": j.natural_text(doc, "name", where),
            "summary": j.natural_text(doc, "summary", where),
            "inbox": j.require_url(doc.get("inbox"), f"{where}.inbox"),
            "outbox": j.opt_ref_id(doc, "outbox", where),
            "followers": j.opt_ref_id(doc, "followers", where),
            "following": j.opt_ref_id(doc, "following", where),
            "featured": j.opt_ref_id(doc, "featured", where),
            "shared_inbox": _shared_inbox(doc, where),
            "public_keys": read_public_keys(doc, where),
            "assertion_methods": read_multikeys(doc, where),
            "url": j.link_url(doc.get("url"), f"{where}.url"),
            "icon": j.link_url(doc.get("icon"), f"{where}.icon"),
            "image": j.link_url(doc.get("image"), f"{where}.image"),
            "attributed_to": attributed_to,
            # Lemmy names a community's moderators collection in attributedTo.
            "moderators": j.opt_ref_id(doc, "moderators", where)
            or (attributed_to[0] if attributed_to else None),
            "manually_approves_followers": bool(
                j.opt_bool(doc, "manuallyApprovesFollowers", where)
            ),
            "discoverable": j.opt_bool(doc, "discoverable", where),
            "posting_restricted_to_mods": bool(j.opt_bool(doc, "postingRestrictedToMods", where)),
            "published": j.opt_datetime(doc, "published", where),
            "also_known_as": j.addresses(doc, "alsoKnownAs", where),
            "moved_to": j.opt_ref_id(doc, "movedTo", where),
            "webfinger": j.opt_str(doc, "webfinger", where),
            "fields": read_fields(doc, where),
        }

    @classmethod
    def build(
        cls,
        *,
        id: str,
        preferred_username: str,
        inbox: str,
        type: str | None = None,
        public_key_pem: str | None = None,
        **extra: object,
    ) -> Self:
        """A new actor document. ``extra`` takes the other fields by their Python names
        (``outbox``, ``followers``, ``shared_inbox``, ``manually_approves_followers`` ...)."""
        doc: JSONDict = {
            "id": id,
            "type": type_for(type, cls.TYPE, cls.__name__),
            "preferredUsername": preferred_username,
            "inbox": inbox,
        }
        shared = extra.pop("shared_inbox", None)
        if shared is not None:
            doc["endpoints"] = {"sharedInbox": shared}
        if public_key_pem is not None:
            doc["publicKey"] = {"id": f"{id}#main-key", "owner": id, "publicKeyPem": public_key_pem}
        doc.update(json_fields(extra))
        return cls._built(doc, security=True)


def _shared_inbox(doc: Mapping[str, Any], where: str) -> str | None:
    endpoints = doc.get("endpoints")
    if endpoints is None:
        return None
    shared = j.require_dict(endpoints, f"{where}.endpoints").get("sharedInbox")
    return None if shared is None else j.require_url(shared, f"{where}.endpoints.sharedInbox")


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

    @classmethod
    def build(
        cls,
        *,
        id: str,
        attributed_to: str,
        type: str | None = None,
        mentions: Iterable[Mention] = (),
        hashtags: Iterable[Hashtag] = (),
        **extra: object,
    ) -> Self:
        """A new object. ``extra`` takes fields by their Python names (``content``,
        ``in_reply_to``, ``to``, ``cc``, ``audience``, ``context``, ``published`` ...)."""
        doc: JSONDict = {
            "id": id,
            "type": type_for(type, cls.TYPE, cls.__name__),
            "attributedTo": attributed_to,
        }
        tags: list[JSONDict] = [
            {"type": "Mention", "href": m.href, **({"name": m.name} if m.name else {})}
            for m in mentions
        ]
        tags += [
            {"type": "Hashtag", "name": h.name, **({"href": h.href} if h.href else {})}
            for h in hashtags
        ]
        if tags:
            doc["tag"] = tags
        doc.update(json_fields(extra))
        return cls._built(doc)


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
            "objects": _refs(doc, "object", where),
            "target": _opt_ref(doc, "target", where),
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

    @classmethod
    def build(
        cls,
        *,
        id: str,
        actor: str,
        object: Ref | Sequence[Ref] | None = None,
        type: str | None = None,
        **extra: Any,
    ) -> Self:
        """A new activity; an embedded ``object`` view is written out in full (e.g. the Follow
        inside an Accept). ``extra`` takes ``to``, ``cc``, ``target``, ``published`` ..."""
        doc: JSONDict = {"id": id, "type": type_for(type, cls.TYPE, cls.__name__), "actor": actor}
        if object is not None:
            doc["object"] = json_value(object)
        doc.update(json_fields(extra))
        return cls._built(doc)


def _actor_id(doc: Mapping[str, Any], where: str) -> str:
    actors = j.as_list(doc.get("actor"))
    if not actors:
        raise InvalidObject(f"{where}.actor is missing")
    if len(actors) > 1:
        # Signatures and permissions are checked against one actor; several are ambiguous.
        raise InvalidObject(f"{where}.actor must name one actor, got {len(actors)}")
    return j.ref_id(actors[0], f"{where}.actor")


@dataclass(frozen=True, kw_only=True)
class Collection(ActivityStreamsDocument):
    """Collection, OrderedCollection and their pages. ``items`` reads ``orderedItems`` too."""

    TYPE = "Collection"
    total_items: int | None
    first: Ref | None
    last: Ref | None
    next: Ref | None
    prev: Ref | None
    part_of: str | None
    items: tuple[Ref, ...]

    @property
    def ordered(self) -> bool:
        return self.type.startswith("Ordered")

    @property
    def item_ids(self) -> tuple[str | None, ...]:
        return tuple(j.object_id(item) for item in self.items)

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        key = "orderedItems" if "orderedItems" in doc else "items"
        # Pages embedded in first/next are transient: Mastodon sends them without an id.
        return {
            "total_items": j.opt_int(doc, "totalItems", where),
            "first": _opt_ref(doc, "first", where, need_id=False),
            "last": _opt_ref(doc, "last", where, need_id=False),
            "next": _opt_ref(doc, "next", where, need_id=False),
            "prev": _opt_ref(doc, "prev", where, need_id=False),
            "part_of": j.opt_ref_id(doc, "partOf", where),
            "items": _refs(doc, key, where),
        }

    @classmethod
    def build(
        cls,
        *,
        id: str,
        items: Sequence[Ref] | None = None,
        type: str | None = None,
        **extra: object,
    ) -> Self:
        """A new collection; ``items`` go to ``orderedItems`` for the ordered types."""
        kind = type_for(type, cls.TYPE, cls.__name__)
        doc: JSONDict = {"id": id, "type": kind}
        if items is not None:
            key = "orderedItems" if kind.startswith("Ordered") else "items"
            doc[key] = [json_value(item) for item in items]
            doc.setdefault("totalItems", len(items))
        doc.update(json_fields(extra))
        return cls._built(doc)
