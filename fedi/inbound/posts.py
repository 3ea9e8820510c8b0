"""Remote posts as rows: a Note, Page, Article or Question from another server becomes a
thread or a reply of a group (ours or one we follow).

Both inbound paths use this: a Create sent to one of our groups, and an Announce from a
remote group we follow. The caller has checked who may post where; this module checks
that the object is what it claims to be (its author is on its host) and stores it once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import asyncpg

from activitypub import vocab
from activitypub.errors import InvalidObject
from fedi.core.context import Context
from fedi.core.markup import html_to_text, sanitize_html
from fedi.federation.documents import without_solved_line
from fedi.federation.remote import fetch, host_of, resolve_actor
from fedi.forum import answers
from fedi.forum.mentions import record_known
from fedi.forum.polls import store_remote_question
from fedi.inbound.outcomes import Ignored, Refused
from storage import inbox as inbox_store
from storage import notification_events
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post

POST_TYPES = frozenset({"Note", "Page", "Article", "Question"})
TITLE_MAX = 200
# How many missing ancestors of a reply are fetched from their origin, one by one.
MAX_FETCH_DEPTH = 5
UNTITLED = "Ohne Titel"

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w/])[@!][\w.-]+(?:@[\w.-]+(?::\d+)?)?", re.UNICODE)
_HASHTAG = re.compile(r"(?<![\w&/])#\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")
_TRIM = " :,;-–—"
# Words that only lead in to a link: "Siehe https://…", "mehr unter https://…".
_LEAD_IN = frozenset({"siehe", "s.", "unter", "hier", "via", "bei", "auf", "link", "see",
                      "at", "here", "on"})
# Mastodon wraps mentions and hashtags in links; drop those links with their text.
_MENTION_LINK = re.compile(
    r"<a\b[^>]*class=\"[^\"]*\b(?:mention|hashtag)\b[^\"]*\"[^>]*>.*?</a>",
    re.IGNORECASE | re.DOTALL,
)


async def post_object(ctx: Context, activity: vocab.Activity) -> vocab.APObject:
    """The post a Create or Update carries; a bare id is fetched from the actor's host.
    The object must live on its actor's host: anything else is a spoof."""
    obj: Any = activity.object
    if isinstance(obj, str):
        if host_of(obj) != host_of(activity.actor):
            raise Refused(f"{obj} is not on the host of {activity.actor}")
        obj = vocab.parse(await fetch(ctx, obj))
    if not isinstance(obj, vocab.APObject) or obj.type not in POST_TYPES:
        kind = getattr(obj, "type", "nothing")
        raise Ignored(f"a {activity.type} of a {kind} is not a post")
    assert obj.id is not None
    if host_of(obj.id) != host_of(activity.actor):
        raise Refused(f"{obj.id} is not on the host of {activity.actor}: not trusted")
    return obj


def check_authorship(obj: vocab.APObject, author: Actor) -> None:
    """The object must be written by ``author`` and live on the author's host
    (Mastodon's ``non_matching_uri_hosts?``): nobody posts in someone else's name."""
    if obj.id is None:
        raise InvalidObject(f"the {obj.type} has no id")
    if obj.attributed_to and author.ap_id not in obj.attributed_to:
        raise InvalidObject(
            f"{obj.id} is attributed to {', '.join(obj.attributed_to)}, not {author.ap_id}"
        )
    if host_of(obj.id) != host_of(author.ap_id):
        raise InvalidObject(f"{obj.id} is not on the host of its author {author.ap_id}")


def derive_title(obj: vocab.APObject) -> str:
    """``name`` when given, else the first line of the text without mentions, hashtags
    and links (and the words leading in to a link), cut at 200 characters on a word
    boundary."""
    name = " ".join((obj.name or "").split())
    if name:
        return cut(name)
    content = _MENTION_LINK.sub(" ", obj.content or "")
    for line in html_to_text(content).splitlines():
        line = _without_links(line).strip(_TRIM)
        if line:
            return cut(line)
    summary = " ".join((obj.summary or "").split())
    return cut(summary) if summary else UNTITLED


def _without_mentions(text: str) -> str:
    return " ".join(_HASHTAG.sub(" ", _MENTION.sub(" ", text)).split())


