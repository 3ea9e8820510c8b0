"""Small value types embedded in ActivityStreams documents: keys, tags, attachments, source.

These are transient parts of a document (real servers send them without an ``id``), so
they are read leniently: unknown tag or attachment types are skipped, not rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from activitypub.errors import InvalidObject
from activitypub.jsonld import (
    as_list,
    dicts,
    lang_map,
    link_url,
    opt_str,
    require_dict,
    require_url,
)

__all__ = [
    "Attachment",
    "Emoji",
    "Hashtag",
    "Mention",
    "Multikey",
    "PropertyValue",
    "PublicKey",
    "Source",
    "Tags",
    "read_attachments",
    "read_fields",
    "read_language",
    "read_multikeys",
    "read_public_keys",
    "read_source",
    "read_tags",
]


@dataclass(frozen=True)
class PublicKey:
    """An RSA key of an actor (``publicKey``), used for HTTP signatures."""

    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class Multikey:
    """A FEP-521a ``assertionMethod`` key (Ed25519 or RSA in multibase form)."""

    id: str
    controller: str
    public_key_multibase: str


@dataclass(frozen=True)
class Mention:
    """A ``Mention`` tag: whom a post addresses by name."""

    href: str
    name: str | None


@dataclass(frozen=True)
class Hashtag:
    """A ``Hashtag`` tag; ``name`` keeps the leading ``#`` as sent."""

    name: str
    href: str | None


@dataclass(frozen=True)
class Emoji:
    """A custom ``Emoji`` tag (``:name:`` and its image)."""

    name: str
    icon_url: str | None
    id: str | None


@dataclass(frozen=True)
class Attachment:
    """A media attachment or link (``Document``, ``Image``, ``Video``, ``Link`` ...)."""

    type: str
    url: str | None
    media_type: str | None
    name: str | None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None


@dataclass(frozen=True)
class Source:
    """The text a post was written in before rendering (``source``), e.g. Markdown."""

    content: str
    media_type: str | None


@dataclass(frozen=True)
class PropertyValue:
    """A profile field of an actor (Mastodon's ``PropertyValue`` attachment)."""

    name: str
    value: str


@dataclass(frozen=True)
class Tags:
    """The tags of a document, split by kind; other kinds (Lemmy's ``CommunityPostTag``) are
    skipped."""

    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    emojis: tuple[Emoji, ...] = ()


def _first_type(data: Mapping[str, Any]) -> str | None:
    kinds = [t for t in as_list(data.get("type")) if isinstance(t, str)]
    return kinds[0] if kinds else None


def read_public_keys(data: Mapping[str, Any], where: str) -> tuple[PublicKey, ...]:
    """``publicKey`` as one object or a list; every entry must be complete, signatures need it."""
    keys = []
    for value in as_list(data.get("publicKey")):
        key = require_dict(value, f"{where}.publicKey")
        pem = key.get("publicKeyPem")
        if not isinstance(pem, str) or not pem.strip():
            raise InvalidObject(f"{where}.publicKey.publicKeyPem must be a PEM string")
        keys.append(
            PublicKey(
                id=require_url(key.get("id"), f"{where}.publicKey.id"),
                owner=require_url(key.get("owner"), f"{where}.publicKey.owner"),
                pem=pem,
            )
        )
    return tuple(keys)


def read_multikeys(data: Mapping[str, Any], where: str) -> tuple[Multikey, ...]:
    """The ``Multikey`` entries of ``assertionMethod``; references and other types are skipped."""
    keys = []
    for value in dicts(data, "assertionMethod", where):
        if _first_type(value) != "Multikey":
            continue
        multibase = value.get("publicKeyMultibase")
        if not isinstance(multibase, str):
            raise InvalidObject(f"{where}.assertionMethod.publicKeyMultibase must be a string")
        place = f"{where}.assertionMethod"
        keys.append(
            Multikey(
                id=require_url(value.get("id"), f"{place}.id"),
                controller=require_url(value.get("controller"), f"{place}.controller"),
                public_key_multibase=multibase,
            )
        )
    return tuple(keys)


def read_tags(data: Mapping[str, Any], where: str) -> Tags:
    """Mentions, hashtags and emojis of ``tag`` (one object or a list)."""
    mentions, hashtags, emojis = [], [], []
    for tag in dicts(data, "tag", where):
        kind = _first_type(tag)
        if kind == "Mention":
            href = require_url(tag.get("href"), f"{where}.tag.href")
            mentions.append(Mention(href=href, name=opt_str(tag, "name", f"{where}.tag")))
        elif kind == "Hashtag":
            name = opt_str(tag, "name", f"{where}.tag")
            if name is None:
                raise InvalidObject(f"{where}.tag: a Hashtag needs a name")
            hashtags.append(Hashtag(name=name, href=opt_str(tag, "href", f"{where}.tag")))
        elif kind == "Emoji":
            name = opt_str(tag, "name", f"{where}.tag")
            if name is None:
                raise InvalidObject(f"{where}.tag: an Emoji needs a name")
            icon = link_url(tag.get("icon"), f"{where}.tag.icon")
            emojis.append(Emoji(name=name, icon_url=icon, id=opt_str(tag, "id", f"{where}.tag")))
    return Tags(tuple(mentions), tuple(hashtags), tuple(emojis))


def read_attachments(data: Mapping[str, Any], where: str) -> tuple[Attachment, ...]:
    """Media and link attachments; profile fields (``PropertyValue``) are read separately."""
    found = []
    for item in dicts(data, "attachment", where):
        kind = _first_type(item)
        if kind is None or kind == "PropertyValue":
            continue
        place = f"{where}.attachment"
        url = link_url(item.get("url", item.get("href")), f"{place}.url")
        found.append(
            Attachment(
                type=kind,
                url=url,
                media_type=opt_str(item, "mediaType", place),
                name=opt_str(item, "name", place),
                width=_lenient_size(item.get("width")),
                height=_lenient_size(item.get("height")),
                blurhash=_lenient_str(item.get("blurhash")),
            )
        )
    return tuple(found)


# An attachment's picture details are hints: a bad one is dropped, the post still read.
def _lenient_size(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _lenient_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_fields(data: Mapping[str, Any], where: str) -> tuple[PropertyValue, ...]:
    """Profile fields: the ``PropertyValue`` attachments of an actor."""
    found = []
    for item in dicts(data, "attachment", where):
        if _first_type(item) != "PropertyValue":
            continue
        name = opt_str(item, "name", f"{where}.attachment")
        value = opt_str(item, "value", f"{where}.attachment")
        if name is not None and value is not None:
            found.append(PropertyValue(name=name, value=value))
    return tuple(found)


def read_source(data: Mapping[str, Any], where: str) -> Source | None:
    """``source`` as ``{content, mediaType}``; Pleroma sends the bare text as a string."""
    value = data.get("source")
    if value is None:
        return None
    if isinstance(value, str):
        return Source(content=value, media_type=None)
    source = require_dict(value, f"{where}.source")
    content = opt_str(source, "content", f"{where}.source")
    if content is None:
        raise InvalidObject(f"{where}.source.content must be a string")
    return Source(content=content, media_type=opt_str(source, "mediaType", f"{where}.source"))


def read_language(data: Mapping[str, Any], where: str) -> str | None:
    """The language of a post: the first ``contentMap`` key, else Lemmy's ``language``."""
    mapped = lang_map(data, "content", where)
    if mapped:
        return next(iter(mapped))
    for value in as_list(data.get("language")):
        if isinstance(value, Mapping) and isinstance(value.get("identifier"), str):
            return str(value["identifier"])
    return None
