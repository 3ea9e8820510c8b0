"""A flat, human-readable summary of an ActivityStreams document (for ``fedi inspect``).

``summarize()`` always returns the same keys; what an activity lacks (author, text, tags ...)
is taken from its embedded object, so ``Create{Note}`` and ``Announce{Create{Page}}`` read
like the post they carry.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from activitypub.vocab import Activity, ActivityStreamsDocument, Actor, APObject, Link, parse

__all__ = [
    "SUMMARY_KEYS",
    "html_to_text",
    "summarize",
]

SUMMARY_KEYS = (
    "type",
    "id",
    "actor",
    "object_type",
    "object_id",
    "attributed_to",
    "in_reply_to",
    "audience",
    "context",
    "name",
    "content_text",
    "mentions",
    "hashtags",
    "to",
    "cc",
)
# Keys an activity may lack and inherit from the object it embeds.
_INHERITED = (
    "attributed_to",
    "in_reply_to",
    "name",
    "content_text",
    "mentions",
    "hashtags",
    "audience",
    "context",
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "hr"}
)
_SKIPPED_TAGS = frozenset({"script", "style"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


def summarize(data: object) -> dict[str, Any]:
    """Summarize a document; raises ``InvalidObject`` when it is malformed."""
    return _summarize_view(parse(data))


def _summarize_view(doc: ActivityStreamsDocument) -> dict[str, Any]:
    summary: dict[str, Any] = dict.fromkeys(SUMMARY_KEYS)
    summary["type"] = doc.type
    summary["id"] = doc.id
    if isinstance(doc, APObject):
        summary.update(_object_fields(doc))
    elif isinstance(doc, Activity):
        summary.update(_activity_fields(doc))
    elif isinstance(doc, Actor):
        # An actor's display name, and its bio as the text (what `fedi lookup` shows).
        summary["name"] = doc.name
        summary["content_text"] = _text_of(doc.summary, None)
    elif isinstance(doc, Link):
        summary["name"] = doc.name
    return summary


def _object_fields(obj: APObject) -> dict[str, Any]:
    raw = obj.raw
    return {
        "attributed_to": list(obj.attributed_to) or None,
        "in_reply_to": obj.in_reply_to,
        "audience": _present(raw, "audience", obj.audience),
        "context": obj.context or obj.conversation,
        "name": obj.name,
        "content_text": _text_of(obj.content, obj.media_type),
        "mentions": [m.href for m in obj.mentions] if "tag" in raw else None,
        "hashtags": [h.name for h in obj.hashtags] if "tag" in raw else None,
        "to": _present(raw, "to", obj.to),
        "cc": _present(raw, "cc", obj.cc),
    }


def _activity_fields(activity: Activity) -> dict[str, Any]:
    raw = activity.raw
    fields: dict[str, Any] = {
        "actor": activity.actor,
        "object_type": activity.object_type,
        "object_id": activity.object_id,
        "audience": _present(raw, "audience", activity.audience),
        "name": activity.name,
        "content_text": _text_of(activity.content, None),
        "mentions": [m.href for m in activity.mentions] if "tag" in raw else None,
        "hashtags": [h.name for h in activity.hashtags] if "tag" in raw else None,
        "to": _present(raw, "to", activity.to),
        "cc": _present(raw, "cc", activity.cc),
    }
    embedded = activity.object
    if isinstance(embedded, ActivityStreamsDocument):
        inner = _summarize_view(embedded)
        for key in _INHERITED:
            if fields.get(key) is None:
                fields[key] = inner[key]
    return fields


def _present(raw: dict[str, Any], key: str, values: tuple[str, ...]) -> list[str] | None:
    """A list when the document has the property (even empty), None when it lacks it."""
    return list(values) if key in raw else None


def _text_of(content: str | None, media_type: str | None) -> str | None:
    if content is None:
        return None
    if media_type in ("text/plain", "text/markdown"):
        return content.strip()
    return html_to_text(content)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: paragraphs and ``<br>`` become newlines, entities are
    unescaped, runs of whitespace collapse as a browser would show them."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in _BLOCK_TAGS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            # Source newlines inside HTML text are spaces; only tags make line breaks.
            # ASCII whitespace only: a no-break space is meant to stay.
            self._parts.append(_HTML_SPACE.sub(" ", data))

    def text(self) -> str:
        lines = "".join(self._parts).split("\n")
        cleaned = [line.strip(" ") for line in lines]
        joined = "\n".join(cleaned)
        # Block tags open and close with a newline each: keep at most one blank line.
        return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")