def _without_links(line: str) -> str:
    """The line without its links and what only led in to them. Where the text before a
    link ends a sentence, the title ends there ("... ist veröffentlicht. Siehe <link> für
    Details" keeps the first sentence); else the lead-in words go ("Unterlagen unter
    <link>" keeps "Unterlagen"). A closing colon introduces a link or list on the next
    line, which a title cannot show either."""
    pieces = [_without_mentions(piece) for piece in _URL.split(line)]
    if line.rstrip().endswith(":"):
        pieces.append("")
    text = ""
    for piece in pieces[:-1]:  # each is followed by a removed link
        text = f"{text} {piece}".strip()
        sentences = list(_SENTENCE_END.finditer(text))
        if sentences:
            return text[: sentences[-1].end()]
        text = _without_lead_in(text)
    return f"{text} {pieces[-1]}".strip()


def _without_lead_in(text: str) -> str:
    words = text.strip(_TRIM).split()
    while words and words[-1].lower().strip(_TRIM) in _LEAD_IN:
        words.pop()
    return " ".join(words).strip(_TRIM)


def cut(text: str, limit: int = TITLE_MAX) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:-") + "…"


def _content_html(obj: vocab.APObject) -> str:
    content = obj.content or ""
    if answers.federated_fields(obj.to_json())[1]:
        # A solved question's "✔ Gelöst" line is for Mastodon: we show our own box.
        content = without_solved_line(content)
    body = sanitize_html(content)
    # A Question's options are its poll (forum/polls.py), shown and voted on there.
    return body


def _attachments(obj: vocab.APObject) -> list[dict[str, Any]]:
    """``posts.attachments`` items (type, url, media_type, name, width, height, blurhash;
    the shape pages and documents.attachment_documents read); odd values are dropped."""
    found = []
    for a in obj.attachments:
        if not a.url:
            continue
        found.append({
            "type": a.type[:40],
            "url": a.url,
            "media_type": a.media_type[:100] if a.media_type else None,
            "name": a.name[:1500] if a.name else None,
            "width": a.width if a.width is not None and 0 < a.width <= 100_000 else None,
            "height": a.height if a.height is not None and 0 < a.height <= 100_000 else None,
            "blurhash": a.blurhash if a.blurhash and len(a.blurhash) <= 100 else None,
        })
    return found


def _hashtags(obj: vocab.APObject) -> list[str]:
    seen: dict[str, None] = {}
    for tag in obj.hashtags:
        name = tag.name.lstrip("#").strip().lower()
        if name:
            seen.setdefault(name[:50], None)
    return list(seen)


def post_values(obj: vocab.APObject) -> dict[str, Any]:
    """The content columns of a post from its object (shared by store and update)."""
    source = obj.source
    return {
        "content_html": _content_html(obj),
        "source": source.content if source else None,
        "source_media_type": source.media_type if source else None,
        "language": obj.language,
        "summary": sanitize_html(obj.summary) if obj.summary else None,
        "sensitive": obj.sensitive,
        "hashtags": _hashtags(obj),
        "attachments": _attachments(obj),
        "raw": obj.to_json(),
    }


