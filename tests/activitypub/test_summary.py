"""Tests of ``summarize()`` and its HTML-to-text conversion."""

from __future__ import annotations

import json
from typing import Any

import pytest

from activitypub.errors import InvalidObject
from activitypub.summary import SUMMARY_KEYS, html_to_text, summarize
from activitypub.vocab import PUBLIC
from tests.support.corpus import CORPUS

ALICE = "https://m.example/users/alice"
GROUP = "https://groups.example/g/cats"


def corpus(name: str) -> Any:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<p>Tom &amp; Jerry&#39;s &lt;3 &nbsp;x</p>", "Tom & Jerry's <3 \xa0x"),
        ('<span class="h-card"><a href="https://g/c">@<span>cats</span></a></span> hi', "@cats hi"),
        ("<p>line\n   wrapped</p>", "line wrapped"),
        ("<script>alert(1)</script>safe", "safe"),
        ("plain text", "plain text"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_create_note_takes_fields_from_the_object() -> None:
    raw = corpus("mastodon/activities/create_note.json")
    summary = summarize(raw)
    assert tuple(summary) == SUMMARY_KEYS
    note = raw["object"]
    assert summary["type"] == "Create"
    assert summary["actor"] == raw["actor"]
    assert (summary["object_type"], summary["object_id"]) == ("Note", note["id"])
    assert summary["attributed_to"] == [note["attributedTo"]]
    assert summary["in_reply_to"] == note["inReplyTo"]
    assert summary["context"] == note["conversation"]
    assert summary["mentions"] == [t["href"] for t in note["tag"] if t["type"] == "Mention"]
    assert summary["content_text"].startswith("@retiolus i have never been disappointed")
    assert "<" not in summary["content_text"]
    assert summary["to"] == raw["to"]
    assert summary["cc"] == raw["cc"]


def test_announce_of_create_page_reads_the_innermost_post() -> None:
    raw = corpus("lemmy/activities/community/announce_create_page.json")
    summary = summarize(raw)
    page = raw["object"]["object"]
    assert summary["object_type"] == "Create"
    assert summary["object_id"] == raw["object"]["id"]
    assert summary["name"] == page["name"]
    assert summary["attributed_to"] == [page["attributedTo"]]
    assert summary["audience"] == [page["audience"]]


def test_activity_values_win_over_the_object() -> None:
    raw = {
        "id": ALICE + "#a",
        "type": "Create",
        "actor": ALICE,
        "audience": GROUP,
        "to": "as:Public",
        "object": {
            "id": ALICE + "/1",
            "type": "Note",
            "attributedTo": ALICE,
            "audience": "https://other.example/g",
            "content": "<p>x</p>",
            "tag": [{"type": "Hashtag", "name": "#tag"}],
        },
    }
    summary = summarize(raw)
    assert summary["audience"] == [GROUP]
    assert summary["to"] == [PUBLIC]
    assert summary["hashtags"] == ["#tag"]
    assert summary["content_text"] == "x"
    assert summary["cc"] is None


def test_reference_only_activity() -> None:
    summary = summarize(corpus("lemmy/activities/following/follow.json"))
    assert summary["object_type"] is None
    assert summary["object_id"] == "http://enterprise.lemmy.ml/c/main"
    assert summary["content_text"] is None
    assert summary["mentions"] is None


def test_markdown_content_is_not_html_stripped() -> None:
    raw = {
        "id": ALICE + "/1",
        "type": "Note",
        "attributedTo": ALICE,
        "mediaType": "text/markdown",
        "content": "a <b> c",
    }
    assert summarize(raw)["content_text"] == "a <b> c"


def test_actor_summary_has_its_name_and_bio_but_no_activity_fields() -> None:
    raw = corpus("lemmy/objects/group.json")
    summary = summarize(raw)
    assert summary["type"] == "Group"
    assert summary["name"] == raw["name"]
    assert summary["content_text"] and summary["content_text"] in html_to_text(raw["summary"])
    shown = ("type", "id", "name", "content_text")
    assert all(summary[k] is None for k in SUMMARY_KEYS if k not in shown)


@pytest.mark.parametrize("bad", [None, [], {"id": ALICE}, {"type": "Note", "id": "x"}])
def test_malformed_input_raises(bad: object) -> None:
    with pytest.raises(InvalidObject):
        summarize(bad)
