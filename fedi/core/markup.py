"""User content to safe HTML: Markdown for local posts, sanitising for remote HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from fedi.core import mention_markup
from fedi.core.mention_markup import ENV_COLLECT, ENV_MENTIONS, ENV_TAG_BASE, Found

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


def _image_as_link(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict,
                   env: EnvType) -> str:
    """An image becomes a link to it, named by its alt text: posts embed no images (the
    sanitiser would drop an <img> and, with it, every trace of the image)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    return f'<a href="{html.escape(src)}">{html.escape(alt or src)}</a>'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # commonmark with raw HTML off; tables, strikethrough and bare-URL links like GitHub.
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.add_render_rule("image", _image_as_link)
    mention_markup.install(md)  # @name and #tag, only where render_markdown asks for them
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


def render_markdown(source: str, *, mentions: dict[str, str] | None = None,
                    tag_base: str | None = None) -> str:
    """Markdown (raw HTML off) rendered and then sanitised.

    A post's text passes ``mentions`` ({handle_key: profile URL}, see
    fedi/forum/mentions.py) and ``tag_base`` ("{base}/tags"): those handles and every
    ``#tag`` become links; other handles stay text."""
    env: dict[str, object] = {ENV_MENTIONS: mentions, ENV_TAG_BASE: tag_base}
    return sanitize_html(_markdown().render(source, env)).strip()


def scan_markdown(source: str) -> Found:
    """The handles and hashtags a Markdown text uses outside code and links."""
    found = Found()
    _markdown().parse(source, {ENV_COLLECT: found})
    return found


_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)


def shift_headings(content: str, base: int) -> str:
    """Fit the headings of sanitised HTML into a page below a heading of level ``base``:
    the post's top level becomes ``base + 1`` and no heading is more than one level below
    the one before it (axe's heading-order), so "# A" then "### B" becomes h3, h4 under
    an h2. In sanitised HTML a literal "<" only occurs as a tag, and headings do not nest."""
    if "<h" not in content and "<H" not in content:  # most posts: nothing to shift
        return content
    levels = sorted({int(level) for _, level in _HEADING_TAG.findall(content)})
    rank = {level: index for index, level in enumerate(levels)}
    previous = base
    current = base + 1

    def replace(match: re.Match[str]) -> str:
        nonlocal previous, current
        if match[1]:  # the closing tag of the heading just opened
            return f"</h{current}"
        wanted = base + 1 + rank[int(match[2])]
        current = max(base + 1, min(wanted, previous + 1, 6))
        previous = current
        return f"<h{current}"

    return _HEADING_TAG.sub(replace, content)


_BLOCK_END = re.compile(r"</(p|li|h[1-6]|blockquote|pre|tr)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(content: str) -> str:
    """Plain text of sanitised HTML: block ends become newlines, entities unescaped."""
    text = _BLOCK_END.sub("\n", content)
    text = html.unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
