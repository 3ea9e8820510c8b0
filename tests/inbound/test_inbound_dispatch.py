"""The inbound dispatch table: the inbox's list of known types is the table's, and each
activity type has its handler in the module named after it (issue 12)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

from fedi.inbound.dispatch import HANDLERS
from fedi.inbound.types import KNOWN_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_known_types_are_the_dispatch_table_s_keys() -> None:
    assert set(HANDLERS) == KNOWN_TYPES


def test_each_type_is_handled_in_the_module_named_after_it() -> None:
    for kind, handler in HANDLERS.items():
        # ChooseAnswer -> choose_answer
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
        module = importlib.import_module(f"fedi.inbound.{name}")
        assert handler.__module__ == module.__name__, kind
        assert handler.__name__ == f"handle_{name}", kind


def test_the_inbox_route_does_not_load_the_handlers() -> None:
    # A fresh interpreter: importing the route must not import the dispatch table.
    code = ("import sys, fedi.routes.inbox; "
            "print('fedi.inbound.dispatch' in sys.modules, 'fedi.inbound.create' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "False"]
