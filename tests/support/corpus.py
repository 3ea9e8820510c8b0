"""Where the real payloads of other fediverse software live in this repository.

``tests/fixtures/corpus/`` is a copy of the project's shared corpus (its README keeps the
provenance and licence notes), so a fresh clone passes ``make test`` on its own.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
