"""Turning asyncpg records into frozen row dataclasses."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def to_row(cls: type[T], record: Any) -> T:
    """Build ``cls`` from the record's columns of the same names."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: record[name] for name in names})


def maybe_row(cls: type[T], record: Any) -> T | None:
    return None if record is None else to_row(cls, record)
