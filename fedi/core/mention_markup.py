"""``@name``, ``@name@host`` and ``#tag`` in Markdown: found and linked on the parsed
tokens, never on the raw text, so code spans, code blocks, links and e-mail addresses are
left alone (see fedi/core/markup.py, which runs this rule, and fedi/forum/mentions.py,
which resolves the handles to actors).

The rule runs before markdown-it's core ``linkify``: a handle like ``bob@example.org``
after an ``@`` would otherwise become a mailto link first. An e-mail address is no
mention because an ``@`` right after a word character starts none.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

__all__ = [
    "ENV_COLLECT", "ENV_MENTIONS", "ENV_TAG_BASE", "HANDLE", "HASHTAG", "Found",
    "handle_key", "install", "tag_url",
]

# A handle: a name, optionally @host (with a port: tests and small servers use one).
# Not after a word character, "@" or "/" (e-mail addresses, URLs, "@@").
HANDLE = re.compile(
    r"(?<![\w@/.+-])@(?P<name>\w(?:[\w.-]*\w)?)"
    r"(?:@(?P<host>[\w-]+(?:\.[\w-]+)*(?::\d{1,5})?))?"
    r"(?![\w@])",
    re.UNICODE,
)
# A hashtag starts with a letter (so "#1" stays an issue number); Unicode letters count.
HASHTAG = re.compile(r"(?<![\w&/#])#(?P<tag>[^\W\d_]\w{0,49})", re.UNICODE)

ENV_MENTIONS = "demisa_mentions"  # {handle_key: profile URL}: handles to link
ENV_TAG_BASE = "demisa_tag_base"  # "{base}/tags": hashtags to link
ENV_COLLECT = "demisa_collect"    # a Found: handles and tags to report


@dataclass
class Found:
    """What a text mentions, in order of first appearance (handles as written, without
    the leading "@"; tags lower-cased)."""

    handles: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)

    def add_handle(self, handle: str) -> None:
        if all(handle_key(h) != handle_key(handle) for h in self.handles):
            self.handles.append(handle)

    def add_hashtag(self, tag: str) -> None:
        if tag.lower() not in self.hashtags:
            self.hashtags.append(tag.lower())


def handle_key(handle: str) -> str:
    """The key a handle is looked up by: lower case, without a leading "@"."""
    return handle.lstrip("@").lower()


def tag_url(tag_base: str, tag: str) -> str:
    """The page of a hashtag (lower case; umlauts percent-encoded as a URL needs)."""
    return f"{tag_base}/{quote(tag.lower(), safe='')}"


def _pieces(text: str, env: EnvType) -> list[Token] | None:
    """The text token split around mentions and hashtags; None when there is none (or
    nothing is to be linked)."""
    mentions: dict[str, str] | None = env.get(ENV_MENTIONS)
    tag_base: str | None = env.get(ENV_TAG_BASE)
    collect: Found | None = env.get(ENV_COLLECT)
    matches = sorted([*HANDLE.finditer(text), *HASHTAG.finditer(text)], key=lambda m: m.start())
    if not matches:
        return None
    out: list[Token] = []
    pos = 0
    changed = False
    for match in matches:
        if match.start() < pos:
            continue  # "#tag" inside a handle's host cannot happen, but overlap is skipped
        token: Token | None = None
        if "tag" in match.groupdict():
            tag = match["tag"]
            if collect is not None:
                collect.add_hashtag(tag)
            if tag_base is not None:
                token = Token("hashtag", "", 0, content=tag,
                              meta={"href": tag_url(tag_base, tag)})
        else:
            handle = match[0][1:]
            if collect is not None:
                collect.add_handle(handle)
            href = (mentions or {}).get(handle_key(handle))
            if href is not None:
                token = Token("mention", "", 0, content=match["name"], meta={"href": href})
        if token is None:
            continue
        if match.start() > pos:
            out.append(Token("text", "", 0, content=text[pos:match.start()]))
        out.append(token)
        pos = match.end()
        changed = True
    if not changed:
        return None
    if pos < len(text):
        out.append(Token("text", "", 0, content=text[pos:]))
    return out


def _rule(state: StateCore) -> None:
    env = state.env
    if not any(env.get(key) is not None for key in (ENV_MENTIONS, ENV_TAG_BASE, ENV_COLLECT)):
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for child in block.children:
            if child.type == "link_open":
                in_link += 1
            elif child.type == "link_close":
                in_link -= 1
            elif child.type == "text" and in_link == 0:
                pieces = _pieces(child.content, env)
                if pieces is not None:
                    children.extend(pieces)
                    continue
            children.append(child)
        block.children = children


def _render_mention(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict,
                    env: EnvType) -> str:
    # Mastodon's shape, so its clients and others show a mention as one.
    token = tokens[idx]
    href = html.escape(str(token.meta["href"]))
    name = html.escape(token.content)
    return (f'<span class="h-card"><a href="{href}" class="u-url mention">'
            f"@<span>{name}</span></a></span>")


def _render_hashtag(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict,
                    env: EnvType) -> str:
    token = tokens[idx]
    href = html.escape(str(token.meta["href"]))
    return (f'<a href="{href}" class="mention hashtag">'
            f"#<span>{html.escape(token.content)}</span></a>")


def install(md: MarkdownIt) -> None:
    """Add the rule and its two renderers to ``md``; it acts only when the env asks."""
    md.core.ruler.before("linkify", "demisa_mentions", _rule)
    md.add_render_rule("mention", _render_mention)
    md.add_render_rule("hashtag", _render_hashtag)
