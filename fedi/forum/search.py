"""Search threads and posts, German compounds included (issue 15); the one service the
search API, the search page and the new-thread form's similar questions use.

A query's words are stemmed by PostgreSQL's German snowball stemmer (which folds umlauts
and ß, so "Förderantrag" and "Förderanträge" meet). Each word matches
  * its stem as a prefix ('glas:*' finds "Glasfaserausbau"), and
  * the known lexemes containing it inside a compound ("Faser" finds "Glasfaserkabel",
    "Mittel" "Fördermittel"): migration 0015's lexicon of suffixes, capped per word.
Words are ANDed for a search, ORed for similar threads. Ranking, windows and paging:
storage/search.py.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from fedi.core.context import Context
from fedi.core.errors import AppError, NotFound
from storage import actors as actor_store
from storage import groups as group_store
from storage import search as store
from storage.actors import Actor
from storage.search import Filters, Hit

MAX_QUERY = 200  # characters
MAX_WORDS = 8
PAGE_SIZE = 20
STATES = tuple(store.STATE_CONDITIONS)
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
# Shorter patterns would expand to too many unrelated words ("amt" in "Samt").
MIN_INFIX = 4


class InvalidQuery(AppError):
    status = 400
    code = "invalid_query"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the window's top id and the last (score, id) shown."""

    top: int
    score: float
    post_id: int

    def key(self) -> tuple[int, float, int]:
        return (self.top, self.score, self.post_id)


CURSOR_TYPES: tuple[type, ...] = (int, float, int)


@dataclass(frozen=True)
class Result:
    hit: Hit
    snippet: Markup  # escaped text with <mark> around the matches

    @property
    def state(self) -> str:
        if self.hit.thread_solved:
            return "solved"
        return "answered" if self.hit.thread_replies > 0 else "open"


@dataclass(frozen=True)
class Page:
    results: list[Result]
    next: Cursor | None
    actors: dict[int, Actor]  # authors and groups of the results


def clean_query(text: str) -> str:
    """The query as typed, whitespace collapsed; 400 when empty or too long."""
    query = " ".join(text.split())
    if not query:
        raise InvalidQuery("Enter at least one search word (q).", field="q")
    if len(query) > MAX_QUERY:
        raise InvalidQuery(f"The search text is longer than {MAX_QUERY} characters.",
                           field="q")
    if "\x00" in query:
        raise InvalidQuery("The search text must not contain NUL characters.", field="q")
    return query


def words(query: str) -> list[str]:
    """The query's words, lower-case, at most MAX_WORDS (one-letter words dropped)."""
    return [w for w in _WORD.findall(query.lower()) if len(w) >= 2][:MAX_WORDS]


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


async def build_query(conn: Any, query: str, *, any_word: bool = False) -> str | None:
    """The tsquery text for ``query``; None when no word is left (only stopwords)."""
    tokens = words(query)
    if not tokens:
        return None
    stems = await store.lexemes(conn, tokens)
    # Per word, the pattern to look for inside compounds: the stem, or the folded word
    # when the stem is short ("Faser" stems to 'fas', too short; 'faser' is not).
    terms: list[tuple[str, str | None]] = []
    for token, lexemes in zip(tokens, stems, strict=True):
        folded = token.translate(_FOLD)
        for lexeme in lexemes:
            pattern = lexeme if len(lexeme) >= MIN_INFIX else (
                folded if len(folded) >= MIN_INFIX else None)
            terms.append((lexeme, pattern))
    if not terms:
        return None
    patterns = sorted({p for _, p in terms if p})
    found = dict(zip(patterns, await store.expansions(conn, patterns), strict=True))
    parts = []
    for lexeme, pattern in terms:
        alternatives = [_quote(lexeme) + (":*" if len(lexeme) >= 3 else "")]
        alternatives += [_quote(w) for w in found.get(pattern or "", []) if w != lexeme]
        parts.append("(" + " | ".join(alternatives) + ")")
    return (" | " if any_word else " & ").join(parts)


def snippet(hit: Hit) -> Markup:
    """The headline as HTML: everything escaped, the matches in <mark>."""
    text = hit.headline
    out: list[str] = []
    for i, piece in enumerate(re.split(f"[{store.MARK_START}{store.MARK_END}]", text)):
        plain = html.unescape(piece) if hit.from_html else piece
        escaped = str(escape(plain))
        out.append(f"<mark>{escaped}</mark>" if i % 2 == 1 and escaped else escaped)
    return Markup("".join(out).strip())  # noqa: S704 - every piece is escaped above


