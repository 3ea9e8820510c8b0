"""The base view of actors (Person, Group, Service, Application, Organization).

The concrete actor types register themselves in :mod:`activitypub.vocab`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from activitypub import jsonld as j
from activitypub.documents import ActivityStreamsDocument
from activitypub.values import (
    Multikey,
    PropertyValue,
    PublicKey,
    read_fields,
    read_multikeys,
    read_public_keys,
)

__all__ = ["Actor"]


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


def _shared_inbox(doc: Mapping[str, Any], where: str) -> str | None:
    endpoints = doc.get("endpoints")
    if endpoints is None:
        return None
    shared = j.require_dict(endpoints, f"{where}.endpoints").get("sharedInbox")
    return None if shared is None else j.require_url(shared, f"{where}.endpoints.sharedInbox")
