"""ActivityStreams vocabulary: typed, frozen views over the JSON that fediverse servers send.

``parse(data)`` validates a document and returns the view for its type (``Note``, ``Follow``,
``Group``, ``OrderedCollection`` ...). Every view keeps the JSON it came from, so
``to_json()`` gives back exactly what was received. Reading only: the documents we send are
written by the app (``fedi/federation/documents.py``). The parsing core is in
:mod:`activitypub.documents` (with :mod:`~activitypub.actors`, :mod:`~activitypub.collection`,
:mod:`~activitypub.values` and the readers in :mod:`~activitypub.jsonld`); this module holds
the concrete types, which register themselves for ``parse()`` by their ``TYPE``, and is the
facade the app imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from activitypub import jsonld as j
from activitypub.actors import Actor
from activitypub.collection import Collection
from activitypub.documents import (
    Activity,
    ActivityStreamsDocument,
    APObject,
    Link,
    Ref,
    UnknownObject,
    parse,
)
from activitypub.errors import InvalidObject
from activitypub.jsonld import PUBLIC, as_list, is_public, object_id
from activitypub.values import (
    Attachment,
    Emoji,
    Hashtag,
    Mention,
    Multikey,
    PropertyValue,
    PublicKey,
    Source,
)

__all__ = [
    "PUBLIC",
    "APObject",
    "Accept",
    "Activity",
    "ActivityStreamsDocument",
    "Actor",
    "Add",
    "Announce",
    "Application",
    "Article",
    "Attachment",
    "Audio",
    "Block",
    "Collection",
    "CollectionPage",
    "Create",
    "Delete",
    "Dislike",
    "Document",
    "Emoji",
    "EmojiReact",
    "Event",
    "Flag",
    "Follow",
    "Group",
    "Hashtag",
    "Image",
    "Like",
    "Link",
    "Lock",
    "Mention",
    "Move",
    "Multikey",
    "Note",
    "OrderedCollection",
    "OrderedCollectionPage",
    "Organization",
    "Page",
    "Person",
    "PropertyValue",
    "PublicKey",
    "Question",
    "Ref",
    "Reject",
    "Remove",
    "Service",
    "Source",
    "Tombstone",
    "Undo",
    "UnknownObject",
    "Update",
    "Video",
    "as_list",
    "is_public",
    "object_id",
    "parse",
]


class Person(Actor):
    TYPE = "Person"


class Group(Actor):
    """A group actor: a Lemmy community, a forum category, one of our discussion groups."""

    TYPE = "Group"


class Service(Actor):
    TYPE = "Service"


class Application(Actor):
    TYPE = "Application"


class Organization(Actor):
    TYPE = "Organization"


class Note(APObject):
    """A post without a title; what Mastodon shows in full."""

    TYPE = "Note"


class Page(APObject):
    """A titled post (Lemmy threads); Mastodon shows only its title and a link."""

    TYPE = "Page"


class Article(APObject):
    TYPE = "Article"


class Event(APObject):
    TYPE = "Event"


class Image(APObject):
    TYPE = "Image"


class Document(APObject):
    TYPE = "Document"


class Video(APObject):
    TYPE = "Video"


class Audio(APObject):
    TYPE = "Audio"


@dataclass(frozen=True, kw_only=True)
class Question(APObject):
    """A poll: the option names of ``oneOf`` (single choice) or ``anyOf`` (multiple)."""

    TYPE = "Question"
    one_of: tuple[str, ...]
    any_of: tuple[str, ...]
    voters_count: int | None

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            **super()._read(doc, where),
            "one_of": _option_names(doc, "oneOf", where),
            "any_of": _option_names(doc, "anyOf", where),
            "voters_count": j.opt_int(doc, "votersCount", where),
        }


def _option_names(doc: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    names = []
    for option in j.dicts(doc, key, where):
        name = j.opt_str(option, "name", f"{where}.{key}")
        if name is None:
            raise InvalidObject(f"{where}.{key}: every poll option needs a name")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True, kw_only=True)
class Tombstone(APObject):
    """What remains of a deleted object."""

    TYPE = "Tombstone"
    former_type: str | None
    deleted: datetime | None

    @classmethod
    def _read(cls, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            **super()._read(doc, where),
            "former_type": j.opt_str(doc, "formerType", where),
            "deleted": j.opt_datetime(doc, "deleted", where),
        }


class Create(Activity):
    TYPE = "Create"


class Update(Activity):
    TYPE = "Update"


class Delete(Activity):
    """Deletes an object; Lemmy also uses it (with a ``summary`` reason) for mod removals."""

    TYPE = "Delete"


class Follow(Activity):
    TYPE = "Follow"


class Accept(Activity):
    TYPE = "Accept"


class Reject(Activity):
    TYPE = "Reject"


class Undo(Activity):
    TYPE = "Undo"


class Announce(Activity):
    TYPE = "Announce"


class Like(Activity):
    TYPE = "Like"


class Dislike(Activity):
    TYPE = "Dislike"


class EmojiReact(Activity):
    TYPE = "EmojiReact"


class Flag(Activity):
    """A report; ``objects`` holds every reported account and post."""

    TYPE = "Flag"


class Block(Activity):
    TYPE = "Block"


class Add(Activity):
    TYPE = "Add"


class Remove(Activity):
    TYPE = "Remove"


class Lock(Activity):
    TYPE = "Lock"


class Move(Activity):
    TYPE = "Move"


class OrderedCollection(Collection):
    TYPE = "OrderedCollection"


class CollectionPage(Collection):
    TYPE = "CollectionPage"


class OrderedCollectionPage(Collection):
    TYPE = "OrderedCollectionPage"
