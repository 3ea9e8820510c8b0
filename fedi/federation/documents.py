"""Our rows as ActivityPub documents (what others read at our ids).

Shapes follow mastodon-interop.md: a thread root is a ``Note`` with ``name`` = title and
``content`` starting with the title (Mastodon shows title and text), ``source`` = the
Markdown body (Lemmy-style software shows title and body once); every object carries
``audience`` = the group, ``context``/``conversation`` = the thread's context collection,
``to: [Public]``, ``cc: [group, group followers]`` and a Mention tag of the group.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from activitypub.keys import public_key_json
from fedi.core.mention_markup import tag_url
from fedi.core.times import iso
from fedi.core.urls import Urls
from storage.actors import Actor
from storage.posts import Post

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS = "https://www.w3.org/ns/activitystreams"
CONTEXT: list[Any] = [
    AS,
    "https://w3id.org/security/v1",
    "https://w3id.org/security/multikey/v1",
    {
        "lemmy": "https://join-lemmy.org/ns#",
        "toot": "http://joinmastodon.org/ns#",
        "ostatus": "http://ostatus.org#",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "discoverable": "toot:discoverable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
        "moderators": {"@id": "lemmy:moderators", "@type": "@id"},
        "stickied": "lemmy:stickied",
        "locked": "lemmy:locked",
        # Profile fields, named as Mastodon names them.
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        # Questions and their accepted answer (FEDERATION.md, "Accepted answers").
        "acceptedAnswer": {"@id": "schema:acceptedAnswer", "@type": "@id"},
        "answerCount": "schema:answerCount",
        # A moved actor and its other addresses (FEP-7628), as Mastodon names them.
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    },
]


def with_context(doc: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, **doc}


# Actors: FEP-521a's ``assertionMethod`` is a DID term (did/v1) and FEP-8b32 proofs name
# its key, so actor documents add those contexts in Fedify's order; without did/v1 a
# JSON-LD reader (Fedify) drops ``assertionMethod`` and finds no key for our proofs.
ACTOR_CONTEXT: list[Any] = [
    *CONTEXT[:2],
    "https://w3id.org/security/data-integrity/v1",
    "https://www.w3.org/ns/did/v1",
    *CONTEXT[2:],
]


def actor_document(actor: Actor, *, ed25519_multibase: str | None, summary_source: str | None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Person, Group or Application as Mastodon and Lemmy expect to read it."""
    doc: dict[str, Any] = {
        "id": actor.ap_id,
        "type": actor.type,
        "preferredUsername": actor.username,
        "name": actor.name or actor.username,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers_url,
        "following": actor.following_url,
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "url": actor.url or actor.ap_id,
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.type != "Application",
        "published": iso(actor.created_at),
        "updated": iso(actor.updated_at),
        "publicKey": public_key_json(actor.ap_id, actor.public_key_pem or ""),
    }
    if actor.summary:
        doc["summary"] = actor.summary
    if actor.icon_url:
        doc["icon"] = image_document(actor.icon_url)
    if actor.type == "Group" and actor.image_url:
        doc["image"] = image_document(actor.image_url)  # the banner (Lemmy, Mastodon)
    if summary_source:
        doc["source"] = {"content": summary_source, "mediaType": "text/markdown"}
    if ed25519_multibase:
        doc["assertionMethod"] = [{
            "id": f"{actor.ap_id}#ed25519-key",
            "type": "Multikey",
            "controller": actor.ap_id,
            "publicKeyMultibase": ed25519_multibase,
        }]
    if actor.type == "Group":
        doc["featured"] = actor.featured_url
        doc["attributedTo"] = actor.moderators_url
        doc["moderators"] = actor.moderators_url
        doc["postingRestrictedToMods"] = actor.posting_restricted_to_mods
        if actor.local:
            doc["modlog"] = f"{actor.ap_id}/modlog"  # our public modlog (api_modlog.py)
    if actor.also_known_as:
        doc["alsoKnownAs"] = list(actor.also_known_as)
    if actor.local and actor.moved_to:
        doc["movedTo"] = actor.moved_to  # a group that moved (fedi/forum/group_move.py)
    if actor.type == "Application":
        # FEP-2677: the instance actor is not a person to follow or show.
        doc["manuallyApprovesFollowers"] = True
        del doc["following"]
    if extra:
        doc.update(extra)
    return {"@context": ACTOR_CONTEXT, **doc}


