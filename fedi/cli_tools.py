"""``fedi inspect`` and ``fedi lookup``: tools for people debugging federation."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Added to the parser by :func:`fedi.cli.build_parser`."""
    del sub
