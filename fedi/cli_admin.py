"""``fedi user``, ``fedi group`` and ``fedi token``: administration from the shell."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Added to the parser by :func:`fedi.cli.build_parser`."""
    del sub


def _unused(args: argparse.Namespace) -> None:  # pragma: no cover - filled in with accounts
    del args
