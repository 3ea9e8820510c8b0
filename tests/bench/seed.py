"""The COPY seeder now lives in ``storage.seed`` (``fedi seed`` uses it); re-exported here
so the benchmarks keep importing it from their own package."""

from __future__ import annotations

from storage.seed import KEYWORDS, WORDS, Seeded, seed_posts

__all__ = ["KEYWORDS", "WORDS", "Seeded", "seed_posts"]
