"""User content to safe HTML: Markdown for local posts, sanitising for remote HTML."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

LINK_REL = "nofollow ugc noopener"

_TAGS = {
    "p", "br", "a", "strong", "b", "em", "i", "u", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "span", "sup", "sub",
    "table", "thead", "tbody", "tr", "th", "td",
}
_ATTRIBUTES = {
    "a": {"href", "title", "class", "lang"},
    "span": {"class", "lang"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "p": {"lang"},
}
_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # commonmark with raw HTML off; tables, strikethrough and bare-URL links like GitHub.
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    return md


def sanitize_html(raw: str) -> str:
    """Keep a safe subset of HTML; links get rel="nofollow ugc noopener"."""
    return nh3.clean(
        raw,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Markdown (raw HTML off) rendered and then sanitised."""
    return sanitize_html(_markdown().render(source)).strip()


_BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre|tr)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(content: str) -> str:
    """Plain text of sanitised HTML: block ends become newlines, entities unescaped."""
    text = _BLOCK_END.sub("\n", content)
    text = html.unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