async def find_group(conn: Any, ref: str, own_host: str) -> Actor:
    """A group known here by ``name`` (local) or ``name@host``; never looked up remotely
    (a search covers what is stored). NotFound otherwise."""
    name, _, host = ref.strip().lstrip("!@").partition("@")
    group = await actor_store.by_handle(conn, name, (host or own_host).lower(), "Group")
    if (group is None or group.type != "Group" or group.deleted_at is not None
            or await group_store.get(conn, group.id) is None):
        raise NotFound(f"no group {ref!r} here", field="group")
    return group


async def find_author(conn: Any, ref: str, own_host: str) -> Actor:
    """A person known here by ``name`` (local) or ``name@host``. NotFound otherwise."""
    name, _, host = ref.strip().lstrip("@").partition("@")
    author = await actor_store.by_handle(conn, name, (host or own_host).lower(), "Person")
    if author is None or author.type == "Group":
        raise NotFound(f"no user named {ref!r} here", field="author")
    return author


def check_state(state: str | None) -> str | None:
    if state and state not in STATES:
        raise InvalidQuery(f"state must be one of {', '.join(STATES)}.", field="state")
    return state or None


async def search(ctx: Context, query: str, *, filters: Filters | None = None,
                 after: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    """A page of hits for ``query`` (already :func:`clean_query`-ed), best first within
    each window of CANDIDATE_CAP matches, newest window first."""
    async with ctx.pool.acquire() as conn:
        tsquery = await build_query(conn, query)
        if tsquery is None:
            return Page([], None, {})
        top = after.top if after else store.TOP
        position = (after.score, after.post_id) if after else None
        shown: list[tuple[int, Hit]] = []  # (window top, hit)
        while True:
            window = await store.search_window(
                conn, tsquery, top=top, after=position, filters=filters or Filters(),
                limit=limit + 1 - len(shown))
            shown += [(top, h) for h in window.hits]
            if len(shown) > limit or window.size < store.CANDIDATE_CAP or window.low is None:
                break
            top, position = window.low - 1, None  # the next, older window
        actors = await actor_store.by_ids(
            conn, {h.post.author_id for _, h in shown}
            | {h.post.group_id for _, h in shown if h.post.group_id})
    more = len(shown) > limit
    shown = shown[:limit]
    next_cursor = None
    if more and shown:
        last_top, last = shown[-1]
        next_cursor = Cursor(last_top, last.score, last.post.id)
    return Page([Result(h, snippet(h)) for _, h in shown], next_cursor, actors)


async def similar_threads(ctx: Context, title: str, *,
                          limit: int = store.SIMILAR_CAP) -> Page:
    """Up to ``limit`` threads like a title being typed: any of its words, solved first."""
    query = " ".join(title.split())[:MAX_QUERY]
    async with ctx.pool.acquire() as conn:
        tsquery = await build_query(conn, query, any_word=True) if query else None
        if tsquery is None:
            return Page([], None, {})
        hits = await store.similar_threads(conn, tsquery, limit=limit)
        actors = await actor_store.by_ids(
            conn, {h.post.author_id for h in hits} | {h.post.group_id for h in hits
                                                       if h.post.group_id})
    return Page([Result(h, snippet(h)) for h in hits], None, actors)


def thread_path(result: Result) -> str:
    post = result.hit.post
    thread_id = post.thread_id or post.id
    return f"/posts/{thread_id}" if post.parent_id is None else (
        f"/posts/{thread_id}#post-{post.id}")


def _iso(value: datetime) -> str:
    return value.isoformat()


def item_view(ctx: Context, result: Result, actors: dict[int, Actor]) -> dict[str, Any]:
    """A result as the API shows it."""
    post = result.hit.post
    group = actors.get(post.group_id) if post.group_id else None
    author = actors.get(post.author_id)
    return {
        "type": "thread" if post.parent_id is None else "post",
        "id": post.id,
        "thread_id": post.thread_id or post.id,
        "title": result.hit.thread_title,
        "snippet": str(result.snippet),
        "group": group.handle if group else None,
        "author": author.handle if author else None,
        "state": result.state,
        "accepted": result.hit.accepted,
        "published": _iso(post.published),
        "url": ctx.url(thread_path(result)),
    }
