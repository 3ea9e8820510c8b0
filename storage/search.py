"""Full-text search over posts: the statements (``posts.search``, migration 0015's lexicon).

The query (a ``tsquery`` text) is built by fedi/forum/search.py from :func:`lexemes` and
:func:`expansions`. A search reads *windows*: the newest ``CANDIDATE_CAP`` visible posts
that match (with ids up to ``top``), ranked among themselves. The cap bounds the work of a
common term; a rare term's matches all fit in the first window, so their ranking is exact.
The next window starts below the lowest id of a full one, so paging reaches every match.
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
RECENT_SCAN = 10_000  # newest documents read in key order before asking the GIN index
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
    size: int  # candidates in the window (CANDIDATE_CAP: there may be older matches)
    low: int | None  # the lowest candidate id


_LEXEMES = """
SELECT t.ord::int AS ord, s.lexeme
FROM unnest($1::text[]) WITH ORDINALITY AS t(token, ord)
CROSS JOIN LATERAL unnest(to_tsvector('german', t.token)) AS s
ORDER BY t.ord, s.lexeme
"""


async def lexemes(conn: Any, tokens: list[str]) -> list[list[str]]:
    """The German lexemes (stemmed, umlauts folded) of each token; [] for a stopword."""
    found: list[list[str]] = [[] for _ in tokens]
    for row in await conn.fetch(_LEXEMES, tokens):
        found[row["ord"] - 1].append(row["lexeme"])
    return found


# The known lexemes containing a pattern after their first character (closest first).
_EXPANSIONS = f"""
SELECT p.ord::int AS ord, w.word
FROM unnest($1::text[]) WITH ORDINALITY AS p(pattern, ord)
CROSS JOIN LATERAL (
    SELECT s.word FROM search_suffixes s
    WHERE s.suffix >= p.pattern AND s.suffix < p.pattern || chr(1114111)
    GROUP BY s.word
    ORDER BY length(s.word), s.word
    LIMIT {EXPANSION_CAP}
) AS w
"""


async def expansions(conn: Any, patterns: list[str]) -> list[list[str]]:
    """For each pattern, up to EXPANSION_CAP lexemes that contain it inside."""
    found: list[list[str]] = [[] for _ in patterns]
    for row in await conn.fetch(_EXPANSIONS, patterns):
        found[row["ord"] - 1].append(row["word"])
    return found


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


def _candidates(filters: Filters) -> str:
    """The newest CANDIDATE_CAP matching documents up to id $2 (group $3, author $4), from
    search_docs alone (narrow rows, stripped vectors: matching one costs little).

    A common term's candidates are all among the newest RECENT_SCAN documents, read in key
    order (a few ms, however many matches there are); when those hold fewer than the cap,
    the GIN index collects every match (a rarer term: few), "+ 0" keeping the planner
    from walking the whole key backwards on a misjudged prefix. Both give the same set."""
    threads = " AND d.is_thread" if filters.threads_only else ""
    where = f"""d.post_id <= $2
      AND ($3::bigint IS NULL OR d.group_id = $3)
      AND ($4::bigint IS NULL OR d.author_id = $4){threads}"""
    return f"""
    WITH recent AS MATERIALIZED (
        SELECT r.post_id FROM (
            SELECT d.post_id, d.search FROM search_docs d WHERE {where}
            ORDER BY d.post_id DESC LIMIT {RECENT_SCAN}
        ) AS r
        WHERE r.search @@ $1::tsquery
        ORDER BY r.post_id DESC LIMIT {CANDIDATE_CAP}
    )
    SELECT post_id AS id FROM recent
    WHERE (SELECT count(*) FROM recent) = {CANDIDATE_CAP}
    UNION ALL
    (SELECT d.post_id AS id
     FROM search_docs d
     WHERE (SELECT count(*) FROM recent) < {CANDIDATE_CAP}
       AND d.search @@ $1::tsquery AND {where}
     ORDER BY d.post_id + 0 DESC
     LIMIT {CANDIDATE_CAP})"""


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


def _window_sql(filters: Filters) -> str:
    return f"""
WITH cand AS MATERIALIZED ({_candidates(filters)}
),
win AS (SELECT count(*)::int AS size, min(id) AS low FROM cand),
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
SELECT win.size AS window_size, win.low AS window_low, hit.*
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
                        filters: Filters, limit: int) -> Window:
    """Up to ``limit`` hits of the window of matches with ids up to ``top``, best first,
    after the (score, id) ``after`` when given."""
    score, last_id = after if after is not None else (None, None)
    rows = await conn.fetch(_window_sql(filters), query, top, filters.group_id,
                            filters.author_id, score, last_id, limit)
    first = rows[0]
    hits = [_hit(r) for r in rows if r["id"] is not None]
    return Window(hits=hits, size=first["window_size"], low=first["window_low"])


def _similar_sql() -> str:
    return f"""
WITH cand AS MATERIALIZED ({_candidates(Filters(threads_only=True))}
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


async def similar_threads(conn: Any, query: str, *, group_id: int | None = None,
                          limit: int = SIMILAR_CAP) -> list[Hit]:
    """Threads matching ``query`` (usually an OR of a title's terms): solved ones first,
    then by relevance, among the newest CANDIDATE_CAP matches."""
    rows = await conn.fetch(_similar_sql(), query, TOP, group_id, None, limit)
    return [_hit(r) for r in rows]


async def rebuild(conn: Any) -> None:
    """Fill search_docs and the lexicon from posts (after a bulk load that bypassed the
    trigger, e.g. with ``session_replication_role = replica``)."""
    await conn.execute("SELECT search_rebuild()")
