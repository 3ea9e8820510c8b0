"""Full-text search over posts: the statements (``posts.search``, migration 0015's lexicon).

The query (a ``tsquery`` text) is built by fedi/forum/search.py from :func:`terms`. A
search reads *windows*: the newest ``CANDIDATE_CAP`` visible posts that match (with ids up
to ``top``), ranked among themselves. The cap bounds the work of a common term (its
candidates are read from the newest documents in key order, capped before ranking: the
same work at a thousand posts or a million); a rare term's matches come from the GIN index
and all fit in the first window, so their ranking is exact. The next window starts below
a window's lower bound (its oldest candidate, or the oldest document it read), so paging
reaches every match. No statement counts all matches. :func:`term_stats` gives the
service the statistics it chooses the way by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.posts import Post
from storage.rows import to_row

# Scoring a window reads every candidate's post row: the cost of a search grows with the
# cap. 200 keeps the search API above a fifth of a post lookup's rate over 100,000 posts
# (make bench BENCH=search: 1000 gave 0.09, 200 gives 0.27); a query with more matches is
# ranked window by window, newest window first.
CANDIDATE_CAP = 200
# Newest documents read in key order before asking the GIN index, when no statistics tell
# how common a term is (before the first ANALYZE).
RECENT_SCAN = 10_000
EXPANSION_CAP = 40
TOP = 2**62  # above every post id: the first window
SIMILAR_CAP = 5
# Around the matches in ts_headline's output; the text itself is stripped of them first.
MARK_START = "\x01"
MARK_END = "\x02"

# Thread states as filters (the same meaning as storage.posts.STATE_FILTERS): open means
# not solved; unanswered, not solved and no reply yet; answered, not solved with replies.
STATE_CONDITIONS = {
    "open": "t.accepted_answer_id IS NULL",
    "answered": "t.accepted_answer_id IS NULL AND t.reply_count > 0",
    "unanswered": "t.accepted_answer_id IS NULL AND t.reply_count = 0",
    "solved": "t.accepted_answer_id IS NOT NULL",
}


@dataclass(frozen=True)
class Filters:
    group_id: int | None = None
    author_id: int | None = None
    state: str | None = None  # a key of STATE_CONDITIONS
    threads_only: bool = False


@dataclass(frozen=True)
class Hit:
    post: Post
    thread_title: str | None
    thread_solved: bool
    thread_replies: int
    accepted: bool  # the post is its thread's accepted answer
    score: float
    headline: str  # plain text, the matches between MARK_START and MARK_END
    from_html: bool  # the headline was cut from HTML (entities still encoded)


@dataclass(frozen=True)
class Window:
    hits: list[Hit]
    size: int  # candidates in the window
    low: int | None  # the window's lower bound: the next window starts below it
    more: bool  # there may be older matches


# Each token's German lexemes (stemmed, umlauts folded; none for a stopword) and, per
# lexeme, up to EXPANSION_CAP known lexemes containing its pattern after their first
# character (closest first): the pattern is the lexeme, or the folded token when the lexeme
# is shorter than $3 characters, or none when both are. One round trip for both.
_TERMS = f"""
SELECT t.ord::int AS ord, s.lexeme, coalesce(w.words, '{{}}') AS words
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(token, folded, ord)
CROSS JOIN LATERAL unnest(to_tsvector('german', t.token)) AS s
CROSS JOIN LATERAL (
    SELECT CASE WHEN length(s.lexeme) >= $3 THEN s.lexeme
                WHEN length(t.folded) >= $3 THEN t.folded END AS pattern
) AS p
LEFT JOIN LATERAL (
    SELECT array_agg(x.word ORDER BY length(x.word), x.word) AS words FROM (
        SELECT f.word FROM search_suffixes f
        WHERE f.suffix >= p.pattern AND f.suffix < p.pattern || chr(1114111)
        GROUP BY f.word
        ORDER BY length(f.word), f.word
        LIMIT {EXPANSION_CAP}
    ) AS x
) AS w ON p.pattern IS NOT NULL
ORDER BY t.ord, s.lexeme
"""


@dataclass(frozen=True)
class Term:
    token: int  # the index of the query word it comes from
    lexeme: str
    expansions: list[str]  # known lexemes containing it inside (compounds)


async def terms(conn: Any, tokens: list[str], folded: list[str], min_infix: int) -> list[Term]:
    """The lexemes of each token with their compound expansions (see _TERMS)."""
    rows = await conn.fetch(_TERMS, tokens, folded, min_infix)
    return [Term(r["ord"] - 1, r["lexeme"], list(r["words"])) for r in rows]


@dataclass(frozen=True)
class TermStats:
    """What ANALYZE knows of ``search_docs.search``: the most common lexemes with the share
    of documents holding each, and the table's size. A lexeme not listed is rarer than
    ``floor``; when the list is not full (``complete``), it holds every lexeme but the
    rare ones (ANALYZE's lossy counting drops those below a few in 100,000)."""

    frequencies: dict[str, float]
    floor: float
    documents: float
    thread_share: float  # of documents that open a thread
    complete: bool


_TERM_STATS = """
SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs,
       c.reltuples::float8 AS documents,
       current_setting('default_statistics_target')::int * 10 AS most,
       (SELECT v.most_common_freqs[array_position(v.most_common_vals::text::text[], 't')]
        FROM pg_stats v WHERE v.schemaname = s.schemaname AND v.tablename = 'search_docs'
          AND v.attname = 'is_thread') AS thread_share
FROM pg_stats s, pg_class c
WHERE s.schemaname = current_schema() AND s.tablename = 'search_docs'
  AND s.attname = 'search' AND c.oid = 'search_docs'::regclass
"""


async def term_stats(conn: Any) -> TermStats | None:
    """The planner's statistics of the searched lexemes; None before the first ANALYZE."""
    row = await conn.fetchrow(_TERM_STATS)
    if row is None or row["elems"] is None or row["freqs"] is None or row["documents"] <= 0:
        return None
    elems: list[str] = row["elems"]
    freqs: list[float] = row["freqs"]  # one per element, then minimum, maximum, null share
    return TermStats(
        frequencies=dict(zip(elems, freqs, strict=False)),
        floor=float(freqs[len(elems)]) if len(freqs) > len(elems) else 0.0,
        documents=float(row["documents"]),
        thread_share=float(row["thread_share"]) if row["thread_share"] is not None else 0.1,
        complete=len(elems) < row["most"])


def _visible(filters: Filters) -> str:
    """The conditions every hit meets: post and thread not deleted, removed or hidden
    (hidden by a domain block sets removed_at), group live and not on a blocked domain;
    and the thread state asked for."""
    state = f" AND {STATE_CONDITIONS[filters.state]}" if filters.state else ""
    return f"""
      p.deleted_at IS NULL AND p.removed_at IS NULL
      AND t.deleted_at IS NULL AND t.removed_at IS NULL
      AND g.deleted_at IS NULL
      AND (g.local OR NOT EXISTS (
          SELECT 1 FROM domain_blocks b WHERE domain_covered(g.domain, b.domain))){state}"""


def _where(filters: Filters) -> str:
    conditions = [
        "d.post_id <= $2",
        "d.group_id = $3" if filters.group_id is not None else "$3::bigint IS NULL",
        "d.author_id = $4" if filters.author_id is not None else "$4::bigint IS NULL",
    ]
    if filters.threads_only:
        conditions.append("d.is_thread")
    return " AND ".join(conditions)


def _candidates(filters: Filters, scan: int | None) -> str:
    """The newest CANDIDATE_CAP matching documents up to id $2 (group $3, author $4), from
    search_docs alone (narrow rows, stripped vectors: matching one costs little).

    Two ways, chosen by the service from the term's frequency (fedi/forum/search.py): with
    ``scan``, read that many of the newest documents in key order, matching
    each: a common term's candidates are among them, found in a few ms however many
    matches there are (when they hold fewer than the cap, the window is what they hold:
    see _window_sql); without, collect the matches from the GIN index and keep the newest (a rare
    term: few; migration 0022's function, so that the planner's guess about a prefix
    cannot turn it into a sequential scan). A filter that is set
    is a plain condition, so that (group_id, post_id) and (author_id, post_id) serve the
    ordered reading."""
    where = _where(filters)
    if scan is None:  # migration 0022: the index, whatever the planner guesses
        return f"""
    SELECT post_id AS id FROM search_index_candidates(
        $1::tsquery, $2::bigint, $3::bigint, $4::bigint, {bool(filters.threads_only)},
        {CANDIDATE_CAP})"""
    return f"""
    SELECT r.post_id AS id FROM (
        SELECT d.post_id, d.search FROM search_docs d WHERE {where}
        ORDER BY d.post_id DESC LIMIT {int(scan)}
    ) AS r
    WHERE r.search @@ $1::tsquery
    ORDER BY r.post_id DESC LIMIT {CANDIDATE_CAP}"""


# The snippet: ts_headline over the post's text (its Markdown source, or its HTML with the
# tags cut out), the matches between MARK_START and MARK_END; the caller escapes the rest.
_HEADLINE = """ts_headline('german',
        translate(coalesce(p.source, regexp_replace(p.content_html, '<[^>]*>', ' ', 'g')),
                  chr(1) || chr(2), ''),
        $1::tsquery,
        'StartSel=' || chr(1) || ', StopSel=' || chr(2)
        || ', MaxFragments=2, MaxWords=24, MinWords=10, FragmentDelimiter=" … "')"""

# Boosts: a solved thread's posts x1.5, its accepted answer x3 on top (a title weighs
# 2.5 times a text in ts_rank_cd: the answer then ranks above its question).
_SCORE = """(ts_rank_cd(p.search, $1::tsquery)
        * CASE WHEN t.accepted_answer_id IS NOT NULL THEN 1.5 ELSE 1 END
        * CASE WHEN t.accepted_answer_id = p.id THEN 3 ELSE 1 END)::float8"""


def _bucket(scan: int) -> int:
    """``scan`` rounded up to a power of two. It is written into the statement: with a
    parameter the planner guesses a tenth of the table for the LIMIT, and over a million
    posts it then never settles on a generic plan (planning a window costs more than
    running it); a few buckets keep the prepared statements few."""
    return 1 << max(scan - 1, 1).bit_length()


def _window_sql(filters: Filters, scan: int | None) -> str:
    """One window, ranked: its size, its lower bound, and the hits of the page asked for.

    A window read in key order that found fewer than CANDIDATE_CAP matches in its ``scan``
    documents covers exactly those documents: its lower bound is the oldest of them
    (counted, only then, from the primary key alone), and older matches are the next
    window's. So the work of a window stays bounded when a term is rarer among the newest
    documents than the statistics say (a word common years ago), and paging still reaches
    every match; such windows rank fewer matches among themselves."""
    read = "NULL::bigint[]" if scan is None else f"""CASE WHEN count(*) < {CANDIDATE_CAP} THEN (
        SELECT ARRAY[count(*), min(x.post_id)] FROM (
            SELECT d.post_id FROM search_docs d WHERE {_where(filters)}
            ORDER BY d.post_id DESC LIMIT {int(scan)}) AS x) END"""
    return f"""
WITH cand AS MATERIALIZED ({_candidates(filters, scan)}
),
win AS (SELECT count(*)::int AS size, min(id) AS low, {read} AS read FROM cand),
scored AS (
    SELECT p.id, {_SCORE} AS score
    FROM cand
    JOIN posts p ON p.id = cand.id
    JOIN posts t ON t.id = coalesce(p.thread_id, p.id)
    JOIN actors g ON g.id = p.group_id
    WHERE {_visible(filters)}
),
shown AS (
    SELECT * FROM scored
    WHERE $5::float8 IS NULL OR (score, id) < ($5::float8, $6::bigint)
    ORDER BY score DESC, id DESC
    LIMIT $7
)
SELECT win.size AS window_size, win.low AS window_low, win.read AS window_read, hit.*
FROM win LEFT JOIN LATERAL (
    SELECT p.*, t.title AS thread_title, t.accepted_answer_id IS NOT NULL AS thread_solved,
           t.reply_count AS thread_replies, t.accepted_answer_id = p.id AS accepted,
           shown.score, {_HEADLINE} AS headline, p.source IS NULL AS from_html
    FROM shown JOIN posts p USING (id) JOIN posts t ON t.id = coalesce(p.thread_id, p.id)
) AS hit ON true
ORDER BY hit.score DESC, hit.id DESC
"""


def _hit(row: Any) -> Hit:
    return Hit(
        post=to_row(Post, row), thread_title=row["thread_title"],
        thread_solved=row["thread_solved"], thread_replies=row["thread_replies"],
        accepted=bool(row["accepted"]), score=row["score"], headline=row["headline"],
        from_html=row["from_html"],
    )


async def search_window(conn: Any, query: str, *, top: int, after: tuple[float, int] | None,
                        filters: Filters, limit: int, scan: int = RECENT_SCAN) -> Window:
    """Up to ``limit`` hits of the window of matches with ids up to ``top``, best first,
    after the (score, id) ``after`` when given. ``scan``: how many of the newest documents
    to read in key order (at most; 0: collect the matches from the GIN index)."""
    score, last_id = after if after is not None else (None, None)
    bucket = _bucket(scan) if scan > 0 else None
    rows = await conn.fetch(_window_sql(filters, bucket), query, top, filters.group_id,
                            filters.author_id, score, last_id, limit)
    first = rows[0]
    hits = [_hit(r) for r in rows if r["id"] is not None]
    size, low = first["window_size"], first["window_low"]
    if first["window_read"] is None:  # the index, or a full window
        return Window(hits, size, low, more=size == CANDIDATE_CAP)
    documents, oldest = first["window_read"]
    return Window(hits, size, oldest, more=documents == bucket)


def _similar_sql(scan: int | None) -> str:
    return f"""
WITH cand AS MATERIALIZED ({_candidates(Filters(threads_only=True), scan)}
)
SELECT p.*, p.title AS thread_title, p.accepted_answer_id IS NOT NULL AS thread_solved,
       p.reply_count AS thread_replies, false AS accepted, {_SCORE} AS score,
       {_HEADLINE} AS headline, p.source IS NULL AS from_html
FROM cand
JOIN posts p ON p.id = cand.id
JOIN posts t ON t.id = p.id
JOIN actors g ON g.id = p.group_id
WHERE p.parent_id IS NULL AND {_visible(Filters())}
ORDER BY (p.accepted_answer_id IS NOT NULL) DESC, score DESC, p.id DESC
LIMIT $5
"""


async def similar_threads(conn: Any, query: str, *, limit: int = SIMILAR_CAP,
                          scan: int = RECENT_SCAN) -> list[Hit]:
    """Threads matching ``query`` (usually an OR of a title's terms): solved ones first,
    then by relevance, among the newest CANDIDATE_CAP matches (``scan`` as for
    :func:`search_window`: among the newest ``scan`` threads at most)."""
    rows = await conn.fetch(_similar_sql(_bucket(scan) if scan > 0 else None), query, TOP,
                            None, None, limit)
    return [_hit(r) for r in rows]


async def rebuild(conn: Any) -> None:
    """Fill search_docs and the lexicon from posts (after a bulk load that bypassed the
    trigger, e.g. with ``session_replication_role = replica``)."""
    await conn.execute("SELECT search_rebuild()")
