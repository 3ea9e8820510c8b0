"""Seed many posts quickly, for ``fedi seed``, the benchmarks and the scale tests.

Threads of ``thread_size`` posts (an opening post and its replies), German municipal text;
every ``keyword_every``-th post mentions "Glasfaser" (in a compound), so a search for it
matches a known share, and carries the hashtag ``glasfaser`` (the tag page). Posts go in
with ``COPY``; their activities (the author's ``Create`` and the group's embedded
``Announce`` of it, as ``fedi.forum.posts`` writes them when the group has followers) are
built by PostgreSQL from the posts in one ``INSERT ... SELECT`` per chunk, so a million
posts take minutes, not hours.

Work goes in chunks of ``chunk`` posts (whole threads), one transaction each: an
interrupted run leaves whole threads with their activities. When the role may bypass
triggers (a superuser: ``session_replication_role = replica``) the per-row search
trigger is skipped and the lexicon of migration 0015 is rebuilt once at the end; the
counters of migration 0017 are ``ENABLE ALWAYS`` statement triggers and stay right
either way. Seeded posts make no notifications and no deliveries (nobody is told of a
seed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import search as search_store

WORDS = (
    "Gemeinde Verwaltung Haushalt Bürgerportal Antrag Förderung Kommune Straße Schule "
    "Kindergarten Bauamt Sitzung Gemeinderat Bebauungsplan Radweg Feuerwehr Wasserleitung "
    "Abwasser Kläranlage Friedhof Bürgerbüro Digitalisierung Ausschreibung Vergabe Landkreis "
    "Zuschuss Fördermittel Breitband Mobilfunk Parkplatz Sporthalle Bibliothek Jugendzentrum "
    "Personal Satzung Gebühren Winterdienst Grünflächen Spielplatz Denkmalschutz Klimaschutz "
    "Photovoltaik Wärmeplanung Nahverkehr Haltestelle Bauhof Ortsrat Wahl Umfrage"
).split()
KEYWORDS = ("Glasfaserausbau", "Glasfasernetz", "Glasfaserkabel", "Glasfaser")
FILLER = "und der die das mit für von bei zum im auf wie wir ihr".split()
TAGS = ["glasfaser"]  # the keyword posts' hashtag (column only), for the tag page
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# The JSON-LD context of stored activities; ``fedi seed`` passes the app's full one
# (fedi.federation.documents.CONTEXT), which storage may not import.
DEFAULT_CONTEXT: list[Any] = ["https://www.w3.org/ns/activitystreams"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Seeded:
    first_id: int
    count: int
    keyword_posts: int
    threads: int = 0
    activities: int = 0


def _text(rng: random.Random, words: int, keyword: bool) -> str:
    out = [rng.choice(WORDS) if i % 2 == 0 else rng.choice(FILLER) for i in range(words)]
    if keyword:
        out.insert(rng.randrange(len(out)), rng.choice(KEYWORDS))
    return " ".join(out) + "."


_POST_COLUMNS = [
    "id", "ap_id", "local", "group_id", "author_id", "thread_id", "parent_id", "depth",
    "title", "content_html", "source", "source_media_type", "language", "url", "context_url",
    "kind", "hashtags", "published", "last_activity_at", "reply_count",
]

# The author's Create of each post (the Note as fedi.federation.documents.note_document
# writes it for a post in a local group) and the group's Announce with the Create
# embedded, Announce first as fedi.forum.posts._publish stores them. Their ids are
# reserved up front (two per post, $7 on), so no sort is needed to number them in order.
_ACTIVITIES = """
WITH src AS (
    SELECT p.id, p.ap_id, p.published, p.parent_id, p.title, p.content_html, p.source,
           p.language, p.kind, p.reply_count, p.context_url, p.url,
           au.id AS author_id, au.ap_id AS author_ap, g.id AS group_actor, g.ap_id AS group_ap,
           g.followers_url, '@' || g.username || '@' || g.domain AS group_handle,
           to_char(p.published AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS iso,
           $3 || '/posts/' || p.parent_id AS parent_ap,
           $3 || '/activities/' || replace(gen_random_uuid()::text, '-', '') AS create_id,
           $3 || '/activities/' || replace(gen_random_uuid()::text, '-', '') AS announce_id
    FROM posts p
    JOIN actors au ON au.id = p.author_id
    JOIN actors g ON g.id = p.group_id
    WHERE p.id BETWEEN $1 AND $2
), notes AS MATERIALIZED (
    SELECT s.*, jsonb_strip_nulls(jsonb_build_object(
        'id', s.ap_id, 'type', 'Note', 'attributedTo', s.author_ap,
        'content', s.content_body, 'mediaType', 'text/html',
        'to', jsonb_build_array($4::text), 'cc', jsonb_build_array(s.group_ap, s.followers_url),
        'published', s.iso, 'url', s.url, 'context', s.context_url,
        'conversation', s.context_url,
        'tag', jsonb_build_array(jsonb_build_object(
            'type', 'Mention', 'href', s.group_ap, 'name', s.group_handle)),
        'sensitive', false,
        'source', jsonb_build_object('content', s.source, 'mediaType', 'text/markdown'),
        'contentMap', CASE WHEN s.language IS NOT NULL
                           THEN jsonb_build_object(s.language, s.content_body) END,
        'name', s.title, 'inReplyTo', s.parent_ap, 'audience', s.group_ap,
        'answerCount', CASE WHEN s.parent_id IS NULL AND s.kind = 'question'
                            THEN s.reply_count END,
        'stickied', CASE WHEN s.parent_id IS NULL THEN false END,
        'locked', CASE WHEN s.parent_id IS NULL THEN false END
    )) AS note
    FROM (SELECT src.*, CASE WHEN src.parent_id IS NULL AND src.title IS NOT NULL
                             THEN '<p><strong>' || src.title || '</strong></p>' || src.content_html
                             ELSE src.content_html END AS content_body
          FROM src) s
), creates AS MATERIALIZED (
    SELECT n.*, jsonb_build_object(
        'id', n.create_id, 'type', 'Create', 'actor', n.author_ap, 'object', n.note,
        'to', n.note -> 'to', 'cc', n.note -> 'cc', 'audience', n.group_ap,
        'published', n.iso) AS create_doc
    FROM notes n
)
INSERT INTO activities (id, ap_id, actor_id, type, object_ap_id, post_id, payload, public,
                        created_at)
SELECT $7 + 2 * c.id + v.n, v.ap_id, v.actor_id, v.type, v.object_ap_id, c.id,
       v.payload, true, c.published
FROM creates c
CROSS JOIN LATERAL (VALUES
    (0, c.announce_id, c.group_actor, 'Announce', c.create_id,
     jsonb_build_object('@context', $5::jsonb, 'id', c.announce_id, 'type', 'Announce',
                        'actor', c.group_ap, 'object', c.create_doc,
                        'to', jsonb_build_array($4::text),
                        'cc', jsonb_build_array(c.followers_url), 'audience', c.group_ap)),
    (1, c.create_id, c.author_id, 'Create', c.ap_id,
     jsonb_build_object('@context', $5::jsonb) || c.create_doc)
) AS v(n, ap_id, actor_id, type, object_ap_id, payload)
WHERE $6 OR v.type = 'Create'
"""


async def seed_posts(conn: Any, *, group_id: int, author_ids: Sequence[int],
                     base_url: str, count: int = 100_000, thread_size: int = 10,
                     keyword_every: int = 10, seed: int = 15, activities: bool = True,
                     announces: bool = True, context: list[Any] | None = None,
                     chunk: int = 20_000, progress: Progress | None = None) -> Seeded:
    """Insert ``count`` local posts into the local group ``group_id``, in threads of
    ``thread_size``, by ``author_ids`` (local Person actors), newest last (one a minute,
    ending now). With ``activities`` each post gets its author's Create and (with
    ``announces``) the group's Announce of it. ``progress(done, count)`` is called after
    each chunk."""
    if count < 0 or thread_size < 1 or keyword_every < 1 or not author_ids:
        raise ValueError("count >= 0, thread_size >= 1, keyword_every >= 1 and authors needed")
    rng = random.Random(seed)
    group = await conn.fetchrow("SELECT language, default_kind FROM groups WHERE actor_id = $1",
                                group_id)
    if group is None:
        raise ValueError(f"no group with actor id {group_id}")
    language, kind = group["language"], group["default_kind"]
    first = int(await conn.fetchval("SELECT nextval('posts_id_seq')"))
    if count > 1:
        await conn.execute("SELECT setval('posts_id_seq', $1)", first + count - 1)
    first_activity = int(await conn.fetchval("SELECT nextval('activities_id_seq')"))
    if activities and count:
        await conn.execute("SELECT setval('activities_id_seq', $1)",
                           first_activity + 2 * count - 1)
    start = datetime.now(UTC) - timedelta(minutes=count)
    bypass = bool(await conn.fetchval(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    context_json = context if context is not None else DEFAULT_CONTEXT
    step = max(thread_size, chunk - chunk % thread_size)
    keyword_posts = threads = made = 0
    for low in range(0, count, step):
        high = min(count, low + step)
        records: list[tuple[Any, ...]] = []
        root = first + low
        for n in range(low, high):
            post_id = first + n
            is_root = n % thread_size == 0
            if is_root:
                root = post_id
                threads += 1
            keyword = n % keyword_every == keyword_every - 1
            keyword_posts += keyword
            body = _text(rng, 24, keyword)
            published = start + timedelta(minutes=n)
            replies = min(thread_size, count - n) - 1 if is_root else 0
            ap_id = f"{base_url}/posts/{post_id}"
            records.append((
                post_id, ap_id, True, group_id, rng.choice(author_ids),
                root, None if is_root else root, 0 if is_root else 1,
                f"{rng.choice(WORDS)} {rng.choice(WORDS)}" if is_root else None,
                f"<p>{body}</p>", body, "text/markdown", language, ap_id,
                f"{base_url}/posts/{root}/context", kind if is_root else "discussion",
                TAGS if keyword else [], published, published + timedelta(minutes=replies),
                replies,
            ))
        async with conn.transaction():
            if bypass:  # no per-row lexicon trigger; filled once below
                await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.copy_records_to_table("posts", records=records, columns=_POST_COLUMNS)
            if activities:
                status = await conn.execute(_ACTIVITIES, first + low, first + high - 1,
                                            base_url, PUBLIC, context_json, announces,
                                            first_activity - 2 * first)
                made += int(status.rsplit(" ", 1)[-1])
        if progress is not None:
            progress(high, count)
    if bypass and count:
        await search_store.rebuild(conn)
    # Fresh statistics: without them the planner misjudges the new rows.
    await conn.execute("ANALYZE posts, activities, search_docs, search_words, search_suffixes")
    return Seeded(first, count, keyword_posts, threads, made)
