"""Parsing JSON that comes from outside: strict, UTF-8, and bounded in nesting depth.

Python's json module recurses once per level: a body of a few thousand brackets raises
RecursionError, and a few hundred levels that do parse crash whatever walks the value
later (the inbound workers). Every JSON body from outside (inbox, JSON API, fetched
documents) is measured before parsing.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JsonHasNul", "JsonTooDeep", "check_json_depth", "parse_json"]

MAX_JSON_DEPTH = 64  # arrays and objects inside each other; real activities use under 10

# A string literal, escapes included; an unterminated one runs to the end of the text.
# Every match succeeds from its opening quote, so scanning stays linear on any input.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
# Opening brackets become 1 and closing ones -1 as signed bytes.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


# The escape \u0000 preceded by an even number of backslashes (an odd number before the
# "u" makes it an escape; "\\u0000" is a backslash followed by text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class JsonHasNul(ValueError):
    def __init__(self) -> None:
        super().__init__("the JSON contains a NUL character (\\u0000), which is not accepted")


class JsonTooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the JSON is nested deeper than {limit} levels")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonTooDeep when arrays and objects in ``raw`` nest deeper than ``limit``.

    Works on the bytes, without parsing and without recursion (brackets inside strings do
    not count), so it is safe on any input; invalid JSON is left to the parser. Exact for
    UTF-8, where no byte of a multi-byte character looks like a quote or a bracket.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return  # the common case: too few brackets to nest that deep
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw))
    steps = memoryview(brackets.translate(_BRACKET_STEPS)).cast("b")
    if max(accumulate(steps), default=0) > limit:
        raise JsonTooDeep(limit)


def parse_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH, allow_nul: bool = True) -> Any:
    """``raw`` parsed as strict JSON (no NaN or Infinity, at most ``max_depth`` levels).

    ``allow_nul=False`` refuses the escape ``\\u0000``: PostgreSQL's jsonb cannot store
    U+0000, so documents kept as they came (inbox, fetched objects) must not carry it.
    Raises ValueError (JsonTooDeep, JsonHasNul, JSONDecodeError, UnicodeDecodeError)
    saying what is wrong.
    """
    # RFC 8259: JSON between systems is UTF-8 (json.loads would also guess UTF-16/32,
    # where the byte scan of the depth check would not be exact); a BOM is tolerated.
    text = raw.decode("utf-8-sig")
    check_json_depth(raw, max_depth)
    if not allow_nul and b"\\u0000" in raw and _NUL_ESCAPE.search(raw):
        raise JsonHasNul()
    return json.loads(text, parse_constant=_reject_constant)
