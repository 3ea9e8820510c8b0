"""Events over the JSON API (issue 16): create with validation, read, the Event document
at its id (content negotiation), registration with capacity, mode and deadline rules
(the policy's refusals), the organisers' list and decisions, cancellation with its
e-mail, and the calendars, read back with an independent parser (``ics``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import ics
import pytest
from jsonschema import Draft202012Validator

from fedi.core.context import Context
from fedi.routes.openapi import build_document
from storage.migrate import MIGRATIONS_DIR
from tests.support.helpers import User, make_group, make_user

AP = {"Accept": "application/activity+json"}
MIGRATION_0035 = Path(MIGRATIONS_DIR, "0035_event_json_values.sql").read_text()


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


def _soon(days: int = 10, hour: int = 18) -> str:
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def _event(**extra: Any) -> dict[str, Any]:
    return {"title": "Bürgerversammlung Glasfaser", "description": "Mit **Tagesordnung**.",
            "starts_at": _soon(), "ends_at": _soon(hour=21), "timezone": "Europe/Berlin",
            "place": {"name": "Rathaus", "street": "Markt 1", "postal_code": "12345",
                      "locality": "Teststadt", "country": "Deutschland"},
            "online_url": "https://meet.example/xyz",
            "agenda": [{"time": "18:00", "title": "Begrüßung", "speaker": "Anna"}],
            **extra}


def _check_schema(name: str, body: Any) -> None:
    doc = build_document("http://127.0.0.1:8000")
    schema = {**doc["components"]["schemas"][name], "$defs": {}}
    # Resolve against the whole document (strict: no undocumented fields).
    full = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    Draft202012Validator(full).validate(body)
    assert set(body) <= set(schema["properties"])


async def _setup(ctx: Context) -> tuple[User, User, User]:
    mod = await make_user(ctx, "mod")
    ben = await make_user(ctx, "ben")
    cleo = await make_user(ctx, "cleo")
    await make_group(ctx, moderators=[mod.actor])
    return mod, ben, cleo


async def test_create_read_document_register_and_calendar(app_client: httpx.AsyncClient,
                                                          ctx: Context) -> None:
    mod, ben, cleo = await _setup(ctx)
    # Members who are not moderators may not create events.
    r = await app_client.post("/api/v1/groups/breitband/events", headers=ben.headers,
                              json=_event())
    assert r.status_code == 403 and r.json()["error"] == "events_moderators_only"

    r = await app_client.post("/api/v1/groups/breitband/events", headers=mod.headers,
                              json=_event(capacity=1))
    assert r.status_code == 201, r.text
    event = r.json()
    _check_schema("Event", event)
    assert event["ap_id"] == f"http://127.0.0.1:8000/events/{event['id']}"
    assert event["starts_at"].endswith("Z") and event["timezone"] == "Europe/Berlin"
    assert "<strong>Tagesordnung</strong>" in event["description_html"]
    assert event["place"]["locality"] == "Teststadt"
    assert event["online_url"] == "https://meet.example/xyz"  # the organiser sees it
    assert event["thread_id"] is not None and event["participant_count"] == 0

    # The discussion thread links the event.
    r = await app_client.get(f"/api/v1/posts/{event['thread_id']}")
    assert event["ap_id"] in r.json()["content"]

    # Anonymous: no online link for participants only.
    r = await app_client.get(f"/api/v1/events/{event['id']}")
    assert r.status_code == 200 and r.json()["online_url"] is None and r.json()["online"]

    # The Event at its id, for ActivityPub clients.
    r = await app_client.get(f"/events/{event['id']}", headers=AP)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/activity+json")
    doc = r.json()
    assert doc["id"] == event["ap_id"] and doc["type"] == "Event"
    assert doc["attributedTo"] == "http://127.0.0.1:8000/groups/breitband"
    assert doc["actor"] == mod.actor.ap_id
    assert doc["name"] == "Bürgerversammlung Glasfaser"
    assert doc["timezone"] == "Europe/Berlin" and doc["startTime"].endswith(("+01:00",
                                                                              "+02:00"))
    assert doc["location"]["type"] == "Place"
    assert doc["location"]["address"]["type"] == "PostalAddress"
    assert doc["location"]["address"]["addressLocality"] == "Teststadt"
    assert doc["joinMode"] == "free" and doc["isOnline"] is True
    assert doc["maximumAttendeeCapacity"] == 1 and doc["remainingAttendeeCapacity"] == 1
    assert doc["participantCount"] == 0 and doc["ical:status"] == "CONFIRMED"
    assert doc["context"].endswith(f"/posts/{event['thread_id']}/context")
    assert "attachment" not in doc  # the online link is for participants only
    # A browser gets a page.
    r = await app_client.get(f"/events/{event['id']}", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "Bürgerversammlung Glasfaser" in r.text

    # Register: 201, the count goes up; the next one is refused: full.
    r = await app_client.post(f"/api/v1/events/{event['id']}/participation",
                              headers=ben.headers)
    assert r.status_code == 201, r.text
    _check_schema("Participation", r.json())
    assert r.json()["state"] == "accepted"
    assert r.json()["event"]["participant_count"] == 1
    assert r.json()["event"]["online_url"] == "https://meet.example/xyz"
    r = await app_client.post(f"/api/v1/events/{event['id']}/participation",
                              headers=cleo.headers)
    assert r.status_code == 403
    assert r.json() == {"error": "event_full", "message": "This event is fully booked."}

    # The organisers' list; nobody else's.
    r = await app_client.get(f"/api/v1/events/{event['id']}/participants", headers=ben.headers)
    assert r.status_code == 403
    r = await app_client.get(f"/api/v1/events/{event['id']}/participants", headers=mod.headers)
    assert [p["actor"] for p in r.json()["items"]] == ["ben@127.0.0.1:8000"]
    _check_schema("Participant", r.json()["items"][0])

    # Withdraw: down again, cleo gets in.
    r = await app_client.delete(f"/api/v1/events/{event['id']}/participation",
                                headers=ben.headers)
    assert r.status_code == 200 and r.json()["event"]["participant_count"] == 0
    r = await app_client.post(f"/api/v1/events/{event['id']}/participation",
                              headers=cleo.headers)
    assert r.status_code == 201

    # The calendar, read by an independent parser: the event, its zone, its place.
    r = await app_client.get(f"/events/{event['id']}.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VTIMEZONE" in r.text and "TZID:Europe/Berlin" in r.text
    assert "DTSTART;TZID=Europe/Berlin:" in r.text
    (parsed,) = ics.Calendar(r.text).events
    assert parsed.uid == event["ap_id"] and parsed.name == "Bürgerversammlung Glasfaser"
    assert parsed.begin.datetime.astimezone(UTC) == datetime.fromisoformat(event["starts_at"])
    assert str(parsed.begin.tzinfo).endswith("Europe/Berlin") or \
        parsed.begin.datetime.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert "Rathaus" in (parsed.location or "")
    assert parsed.status == "CONFIRMED"
    sequence_before = int(r.text.split("SEQUENCE:")[1].split()[0])

    # Cancel (PATCH status): SEQUENCE up, STATUS:CANCELLED in every feed, cleo is told.
    r = await app_client.patch(f"/api/v1/events/{event['id']}", headers=mod.headers,
                               json={"status": "cancelled"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    for url in (f"/events/{event['id']}.ics", "/groups/breitband/events.ics", "/events.ics"):
        r = await app_client.get(url)
        assert r.status_code == 200, url
        (parsed,) = ics.Calendar(r.text).events
        assert parsed.status == "CANCELLED", url
        assert int(r.text.split("SEQUENCE:")[1].split()[0]) > sequence_before
    async with ctx.pool.acquire() as conn:
        mails = await conn.fetch("SELECT recipient, subject FROM mail_outbox ORDER BY id")
    assert [(m["recipient"], m["subject"]) for m in mails
            if "Glasfaser" in m["subject"]] == \
        [("cleo@example.org", "Abgesagt: „Bürgerversammlung Glasfaser“")]
    r = await app_client.post(f"/api/v1/events/{event['id']}/participation",
                              headers=ben.headers)
    assert r.status_code == 403 and r.json()["error"] == "event_cancelled"


async def test_validation_errors_say_what_is_wrong(app_client: httpx.AsyncClient,
                                                   ctx: Context) -> None:
    mod, _, _ = await _setup(ctx)
    cases = [
        (_event(ends_at=_soon(hour=10)), "ends_at", "end before it starts"),
        (_event(timezone="Mars/Olympus"), "timezone", "unknown time zone"),
        (_event(capacity=-1), "capacity", "0 or more"),
        (_event(starts_at="morgen"), "starts_at", "ISO 8601"),
        (_event(title=""), "title", "title is required"),
        (_event(registration="external"), "external_url", "external_url"),
        (_event(online_url="javascript:alert(1)"), "online_url", "http(s) URL"),
    ]
    for body, field, words in cases:
        r = await app_client.post("/api/v1/groups/breitband/events", headers=mod.headers,
                                  json=body)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["field"] == field and words in r.json()["message"], r.json()
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        assert await conn.fetchval("SELECT count(*) FROM posts") == 0


async def test_restricted_registration_waits_for_the_organisers(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    mod, ben, cleo = await _setup(ctx)
    r = await app_client.post("/api/v1/groups/breitband/events", headers=mod.headers,
                              json=_event(registration="restricted"))
    event = r.json()
    r = await app_client.post(f"/api/v1/events/{event['id']}/participation",
                              headers=ben.headers, json={"message": "Ich komme gern"})
    assert r.status_code == 202 and r.json()["state"] == "pending"
    assert r.json()["event"]["participant_count"] == 0
    r = await app_client.post(f"/api/v1/events/{event['id']}/participation",
                              headers=cleo.headers)
    r = await app_client.get(f"/api/v1/events/{event['id']}/participants", headers=mod.headers)
    ben_id, cleo_id = (p["id"] for p in r.json()["items"])
    assert r.json()["items"][0]["message"] == "Ich komme gern"
    r = await app_client.post(f"/api/v1/events/{event['id']}/participants/{ben_id}/approve",
                              headers=ben.headers)
    assert r.status_code == 403
    r = await app_client.post(f"/api/v1/events/{event['id']}/participants/{ben_id}/approve",
                              headers=mod.headers)
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    r = await app_client.post(f"/api/v1/events/{event['id']}/participants/{cleo_id}/reject",
                              headers=mod.headers)
    assert r.json()["state"] == "rejected"
    r = await app_client.get(f"/api/v1/events/{event['id']}")
    assert r.json()["participant_count"] == 1


async def test_deadline_and_modes_and_listing(app_client: httpx.AsyncClient,
                                              ctx: Context) -> None:
    mod, ben, _ = await _setup(ctx)
    past_deadline = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    made = {}
    for name, extra in (("deadline", {"registration_deadline": past_deadline}),
                        ("none", {"registration": "none"}),
                        ("external", {"registration": "external",
                                      "external_url": "https://anmeldung.example/"})):
        r = await app_client.post("/api/v1/groups/breitband/events", headers=mod.headers,
                                  json=_event(title=name, **extra))
        assert r.status_code == 201, r.text
        made[name] = r.json()["id"]
    expected = {"deadline": "registration_deadline", "none": "registration_closed",
                "external": "registration_external"}
    for name, code in expected.items():
        r = await app_client.post(f"/api/v1/events/{made[name]}/participation",
                                  headers=ben.headers)
        assert (r.status_code, r.json()["error"]) == (403, code)
    r = await app_client.get("/api/v1/events?group=breitband")
    assert r.status_code == 200 and len(r.json()["items"]) == 3
    _check_schema("EventPage", r.json())
    r = await app_client.get("/api/v1/events?from=2000-01-01&to=2000-02-01")
    assert r.json()["items"] == []
    r = await app_client.get("/api/v1/events?from=gestern")
    assert r.status_code == 422 and r.json()["field"] == "from"
    # Delete: gone from the list, 404 at the API.
    r = await app_client.delete(f"/api/v1/events/{made['none']}", headers=mod.headers)
    assert r.status_code == 204
    r = await app_client.get(f"/api/v1/events/{made['none']}")
    assert r.status_code == 404
    r = await app_client.get(f"/events/{made['none']}", headers=AP)
    assert r.status_code == 410 and r.json()["type"] == "Tombstone"


async def test_agenda_and_raw_are_stored_as_json_documents(app_client: httpx.AsyncClient,
                                                           ctx: Context) -> None:
    """The agenda is a jsonb array, not JSON text inside jsonb; migration 0035 turns rows
    written the old way (a string holding the document) into documents."""
    mod, _, _ = await _setup(ctx)
    r = await app_client.post("/api/v1/groups/breitband/events", headers=mod.headers,
                              json=_event())
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT jsonb_typeof(agenda) FROM events WHERE id = $1", event_id) == "array"
        # A row as the old code wrote it, and one remote event's raw document likewise.
        await conn.execute(
            "UPDATE events SET agenda = to_jsonb(agenda::text),"
            " raw = to_jsonb('{\"type\": \"Event\"}'::text) WHERE id = $1", event_id)
        await conn.execute(MIGRATION_0035)
        row = await conn.fetchrow("SELECT jsonb_typeof(agenda) AS agenda,"
                                  " raw->>'type' AS raw_type FROM events WHERE id = $1",
                                  event_id)
        assert (row["agenda"], row["raw_type"]) == ("array", "Event")
    shown = (await app_client.get(f"/api/v1/events/{event_id}")).json()
    assert shown["agenda"] == [{"time": "18:00", "title": "Begrüßung", "speaker": "Anna"}]