async def store_remote_post(
    ctx: Context, conn: Any, obj: vocab.APObject, *, group: Actor, author: Actor,
    fetch_depth: int = 0,
) -> Post | None:
    """Store ``obj`` by ``author`` as a thread or reply in ``group``; idempotent by id.

    Returns the existing row unchanged when the object is known already, and None when it
    cannot belong to ``group``: it replies to a post of another group, or its parent
    chain cannot be followed within :data:`MAX_FETCH_DEPTH` fetches. Raises
    InvalidObject when the object is not a post by ``author``, Ignored when its author
    deleted it before it arrived (inbound/delete.py), and FetchError when a missing
    parent could not be fetched. Call it in a transaction: it locks the object's id
    against a concurrent early Delete until the end of it.
    """
    if obj.type not in POST_TYPES:
        raise InvalidObject(f"a {obj.type} is not a post")
    check_authorship(obj, author)
    assert obj.id is not None
    known = await post_store.by_ap_id(conn, obj.id)
    if known is not None:
        return known
    await inbox_store.lock_object(conn, obj.id)
    if await inbox_store.deleted_early(conn, obj.id, actor_ap_id=author.ap_id,
                                       now=datetime.now(UTC)):
        raise Ignored(f"{obj.id} was deleted by its author before it arrived")

    parent: Post | None = None
    if obj.in_reply_to:
        parent = await post_store.by_ap_id(conn, obj.in_reply_to)
        if parent is None:
            parent = await _fetch_parent(ctx, conn, obj.in_reply_to, group=group,
                                         fetch_depth=fetch_depth + 1)
        if parent is None or parent.group_id != group.id:
            return None

    values: dict[str, Any] = {
        "ap_id": obj.id, "local": False, "group_id": group.id, "author_id": author.id,
        "type": obj.type, "url": obj.url or obj.id,
        "context_url": obj.context or obj.conversation,
        "published": obj.published or datetime.now(UTC), "updated": obj.updated,
        **post_values(obj),
    }
    if parent is None:
        values.update(parent_id=None, depth=0, title=derive_title(obj),
                      kind="question" if answers.federated_fields(obj.to_json())[0]
                      else "discussion")
    else:
        values.update(thread_id=parent.thread_id, parent_id=parent.id, depth=parent.depth + 1,
                      title=None, context_url=values["context_url"] or parent.context_url)
    try:
        async with conn.transaction():  # a savepoint: a concurrent insert loses cleanly
            stored = await post_store.insert(conn, values)
            await store_remote_question(conn, stored, obj)  # a poll (forum/polls.py)
            # The actors it mentions that we know (ours above all: they get a notice).
            await record_known(conn, stored.id, _mention_hrefs(obj))
            # Who hears of it is the notification worker's to find out, after the commit.
            await notification_events.enqueue_event(conn, "post", {"post_id": stored.id})
            return stored
    except asyncpg.UniqueViolationError:
        return await post_store.by_ap_id(conn, obj.id)


async def _fetch_parent(ctx: Context, conn: Any, ap_id: str, *, group: Actor,
                        fetch_depth: int) -> Post | None:
    """Fetch a missing parent from its origin and store it (and its own missing
    ancestors) first. A fetched thread root must be addressed to ``group``: a reply to
    some unrelated post does not pull that post into the group."""
    if fetch_depth > MAX_FETCH_DEPTH:
        return None
    doc = vocab.parse(await fetch(ctx, ap_id))
    if not isinstance(doc, vocab.APObject) or doc.type not in POST_TYPES:
        return None
    if not doc.attributed_to:
        raise InvalidObject(f"{ap_id} has no attributedTo")
    if doc.in_reply_to is None and not addressed_to(doc, group):
        return None
    author = await resolve_actor(ctx, doc.attributed_to[0])
    return await store_remote_post(ctx, conn, doc, group=group, author=author,
                                   fetch_depth=fetch_depth)


def addressed_to(obj: vocab.APObject, group: Actor) -> bool:
    """The object names the group in to/cc/audience or mentions it."""
    names = {*obj.to, *obj.cc, *obj.audience, *(m.href for m in obj.mentions)}
    return group.ap_id in names or (group.url is not None and group.url in names)


async def update_remote_post(ctx: Context, conn: Any, post: Post, obj: vocab.APObject,
                             *, author: Actor) -> Post | None:
    """Apply an Update by the post's author; None when it is not newer than what we have
    (Mastodon applies an edit only when its ``updated`` is newer)."""
    if post.author_id != author.id:
        raise InvalidObject(f"{author.ap_id} is not the author of {post.ap_id}")
    check_authorship(obj, author)
    if obj.id != post.ap_id:
        raise InvalidObject(f"the update is for {obj.id}, not {post.ap_id}")
    if post.deleted_at is not None:
        return None
    if obj.updated is not None and post.updated is not None and obj.updated <= post.updated:
        return None
    changes = post_values(obj)
    changes["updated"] = obj.updated or datetime.now(UTC)
    if post.is_thread:
        changes["title"] = derive_title(obj)
    updated = await post_store.update_content(conn, post.id, **changes)
    await record_known(conn, post.id, _mention_hrefs(obj))
    if updated.is_thread:
        # Its accepted answer, as its author chose it (FEDERATION.md, "Accepted answers").
        updated = await answers.apply_federated(conn, updated, obj.to_json(), by=author)
    return updated


def _mention_hrefs(obj: vocab.APObject) -> list[str]:
    """The actor ids of the object's Mention tags (Mastodon, Lemmy and Fedify all send
    ``{"type": "Mention", "href": <actor id>, "name": "@user@host"}``)."""
    return [m.href for m in obj.mentions if m.href]