# Image types by the extension of our own media URLs (fedi/routes/media_files.py:
# content-addressed names such as ``<sha256>.webp``); an actor's icon or banner URL
# carries no stored type.
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                ".webp": "image/webp", ".gif": "image/gif", ".avif": "image/avif"}


def image_media_type(url: str) -> str | None:
    """The image type a URL's file name says (``None`` when it says none we know)."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return _IMAGE_TYPES.get(path[dot:]) if dot >= 0 else None


def image_document(url: str) -> dict[str, str]:
    """An actor's ``icon`` or ``image``: ``{"type": "Image", "url", "mediaType"}``."""
    doc = {"type": "Image", "url": url}
    media_type = image_media_type(url)
    if media_type:
        doc["mediaType"] = media_type
    return doc


def attachment_documents(attachments: Sequence[Any]) -> list[dict[str, Any]]:
    """``posts.attachments`` (items with url, media_type, name, width, height, blurhash;
    local uploads add media_id, preview_url, size, filename) as AS2 ``attachment`` entries
    the way Mastodon sends them: ``Image`` or ``Document`` with ``url``, ``mediaType``,
    ``name`` (an image's alt text, a document's file name), ``width``/``height`` and
    ``blurhash`` where known. Lemmy takes the first image as the post's image."""
    found: list[dict[str, Any]] = []
    for item in attachments:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        media_type = item.get("media_type") if isinstance(item.get("media_type"), str) else None
        kind = item.get("type") if isinstance(item.get("type"), str) else None
        if kind is None:
            kind = "Image" if media_type and media_type.startswith("image/") else "Document"
        doc: dict[str, Any] = {"type": kind, "url": item["url"]}
        if media_type:
            doc["mediaType"] = media_type
        name = item.get("name") or (item.get("filename") if kind != "Image" else None)
        if isinstance(name, str) and name:
            doc["name"] = name
        for key in ("width", "height"):
            value = item.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                doc[key] = value
        if isinstance(item.get("blurhash"), str) and item["blurhash"]:
            doc["blurhash"] = item["blurhash"]
        found.append(doc)
    return found


def property_value(name: str, value: str) -> dict[str, str]:
    """A profile field as Mastodon sends and shows it (``schema:PropertyValue``; the
    value is HTML, so plain text is escaped)."""
    return {"type": "PropertyValue", "name": name, "value": html.escape(value)}


def thread_content(title: str, body_html: str) -> str:
    """Title first, so Mastodon (which ignores ``name`` on a Note) shows it with the text."""
    return f"<p><strong>{html.escape(title)}</strong></p>{body_html}"


# The line a solved question's content ends with, for software that does not read
# ``acceptedAnswer`` (Mastodon shows the content); receivers that do strip it again
# (:func:`without_solved_line`).
SOLVED_LINE_START = '<p class="solved">✔ Gelöst: '


def solved_line(answer_url: str) -> str:
    url = html.escape(answer_url)
    return f'{SOLVED_LINE_START}<a href="{url}">{url}</a></p>'


def without_solved_line(content_html: str) -> str:
    """The content without the solved line we (or another dEMiSA) appended."""
    head, found, _ = content_html.rpartition(SOLVED_LINE_START)
    if found:
        return head
    # The sanitiser of the receiving side may have dropped the class.
    head, found, _ = content_html.rpartition("<p>✔ Gelöst: ")
    return head if found else content_html


