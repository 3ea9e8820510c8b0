"""Reading other servers' Events into our columns (fedi/federation/events.py): Mobilizon's
own Event (tests/fixtures/corpus/mobilizon/objects/event.json) and a Gancio-shaped one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from activitypub import vocab
from fedi.federation.events import event_fields
from tests.support.corpus import CORPUS


def test_mobilizon_event() -> None:
    doc = json.loads((CORPUS / "mobilizon" / "objects" / "event.json").read_text())
    obj = vocab.parse(doc)
    assert isinstance(obj, vocab.APObject)
    fields = event_fields(obj)
    assert fields["title"] == "Caledonian scottish dance class"
    assert fields["timezone"] == "Europe/London"
    assert fields["starts_at"] == datetime(2022, 12, 11, 19, 0, tzinfo=UTC)
    assert fields["ends_at"] == datetime(2022, 12, 11, 21, 0, tzinfo=UTC)
    assert (fields["place_name"], fields["postal_code"], fields["locality"],
            fields["country"]) == ("The Kenn Centre", "EX6 7TW", "Teignbridge",
                                   "United Kingdom")
    assert fields["latitude"] == 50.66881615
    assert fields["status"] == "confirmed" and fields["registration"] == "free"
    assert fields["capacity"] is None  # Mobilizon's 0: no limit
    assert fields["participant_count"] == 0
    assert "<a" in fields["description_html"] and "ceilidhs" in fields["description_html"]


def test_gancio_event_with_plain_address_and_online_link() -> None:
    obj = vocab.parse({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://gancio.example/federation/m/42", "type": "Event",
        "name": "Repair Café", "url": "https://gancio.example/event/repair-cafe",
        "startTime": "2026-03-14T10:00:00+01:00", "endTime": "2026-03-14T09:00:00+01:00",
        "location": {"type": "Place", "name": "Stadtteilzentrum",
                     "address": "Hauptstraße 5, 12345 Teststadt"},
        "attachment": [{"type": "Link", "href": "https://video.example/room",
                        "name": "online"}],
        "content": "<p>Bring your <script>x</script>toaster</p>",
        "attributedTo": "https://gancio.example/federation/u/relay",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    })
    assert isinstance(obj, vocab.APObject)
    fields = event_fields(obj)
    assert fields["starts_at"] == datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    assert fields["ends_at"] is None  # an end before the start is dropped
    assert fields["timezone"] == "UTC"
    assert fields["place_name"] == "Stadtteilzentrum"
    assert fields["street"] == "Hauptstraße 5, 12345 Teststadt"
    assert fields["online_url"] == "https://video.example/room"
    assert fields["registration"] == "none"  # Gancio: announce-only
    assert "<script>" not in fields["description_html"]
    assert fields["url"] == "https://gancio.example/event/repair-cafe"
