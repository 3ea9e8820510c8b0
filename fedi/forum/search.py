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

import bisect
import html
import math
import re
import time
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
# A request ranks at most this many windows of CANDIDATE_CAP matches (its work is bounded
# even when a state filter leaves few hits in each); a cursor goes on from there.
MAX_WINDOWS = 4
# A cursor's score that starts a window from its best hit (above any rank ts_rank_cd gives).
WINDOW_START = 1e300


class InvalidQuery(AppError):
    status = 400
    code = "invalid_query"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the window's top id and the last (score, id) shown
    (WINDOW_START, 0: the window's first hit)."""

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


@dataclass(frozen=True)
class Query:
    """A query as a tsquery text, and per word the lexemes it matches (``prefixes`` match
    as prefixes, ``words`` exactly): what the frequency estimate reads."""

    text: str
    alternatives: list[tuple[list[str], list[str]]]  # per word: (prefixes, words)
    any_word: bool


async def build_query(conn: Any, query: str, *, any_word: bool = False) -> Query | None:
    """The tsquery for ``query``; None when no word is left (only stopwords)."""
    tokens = words(query)
    if not tokens:
        return None
    found = await store.terms(conn, tokens, [t.translate(_FOLD) for t in tokens], MIN_INFIX)
    if not found:
        return None
    parts = []
    alternatives: list[tuple[list[str], list[str]]] = []
    for term in found:
        prefix = len(term.lexeme) >= 3
        others = [w for w in term.expansions if w != term.lexeme]
        parts.append("(" + " | ".join(
            [_quote(term.lexeme) + (":*" if prefix else "")] + [_quote(w) for w in others])
            + ")")
        alternatives.append(([term.lexeme], others) if prefix else ([], [term.lexeme, *others]))
    return Query((" | " if any_word else " & ").join(parts), alternatives, any_word)


# -- choosing how to collect a window's candidates (storage.search._candidates) -----------
# Reading the newest documents in key order costs about one unit per document; collecting
# the matches through the GIN index about GIN_COST units per match (its heap visits and
# sorting; measured over a million seeded posts: 0.25 us a document read in key order,
# about 11 us a match through the index). A term in a share s of the documents is read in
# key order when the reading it needs for CANDIDATE_CAP matches (CANDIDATE_CAP / s
# documents, whatever the number of matches) costs less than its matches through the index
# (s x documents x GIN_COST), else it goes to the index (a rare term: few matches). The
# reading stops after MARGIN times the expected documents (rounded up to a power of two):
# a term rarer there than the statistics say (common years ago) then gets windows of the
# documents read, fewer matches each, the work still bounded; a misjudged rare one costs
# its matches through the index until the next ANALYZE.
GIN_COST = 40.0
DEFAULT_SHARE = 0.005  # PostgreSQL's DEFAULT_TS_MATCH_SEL
RARE_SHARE = 0.0001
MARGIN = 3
STATS_SECONDS = 300.0  # how long the planner's statistics are reused in a process


@dataclass(frozen=True)
class Lexicon:
    """The most common lexemes (from ANALYZE) sorted, with running sums of their
    frequencies: the frequency of a prefix is one subtraction."""

    stats: store.TermStats
    keys: list[str]
    sums: list[float]  # sums[i]: total frequency of keys[:i]

    @classmethod
    def of(cls, stats: store.TermStats) -> Lexicon:
        keys = sorted(stats.frequencies)
        sums = [0.0]
        for key in keys:
            sums.append(sums[-1] + stats.frequencies[key])
        return cls(stats, keys, sums)

    def frequency(self, prefixes: list[str], exact: list[str]) -> float:
        """An upper estimate of the share of documents holding any of the lexemes."""
        # Not among the common ones: rarer than those (PostgreSQL's own guess for a lexeme
        # its statistics do not list, ts_selfuncs.c), or rare when the list has them all.
        unknown = RARE_SHARE if self.stats.complete else min(self.stats.floor,
                                                             DEFAULT_SHARE) / 2
        total = 0.0
        for prefix in prefixes:
            lo = bisect.bisect_left(self.keys, prefix)
            hi = bisect.bisect_left(self.keys, prefix + "\U0010ffff")
            total += self.sums[hi] - self.sums[lo] if hi > lo else unknown
        total += sum(self.stats.frequencies.get(w, unknown) for w in exact)
        return min(total, 1.0)

    def scan(self, query: Query, *, threads_only: bool = False) -> int:
        """How many of the newest documents to read in key order (0: use the index)."""
        shares = [self.frequency(p, w) for p, w in query.alternatives]
        if query.any_word:
            share = 1 - math.prod(1 - f for f in shares)
        else:
            share = math.prod(shares)
        if threads_only:
            share *= self.stats.thread_share
        if share <= 0:
            return 0
        expected = store.CANDIDATE_CAP / share
        documents = self.stats.documents
        if expected * 2 > documents or expected >= share * documents * GIN_COST:
            return 0
        return math.ceil(expected * MARGIN)


_lexicons: dict[int, tuple[Any, float, Lexicon | None]] = {}  # id(pool): pool, until, lexicon


async def lexicon(ctx: Context, conn: Any) -> Lexicon | None:
    """The statistics of ctx's database, read at most every STATS_SECONDS per process;
    None before the first ANALYZE (then every window is read in key order first)."""
    entry = _lexicons.get(id(ctx.pool))
    now = time.monotonic()
    if entry is not None and entry[0] is ctx.pool and entry[1] > now:
        return entry[2]
    stats = await store.term_stats(conn)
    found = Lexicon.of(stats) if stats is not None else None
    if len(_lexicons) > 16:  # pools of closed test databases
        _lexicons.clear()
    _lexicons[id(ctx.pool)] = (ctx.pool, now + STATS_SECONDS, found)
    return found


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
    each window of CANDIDATE_CAP matches, newest window first.

    A request reads at most MAX_WINDOWS windows: when a filter (a thread state) or hidden
    posts leave fewer hits than a page in them, the page is short (even empty) and its
    cursor starts the next, older window, so every match stays reachable by paging."""
    filters = filters or Filters()
    async with ctx.pool.acquire() as conn:
        built = await build_query(conn, query)
        if built is None:
            return Page([], None, {})
        known = await lexicon(ctx, conn)
        scan = known.scan(built, threads_only=filters.threads_only) if known else (
            store.RECENT_SCAN)
        top = after.top if after else store.TOP
        position = (after.score, after.post_id) if after and after.score < WINDOW_START else None
        shown: list[tuple[int, Hit]] = []  # (window top, hit)
        resume: int | None = None  # the next window's top, when stopped before it
        for windows in range(1, MAX_WINDOWS + 1):
            window = await store.search_window(
                conn, built.text, top=top, after=position, filters=filters,
                limit=limit + 1 - len(shown), scan=scan)
            shown += [(top, h) for h in window.hits]
            if len(shown) > limit or not window.more or window.low is None:
                break
            top, position = window.low - 1, None  # the next, older window
            if windows == MAX_WINDOWS:
                resume = top
        actors = await actor_store.by_ids(
            conn, {h.post.author_id for _, h in shown}
            | {h.post.group_id for _, h in shown if h.post.group_id})
    more = len(shown) > limit
    shown = shown[:limit]
    next_cursor = None
    if more and shown:
        last_top, last = shown[-1]
        next_cursor = Cursor(last_top, last.score, last.post.id)
    elif resume is not None:
        next_cursor = Cursor(resume, WINDOW_START, 0)
    return Page([Result(h, snippet(h)) for _, h in shown], next_cursor, actors)


async def similar_threads(ctx: Context, title: str, *,
                          limit: int = store.SIMILAR_CAP) -> Page:
    """Up to ``limit`` threads like a title being typed: any of its words, solved first."""
    query = " ".join(title.split())[:MAX_QUERY]
    async with ctx.pool.acquire() as conn:
        built = await build_query(conn, query, any_word=True) if query else None
        if built is None:
            return Page([], None, {})
        known = await lexicon(ctx, conn)
        scan = known.scan(built, threads_only=True) if known else store.RECENT_SCAN
        hits = await store.similar_threads(conn, built.text, limit=limit, scan=scan)
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
