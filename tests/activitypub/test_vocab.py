"""Unit tests of the vocabulary: each tolerance for real-world shapes, each rejection."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from activitypub.errors import InvalidObject
from activitypub.vocab import (
    PUBLIC,
    Activity,
    APObject,
    Collection,
    Create,
    Flag,
    Follow,
    Group,
    Hashtag,
    Link,
    Mention,
    Note,
    OrderedCollection,
    Question,
    Tombstone,
    UnknownObject,
    as_list,
    is_public,
    object_id,
    parse,
)

ALICE = "https://m.example/users/alice"
GROUP = "https://groups.example/g/cats"
NOTE_ID = "https://m.example/users/alice/statuses/1"


def note(**fields: Any) -> dict[str, Any]:
    return {"id": NOTE_ID, "type": "Note", "attributedTo": ALICE, **fields}


def create(obj: Any, **fields: Any) -> dict[str, Any]:
    return {"id": NOTE_ID + "/activity", "type": "Create", "actor": ALICE, "object": obj, **fields}


def actor(**fields: Any) -> dict[str, Any]:
    return {"id": GROUP, "type": "Group", "inbox": GROUP + "/inbox", **fields}


# --------------------------------------------------------------------------- helpers


def test_as_list() -> None:
    assert as_list(None) == []
    assert as_list("a") == ["a"]
    assert as_list(["a", "b"]) == ["a", "b"]
    assert as_list(("a",)) == ["a"]
    assert as_list({"id": "x"}) == [{"id": "x"}]


def test_object_id() -> None:
    assert object_id("https://a.example/1") == "https://a.example/1"
    assert object_id({"id": "https://a.example/1", "type": "Note"}) == "https://a.example/1"
    assert (
        object_id([{"id": "https://a.example/1"}, "https://a.example/2"]) == "https://a.example/1"
    )
    assert object_id(parse(note())) == NOTE_ID
    assert object_id(None) is None
    assert object_id({"type": "Note"}) is None


@pytest.mark.parametrize("spelling", [PUBLIC, "as:Public", "Public"])
def test_public_spellings_are_normalised(spelling: str) -> None:
    doc = parse(note(to=spelling, cc=[ALICE + "/followers", spelling]))
    assert isinstance(doc, Note)
    assert doc.to == (PUBLIC,)
    assert doc.cc == (ALICE + "/followers", PUBLIC)
    assert is_public(doc.to)
    assert is_public(spelling)


def test_is_public_false() -> None:
    assert not is_public([ALICE + "/followers"])
    assert not is_public(None)
    assert not is_public("https://www.w3.org/ns/activitystreams")


# --------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        (note(), Note),
        (create(note()), Create),
        (actor(), Group),
        ({"id": GROUP + "/followers", "type": "OrderedCollection"}, OrderedCollection),
        ({"id": NOTE_ID, "type": "Tombstone"}, Tombstone),
        ({"id": NOTE_ID, "type": "Question", "oneOf": [{"name": "a"}]}, Question),
        ({"type": "Link", "href": "https://a.example/"}, Link),
    ],
)
def test_parse_dispatches_on_type(data: dict[str, Any], cls: type) -> None:
    assert type(parse(data)) is cls
    assert type(cls.from_json(data)) is cls


def test_from_json_checks_the_kind() -> None:
    with pytest.raises(InvalidObject, match="expected a Follow, got a Note"):
        Follow.from_json(note())
    assert isinstance(Activity.from_json(create(note())), Create)


def test_type_as_a_list_picks_the_first_known_type() -> None:
    doc = parse(actor(type=["vcard:individual", "Group"]))
    assert isinstance(doc, Group)
    assert doc.type == "Group"
    assert doc.types == ("vcard:individual", "Group")


def test_prefixed_type_is_understood() -> None:
    assert isinstance(parse(note(type="as:Note")), Note)


def test_unknown_types_are_not_errors() -> None:
    unknown = parse({"id": "https://a.example/x", "type": "Infohash"})
    assert isinstance(unknown, UnknownObject)
    assert (unknown.id, unknown.type) == ("https://a.example/x", "Infohash")
    # Lemmy's Resolve/Warn are activities of types we do not model: still read as activities.
    warn = parse({"id": "https://a.example/w", "type": "Warn", "actor": ALICE, "object": NOTE_ID})
    assert type(warn) is Activity
    assert (warn.type, warn.object_id) == ("Warn", NOTE_ID)
    # Pleroma's ChatMessage is content by someone: a generic object.
    chat = parse(note(type="ChatMessage", content="hi"))
    assert type(chat) is APObject
    assert chat.content == "hi"


# --------------------------------------------------------------------------- tolerances


def test_missing_context_and_unknown_fields_are_fine() -> None:
    doc = parse(note(content="x", somethingNew={"deep": [1, 2]}, **{"_misskey_quote": None}))
    assert isinstance(doc, Note)
    assert "@context" not in doc.to_json()


def test_content_map_and_name_map() -> None:
    doc = parse(note(contentMap={"de": "<p>Hallo</p>"}, nameMap={"de": "Titel"}))
    assert isinstance(doc, Note)
    assert doc.content == "<p>Hallo</p>"
    assert doc.name == "Titel"
    assert doc.language == "de"
    assert doc.content_map == {"de": "<p>Hallo</p>"}
    # When both are given, content wins (it is what the author's server shows).
    both = parse(note(content="plain", contentMap={"en": "mapped"}))
    assert isinstance(both, Note)
    assert both.content == "plain"


def test_lemmy_language_fallback() -> None:
    doc = parse(note(language={"identifier": "fr", "name": "Français"}))
    assert isinstance(doc, Note)
    assert doc.language == "fr"


def test_source_as_object_or_string() -> None:
    doc = parse(note(source={"content": "**hi**", "mediaType": "text/markdown"}))
    assert isinstance(doc, Note)
    assert doc.source is not None
    assert (doc.source.content, doc.source.media_type) == ("**hi**", "text/markdown")
    pleroma = parse(note(source="hi"))
    assert isinstance(pleroma, Note)
    assert pleroma.source is not None
    assert (pleroma.source.content, pleroma.source.media_type) == ("hi", None)


@pytest.mark.parametrize(
    "author",
    [
        ALICE,
        [ALICE],
        {"type": "Person", "id": ALICE},
        [{"type": "Person", "id": ALICE}, {"type": "Group", "id": GROUP}],
    ],
)
def test_attributed_to_shapes(author: Any) -> None:
    doc = parse(note(attributedTo=author))
    assert isinstance(doc, Note)
    assert doc.attributed_to[0] == ALICE


def test_tags_as_object_or_list() -> None:
    one = parse(note(tag={"type": "Mention", "href": GROUP, "name": "@cats@groups.example"}))
    assert isinstance(one, Note)
    assert one.mentions == (Mention(href=GROUP, name="@cats@groups.example"),)
    many = parse(
        note(
            tag=[
                {"type": "Hashtag", "name": "#cats", "href": "https://m.example/tags/cats"},
                {
                    "type": "Emoji",
                    "name": ":blob:",
                    "icon": {"type": "Image", "url": "https://e/b"},
                },
                {"type": "CommunityPostTag", "id": "https://l.example/t", "name": "news"},
                "https://stray.example/link",
            ]
        )
    )
    assert isinstance(many, Note)
    assert many.hashtags == (Hashtag(name="#cats", href="https://m.example/tags/cats"),)
    assert [(e.name, e.icon_url) for e in many.emojis] == [(":blob:", "https://e/b")]
    assert many.mentions == ()


def test_audience_context_conversation_in_reply_to() -> None:
    doc = parse(
        note(
            audience=GROUP,
            context="https://m.example/contexts/1",
            conversation="tag:m.example,2024:objectId=1:objectType=Conversation",
            inReplyTo={"id": "https://o.example/p/1", "type": "Note"},
        )
    )
    assert isinstance(doc, Note)
    assert doc.audience == (GROUP,)
    assert doc.context == "https://m.example/contexts/1"
    assert doc.conversation is not None and doc.conversation.startswith("tag:")
    assert doc.in_reply_to == "https://o.example/p/1"


def test_null_means_absent() -> None:
    doc = parse(note(summary=None, inReplyTo=None, sensitive=None, to=None))
    assert isinstance(doc, Note)
    assert (doc.summary, doc.in_reply_to, doc.sensitive, doc.to) == (None, None, False, ())


def test_attachments_and_url_shapes() -> None:
    doc = parse(
        note(
            attachment={"type": "Document", "mediaType": "image/png", "url": "https://m/i.png"},
            url=[
                {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://m/v.m3u8"},
                {"type": "Link", "mediaType": "text/html", "href": "https://m/watch"},
            ],
        )
    )
    assert isinstance(doc, Note)
    assert [(a.type, a.url, a.media_type) for a in doc.attachments] == [
        ("Document", "https://m/i.png", "image/png")
    ]
    assert doc.url == "https://m/watch"


def test_dates_are_parsed() -> None:
    doc = parse(note(published="2024-10-14T16:57:15Z", updated="2021-03-10T17:18:10.498868"))
    assert isinstance(doc, Note)
    assert doc.published == datetime(2024, 10, 14, 16, 57, 15, tzinfo=UTC)
    assert doc.updated is not None and doc.updated.tzinfo is UTC


def test_actor_fields() -> None:
    doc = parse(
        actor(
            preferredUsername="cats",
            endpoints={"sharedInbox": "https://groups.example/inbox"},
            publicKey={"id": GROUP + "#main-key", "owner": GROUP, "publicKeyPem": "-----BEGIN"},
            attributedTo=GROUP + "/moderators",
            postingRestrictedToMods=True,
            manuallyApprovesFollowers=False,
            icon="https://groups.example/icon.png",
            assertionMethod=[
                {
                    "id": GROUP + "#ed25519-key",
                    "type": "Multikey",
                    "controller": GROUP,
                    "publicKeyMultibase": "z6Mk",
                }
            ],
            attachment=[{"type": "PropertyValue", "name": "Web", "value": "<a>x</a>"}],
        )
    )
    assert isinstance(doc, Group)
    assert doc.shared_inbox == "https://groups.example/inbox"
    assert doc.public_key is not None and doc.public_key.owner == GROUP
    assert doc.moderators == GROUP + "/moderators"
    assert doc.posting_restricted_to_mods is True
    assert doc.icon == "https://groups.example/icon.png"
    assert [k.public_key_multibase for k in doc.assertion_methods] == ["z6Mk"]
    assert [(f.name, f.value) for f in doc.fields] == [("Web", "<a>x</a>")]


def test_embedded_objects_without_id_where_real_software_omits_it() -> None:
    # Mastodon's replies.first page and attachments have no id; that is fine.
    doc = parse(
        {
            "id": GROUP + "/outbox",
            "type": "OrderedCollection",
            "first": {"type": "OrderedCollectionPage", "next": GROUP + "/outbox?page=2"},
        }
    )
    assert isinstance(doc, Collection)
    assert isinstance(doc.first, Collection)
    assert doc.first.id is None
    assert doc.first.next == GROUP + "/outbox?page=2"


def test_bare_id_object_is_a_reference() -> None:
    doc = parse(create({"id": NOTE_ID}))
    assert isinstance(doc, Create)
    assert doc.object == NOTE_ID


def test_activity_object_shapes() -> None:
    by_id = parse(create(NOTE_ID))
    assert isinstance(by_id, Create)
    assert (by_id.object, by_id.object_id, by_id.object_type) == (NOTE_ID, NOTE_ID, None)
    embedded = parse(create(note()))
    assert isinstance(embedded, Create)
    assert isinstance(embedded.object, Note)
    assert (embedded.object_id, embedded.object_type) == (NOTE_ID, "Note")
    flag = parse({"id": ALICE + "#f", "type": "Flag", "actor": ALICE, "object": [GROUP, NOTE_ID]})
    assert isinstance(flag, Flag)
    assert flag.objects == (GROUP, NOTE_ID)
    embedded_actor = parse(create(NOTE_ID, actor={"type": "Person", "id": ALICE}))
    assert isinstance(embedded_actor, Create)
    assert embedded_actor.actor == ALICE


def test_collection_items() -> None:
    doc = parse(
        {
            "id": GROUP + "/featured",
            "type": "OrderedCollection",
            "totalItems": 2,
            "orderedItems": [NOTE_ID, note(id=NOTE_ID + "2")],
        }
    )
    assert isinstance(doc, OrderedCollection)
    assert doc.ordered
    assert doc.item_ids == (NOTE_ID, NOTE_ID + "2")
    assert isinstance(doc.items[1], Note)


def test_question_and_tombstone() -> None:
    poll = parse(
        note(type="Question", anyOf=[{"type": "Note", "name": "a"}, {"name": "b"}], votersCount=3)
    )
    assert isinstance(poll, Question)
    assert (poll.any_of, poll.one_of, poll.voters_count) == (("a", "b"), (), 3)
    gone = parse({"id": NOTE_ID, "type": "Tombstone", "formerType": "Note"})
    assert isinstance(gone, Tombstone)
    assert gone.former_type == "Note"


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "document must be a JSON object, got list"),
        ("https://a.example/1", "document must be a JSON object, got str"),
        ({"id": NOTE_ID}, "document.type is missing"),
        ({"id": NOTE_ID, "type": 5}, "type must be a string or a list of strings"),
        ({"id": NOTE_ID, "type": []}, "type must be a string or a list of strings"),
        (note(id="foo"), "Note.id must be an absolute http(s) URL, got 'foo'"),
        (note(id="ftp://a.example/1"), "Note.id must be an absolute http(s) URL"),
        ({"type": "Note", "content": "x"}, "Note.id is missing"),
        (create(NOTE_ID, actor=None), "Create.actor is missing"),
        (create(NOTE_ID, actor="alice"), "Create.actor must be an absolute http(s) URL"),
        (create(NOTE_ID, actor=[ALICE, GROUP]), "must name one actor"),
        (create(NOTE_ID, actor={"type": "Person"}), "Create.actor is an embedded object without"),
        (create("not a url"), "Create.object must be an absolute http(s) URL"),
        (create(note(id="foo")), "Create.object.id must be an absolute http(s) URL, got 'foo'"),
        (create({"type": "Note", "content": "x"}), "Create.object.id is missing"),
        (create({"id": NOTE_ID, "type": 3}), "Create.object.type must be"),
        (note(content=["a"]), "Note.content must be a string"),
        (note(contentMap={"en": 1}), "Note.contentMap must map language tags to strings"),
        (note(sensitive="yes"), "Note.sensitive must be true or false"),
        (note(published="yesterday"), "Note.published is not an ISO 8601 date-time"),
        (note(published=1700000000), "Note.published must be a date-time string"),
        (note(attributedTo="alice"), "Note.attributedTo must be an absolute http(s) URL"),
        (note(inReplyTo=42), "Note.inReplyTo must be an absolute http(s) URL"),
        (note(to=[1]), "Note.to must hold ids"),
        (note(tag={"type": "Mention", "href": "@bob"}), "Note.tag.href must be an absolute"),
        (note(tag={"type": "Hashtag"}), "a Hashtag needs a name"),
        (note(tag=[5]), "Note.tag[] must be a JSON object"),
        (note(source=5), "Note.source must be a JSON object"),
        (note(context=7), "Note.context must be an id"),
        (note(url=5), "Note.url must be a URL, a Link/Image or a list"),
        (actor(inbox=None), "Group.inbox must be an absolute http(s) URL, got None"),
        (actor(publicKey={"id": GROUP + "#k", "owner": GROUP}), "publicKeyPem must be a PEM"),
        (actor(publicKey={"id": "k", "owner": GROUP, "publicKeyPem": "x"}), "publicKey.id must"),
        (actor(endpoints="x"), "Group.endpoints must be a JSON object"),
        (actor(endpoints={"sharedInbox": "/inbox"}), "endpoints.sharedInbox must be an absolute"),
        (actor(manuallyApprovesFollowers="no"), "manuallyApprovesFollowers must be true or false"),
        (
            {"id": GROUP + "/f", "type": "Collection", "totalItems": -1},
            "Collection.totalItems must be a non-negative integer",
        ),
        (
            {"id": GROUP + "/f", "type": "Collection", "items": ["nope"]},
            "Collection.items must be an absolute http(s) URL",
        ),
        (note(type="Question", oneOf=[{"type": "Note"}]), "every poll option needs a name"),
        ({"type": "Link", "href": "nope"}, "Link.href must be an absolute"),
    ],
)
def test_invalid_documents(data: object, reason: str) -> None:
    with pytest.raises(InvalidObject) as caught:
        parse(data)
    assert reason in caught.value.reason


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "data",
    [
        note(content="<p>x</p>", to="as:Public", tag={"type": "Mention", "href": GROUP}),
        create(note(), **{"@context": ["https://www.w3.org/ns/activitystreams", {"x": "y"}]}),
        actor(type=["Group", "vcard:group"]),
        {"id": "https://a.example/x", "type": "SomethingNew", "payload": [1, None, {"a": True}]},
    ],
)
def test_round_trip_keeps_the_raw_json(data: dict[str, Any]) -> None:
    original = copy.deepcopy(data)
    doc = parse(data)
    assert doc.to_json() == original
    # Neither the input nor the output is shared with the view.
    data["id"] = "https://changed.example/"
    doc.to_json()["type"] = "Changed"
    assert doc.to_json() == original


def test_views_are_frozen_and_comparable() -> None:
    first, second = parse(note()), parse(note())
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.id = "https://other.example/"  # type: ignore[misc]
