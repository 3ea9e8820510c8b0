"""The JSON depth limit shared by the JSON API and the inboxes (fedi.routes.api_common)."""

from __future__ import annotations

import json

import pytest

from activitypub.jsontext import (
    MAX_JSON_DEPTH,
    JsonHasNul,
    JsonTooDeep,
    check_json_depth,
    parse_json,
)


def arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("build", [arrays, objects])
def test_the_limit_is_inclusive(build: object) -> None:
    assert callable(build)
    assert parse_json(build(MAX_JSON_DEPTH)) is not None
    with pytest.raises(JsonTooDeep, match="nested deeper than 64 levels"):
        parse_json(build(MAX_JSON_DEPTH + 1))


def test_far_deeper_than_the_recursion_limit_is_refused_without_recursing() -> None:
    with pytest.raises(JsonTooDeep):
        parse_json(arrays(200_000))
    with pytest.raises(JsonTooDeep):
        parse_json(b"[" * 500_000)  # never closed: still too deep, not a RecursionError


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"content": "[" * 500 + "{" * 500, "quote": 'say "[[[" \\ ok'})
    assert parse_json(text.encode())["content"].startswith("[[[")
    # An escaped quote does not end the string; the brackets after it are still text.
    check_json_depth(b'["\\"' + b"[" * 100 + b'"]')
    # A string that ends in an escaped backslash does end: the brackets after it count.
    with pytest.raises(JsonTooDeep):
        check_json_depth(b'["\\\\",' + arrays(MAX_JSON_DEPTH) + b"]")


def test_mixed_nesting_counts_the_deepest_point() -> None:
    wide = json.dumps([[[1]] * 1000, {"a": [[[[2]]]]}]).encode()
    assert len(parse_json(wide)[0]) == 1000
    deep = json.dumps([1, {"x": json.loads(arrays(MAX_JSON_DEPTH - 1))}]).encode()
    with pytest.raises(JsonTooDeep):
        parse_json(deep)


def test_broken_json_is_a_value_error_not_a_crash() -> None:
    for raw in (b'"' + b"\\" * 1001, b'"\\', b"[" * 10 + b'"' + b"]" * 10, b"\xff\xfe[]",
                b"NaN", b"[Infinity]"):
        with pytest.raises(ValueError):
            parse_json(raw)


def test_utf8_with_or_without_a_bom_is_json_other_encodings_are_not() -> None:
    assert parse_json('{"a": "ä"}'.encode()) == {"a": "ä"}
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError):
        parse_json('{"a": 1}'.encode("utf-16"))


@pytest.mark.parametrize("text", ["a\u0000b", "\\\u0000", "\u0000"])
def test_a_nul_is_refused_when_asked(text: str) -> None:
    raw = json.dumps({"content": text}).encode()
    assert parse_json(raw) == {"content": text}  # the JSON API checks its fields itself
    with pytest.raises(JsonHasNul, match="NUL character"):
        parse_json(raw, allow_nul=False)


@pytest.mark.parametrize("text", ["\\u0000", "\\\\u0000", "u0000", "\\u00000"])
def test_backslashes_and_u0000_as_text_are_not_a_nul(text: str) -> None:
    raw = json.dumps({"content": text}).encode()
    assert parse_json(raw, allow_nul=False) == {"content": text}
