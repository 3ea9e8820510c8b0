"""Every file of the corpus of real fediverse payloads, through the vocabulary parser.

Expected values are read from each file's raw JSON here, independently of the parser, so a
parser that misreads a shape fails. Files that are not ActivityStreams (WebFinger JRDs, the
README) are checked for what they are instead of being skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from activitypub.errors import InvalidObject
from activitypub.summary import SUMMARY_KEYS, summarize
from activitypub.vocab import (
    Activity,
    ActivityStreamsDocument,
    Actor,
    APObject,
    Collection,
    parse,
)
from tests.support.corpus import CORPUS

ACTOR_TYPES = {"Person", "Group", "Service", "Application", "Organization"}
COLLECTION_TYPES = {"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"}
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []


def _name(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def _split_http(text: str) -> tuple[str, dict[str, str], str]:
    """Status line, headers and body of a raw HTTP capture (CRLF or LF, see the README)."""
    head, body = re.split(r"\r?\n\r?\n", text, maxsplit=1)
    status, *header_lines = head.splitlines()
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return status, headers, body


def _raw_id(value: Any) -> Any:
    """The test's own reading of an id-or-embedded value."""
    return value.get("id") if isinstance(value, dict) else value


def _first_type(raw: dict[str, Any]) -> str:
    kinds = raw["type"] if isinstance(raw["type"], list) else [raw["type"]]
    # Extension types are prefixed (``vcard:individual``); the AS type is the unprefixed one.
    return str(next(k for k in kinds if ":" not in k))


def test_corpus_is_present() -> None:
    assert CORPUS.is_dir(), f"the corpus is expected at {CORPUS}"
    suffixes = {p.suffix for p in FILES}
    assert {".json", ".txt", ".md"} <= suffixes
    assert len([p for p in FILES if p.suffix == ".json"]) >= 80


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_corpus_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        _check_readme(text)
    elif path.suffix == ".txt":
        _check_http_capture(text)
    else:
        assert path.suffix == ".json", f"unexpected kind of corpus file: {path.name}"
        _check_document(json.loads(text))


def _check_readme(text: str) -> None:
    """The README documents every payload; its type table must agree with the parser."""
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    for path in FILES:
        if path.suffix in (".json", ".txt"):
            shown = _name(path) if path.suffix == ".json" else path.name
            assert f"`{shown}`" in text, f"README does not describe {shown}"
    rows = re.findall(r"^\| `([^`]+\.json)` \| (\w+) \| ([^|]*)\|", text, flags=re.M)
    assert len(rows) == len([p for p in FILES if p.suffix == ".json"])
    for name, top_type, object_column in rows:
        doc = parse(json.loads((CORPUS / name).read_text(encoding="utf-8")))
        assert doc.type == top_type, name
        _check_object_column(doc, object_column.strip(), name)


def _check_object_column(doc: ActivityStreamsDocument, column: str, name: str) -> None:
    if not isinstance(doc, Activity) or not column:
        return
    first = column.split("→")[0].strip()
    if first == "(URI)":
        assert isinstance(doc.object, str), name
    elif first.startswith("["):
        assert len(doc.objects) == first.count("(URI)"), name
    else:
        assert doc.object_type == first, name


def _check_http_capture(text: str) -> None:
    status, headers, body = _split_http(text)
    assert status.startswith("HTTP/1.1 200")
    data = json.loads(body)
    if "type" in data:
        assert "json" in headers["content-type"]
        _check_document(data)
        return
    # A WebFinger JRD: not ActivityStreams, and the parser must say so.
    assert "jrd+json" in headers["content-type"]
    assert data["subject"].startswith("acct:")
    assert isinstance(data["links"], list)
    with pytest.raises(InvalidObject, match="type is missing"):
        parse(data)


def _check_document(raw: dict[str, Any]) -> None:
    if _first_type(raw) in ACTOR_TYPES and not isinstance(raw.get("inbox"), str):
        # Mastodon's noinbox fixture: an actor nobody can deliver to is rejected.
        with pytest.raises(InvalidObject, match="inbox"):
            parse(raw)
        return
    doc = parse(raw)
    assert doc.type == _first_type(raw)
    assert doc.id == raw["id"]
    assert doc.to_json() == raw
    _check_kind(doc, raw)
    summary = summarize(raw)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["type"] == doc.type
    assert summary["id"] == raw["id"]


def _check_kind(doc: ActivityStreamsDocument, raw: dict[str, Any]) -> None:
    kind = _first_type(raw)
    if "actor" in raw and kind not in ("Event", "Note"):
        # Mobilizon's Event and Pleroma's Note carry an ``actor`` too; they stay objects.
        assert isinstance(doc, Activity)
        _check_activity(doc, raw)
    elif kind in ACTOR_TYPES:
        assert isinstance(doc, Actor)
        assert doc.inbox == raw["inbox"]
        assert doc.preferred_username == raw.get("preferredUsername")
    elif kind in COLLECTION_TYPES:
        assert isinstance(doc, Collection)
        raw_items = raw.get("orderedItems", raw.get("items", []))
        assert doc.item_ids == tuple(_raw_id(item) for item in raw_items)
        assert doc.total_items == raw.get("totalItems")
    else:
        assert isinstance(doc, APObject)
        author = raw.get("attributedTo")
        expected = [_raw_id(a) for a in (author if isinstance(author, list) else [author])]
        assert list(doc.attributed_to) == [a for a in expected if a is not None]


def _check_activity(doc: Activity, raw: dict[str, Any]) -> None:
    assert doc.actor == _raw_id(raw["actor"])
    raw_object = raw.get("object")
    if isinstance(raw_object, list):
        assert [doc_id for doc_id in map(_raw_id, raw_object)] == [
            o if isinstance(o, str) else o.id for o in doc.objects
        ]
    elif isinstance(raw_object, dict):
        assert doc.object_id == raw_object["id"]
        assert doc.object_type == _first_type(raw_object)
        assert isinstance(doc.object, ActivityStreamsDocument)
        assert doc.object.to_json() == raw_object
        inner_object = raw_object.get("object")
        if isinstance(inner_object, dict):  # Announce(Create(Page)) and Announce(Update(...))
            assert isinstance(doc.object, Activity)
            assert doc.object.object_id == inner_object["id"]
            assert doc.object.object_type == _first_type(inner_object)
    else:
        assert doc.object == raw_object
        assert doc.object_type is None
