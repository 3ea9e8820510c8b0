"""Seed many posts quickly (COPY), for benchmarks and, later, ``fedi seed``.

Threads of ``thread_size`` posts (an opening post and its replies), German municipal text;
every ``keyword_every``-th post mentions "Glasfaser" (in a compound), so a search for it
matches a known share. The lexicon of migration 0015 is filled once at the end when the
trigger could be bypassed (superuser: ``session_replication_role = replica``), else the
trigger fills it row by row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

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


@dataclass(frozen=True)
class Seeded:
    first_id: int
    count: int
    keyword_posts: int


def _text(rng: random.Random, words: int, keyword: bool) -> str:
    out = [rng.choice(WORDS) if i % 2 == 0 else rng.choice(FILLER) for i in range(words)]
    if keyword:
        out.insert(rng.randrange(len(out)), rng.choice(KEYWORDS))
    return " ".join(out) + "."


async def seed_posts(conn: asyncpg.Connection, *, group_id: int, author_ids: list[int],
                     base_url: str, count: int = 100_000, thread_size: int = 10,
                     keyword_every: int = 10, seed: int = 15) -> Seeded:
    """Insert ``count`` local posts into one group, in threads of ``thread_size``."""
    rng = random.Random(seed)
    first = int(await conn.fetchval("SELECT nextval('posts_id_seq')"))
    await conn.execute("SELECT setval('posts_id_seq', $1)", first + count)
    start = datetime.now(UTC) - timedelta(minutes=count)
    records: list[tuple[Any, ...]] = []
    keyword_posts = 0
    root = first
    for n in range(count):
        post_id = first + n
        is_root = n % thread_size == 0
        if is_root:
            root = post_id
        keyword = n % keyword_every == keyword_every - 1
        keyword_posts += keyword
        body = _text(rng, 24, keyword)
        published = start + timedelta(minutes=n)
        replies = min(thread_size, count - n) - 1 if is_root else 0
        records.append((
            post_id, f"{base_url}/posts/{post_id}", True, group_id, rng.choice(author_ids),
            root, None if is_root else root, 0 if is_root else 1,
            f"{rng.choice(WORDS)} {rng.choice(WORDS)}" if is_root else None,
            f"<p>{body}</p>", body, "text/markdown", published, published, replies,
        ))
    bypass = bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    async with conn.transaction():
        if bypass:  # no per-row lexicon trigger; filled once below
            await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.copy_records_to_table("posts", records=records, columns=[
            "id", "ap_id", "local", "group_id", "author_id", "thread_id", "parent_id", "depth",
            "title", "content_html", "source", "source_media_type", "published",
            "last_activity_at", "reply_count"])
    if bypass:
        await search_store.rebuild(conn)
    # Fresh statistics: without them the planner misjudges the search tables.
    await conn.execute("ANALYZE posts, search_docs, search_words, search_suffixes")
    return Seeded(first, count, keyword_posts)
