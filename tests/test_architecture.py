"""The import-boundary rule from ARCHITECTURE.md: fedi -> activitypub, fedi -> storage only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "activitypub": {"storage", "fedi", "starlette", "asyncpg"},
    "storage": {"activitypub", "fedi", "starlette", "httpx"},
}


def imported_top_levels(source: str) -> set[str]:
    """Top-level package names a module imports (absolute imports only; relative stay inside)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(package_dir: Path, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        bad = imported_top_levels(path.read_text(encoding="utf-8")) & forbidden
        found.extend(f"{path.relative_to(package_dir.parent)} imports {name}" for name in bad)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_import_boundary(package: str) -> None:
    assert violations(ROOT / package, FORBIDDEN[package]) == []


@pytest.mark.parametrize(
    ("package", "line"),
    [
        ("activitypub", "import asyncpg"),
        ("activitypub", "from storage.db import create_pool"),
        ("activitypub", "from starlette.requests import Request"),
        ("activitypub", "import fedi.core.config"),
        ("storage", "import httpx"),
        ("storage", "from activitypub import vocab"),
        ("storage", "from fedi.core.config import Settings"),
    ],
)
def test_checker_catches_a_forbidden_import(tmp_path: Path, package: str, line: str) -> None:
    """The same check, run on a copy of the package with one bad module added, must fail."""
    copy = tmp_path / package
    copy.mkdir()
    for path in (ROOT / package).glob("*.py"):
        (copy / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "intruder.py").write_text(f"from __future__ import annotations\n{line}\n")
    found = violations(copy, FORBIDDEN[package])
    assert found and all("intruder.py" in v for v in found)


def test_relative_and_stdlib_imports_are_allowed() -> None:
    src = "from . import vocab\nimport json\nfrom .errors import InvalidObject\n"
    assert imported_top_levels(src) == {"json"}