def note_document(post: Post, *, author: Actor, group: Actor | None, parent_ap_id: str | None,
                  urls: Urls, extra_cc: list[str] | None = None,
                  mentions: Sequence[Actor] = (),
                  accepted: Post | None = None) -> dict[str, Any]:
    """A post (thread root or reply) as a Note. A question names its ``accepted`` answer
    (schema.org's ``acceptedAnswer``) and counts its replies (``answerCount``).
    ``mentions`` (the actors in ``post_mentions``) become Mention tags and are put in
    ``cc``, as Mastodon needs to notify them."""
    context_url = post.context_url or urls.context(post.thread_id or post.id)
    to = [PUBLIC]
    cc: list[str] = []
    tags: list[dict[str, Any]] = []
    if group is not None:
        if group.local:
            cc = [group.ap_id]
        else:
            # Into a group elsewhere the group is a primary recipient, as Lemmy sends
            # community posts (to: [community, Public]); its server announces the post.
            to = [group.ap_id, PUBLIC]
        if group.followers_url:
            cc.append(group.followers_url)
        tags.append({"type": "Mention", "href": group.ap_id, "name": "@" + group.handle})
    for mentioned in mentions:
        if all(tag["href"] != mentioned.ap_id for tag in tags):
            tags.append({"type": "Mention", "href": mentioned.ap_id,
                         "name": "@" + mentioned.handle})
    for extra in [*(extra_cc or []), *(m.ap_id for m in mentions)]:
        if extra not in cc and extra not in to:
            cc.append(extra)
    # The href is our tag page (fedi/web/tag_pages.py), as Mastodon links its tags.
    tags.extend(
        {"type": "Hashtag", "name": "#" + tag, "href": tag_url(f"{urls.base}/tags", tag)}
        for tag in post.hashtags
    )
    body = post.content_html
    doc: dict[str, Any] = {
        "id": post.ap_id,
        "type": "Note",
        "attributedTo": author.ap_id,
        "content": thread_content(post.title, body) if post.is_thread and post.title else body,
        "mediaType": "text/html",
        "to": to,
        "cc": cc,
        "published": iso(post.published),
        "url": post.url or post.ap_id,
        "context": context_url,
        "conversation": context_url,
        "tag": tags,
        "sensitive": post.sensitive,
    }
    attachments = attachment_documents(post.attachments or [])
    if attachments:
        doc["attachment"] = attachments
    if post.source is not None:
        doc["source"] = {"content": post.source,
                         "mediaType": post.source_media_type or "text/markdown"}
    if post.is_thread and (post.kind == "question" or accepted is not None):
        doc["answerCount"] = post.reply_count
        if accepted is not None:
            doc["acceptedAnswer"] = accepted.ap_id
            doc["content"] += solved_line(accepted.url or accepted.ap_id)
    if post.language:
        doc["contentMap"] = {post.language: doc["content"]}
    if post.is_thread and post.title:
        doc["name"] = post.title
    if parent_ap_id is not None:
        doc["inReplyTo"] = parent_ap_id
    if group is not None:
        doc["audience"] = group.ap_id
    if post.summary:
        doc["summary"] = post.summary
    if post.updated is not None:
        doc["updated"] = iso(post.updated)
    if post.is_thread:
        doc["stickied"] = post.pinned_at is not None
        doc["locked"] = post.locked
    return with_context(doc)


def tombstone(post: Post) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": post.ap_id,
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": iso(post.deleted_at or post.removed_at),
    }
    return with_context(doc)


def activity(activity_id: str, type_: str, actor: Actor, obj: Any, *, to: list[str],
             cc: list[str], audience: str | None = None, **fields: Any) -> dict[str, Any]:
    """An activity addressed like its object."""
    doc: dict[str, Any] = {
        "id": activity_id,
        "type": type_,
        "actor": actor.ap_id,
        "object": strip_context(obj),
        "to": to,
        "cc": cc,
    }
    if audience is not None:
        doc["audience"] = audience
    doc.update({k: v for k, v in fields.items() if v is not None})
    return with_context(doc)


def strip_context(obj: Any) -> Any:
    """Embedded objects carry no @context of their own, except those with an FEP-8b32
    integrity proof (the proof covers the @context: without it, it no longer verifies)."""
    if isinstance(obj, dict) and "@context" in obj and "proof" not in obj:
        return {k: v for k, v in obj.items() if k != "@context"}
    return obj
