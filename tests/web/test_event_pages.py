"""Event pages without a browser (issue 16): the form's errors in German at their field,
the lists (upcoming, past, per group), the organisers' CSV export and their approvals,
the online link only for participants, and e-mail to participants on a change of time
and the day before."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from fedi.core.context import Context
from fedi.forum import events as event_service
from fedi.forum.events_mail import send_due_reminders
from storage import events as event_store
from tests.support.helpers import make_group, make_user
from tests.web.conftest import log_in, post_form


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def _form(**extra: str) -> dict[str, str]:
    values = {"title": "Ortsbeirat Nord", "description": "", "starts_at": f"{_day(10)}T19:00",
              "ends_at": "", "timezone": "Europe/Berlin", "place_name": "Bürgerhaus",
              "street": "", "postal_code": "", "locality": "Teststadt", "country": "",
              "online_url": "https://meet.example/nord", "online_visibility": "participants",
              "status": "confirmed", "registration": "restricted", "external_url": "",
              "capacity": "", "registration_deadline": "", "agenda": ""}
    values.update(extra)
    return values


async def _mails(ctx: Context) -> list[tuple[str, str]]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT recipient, subject FROM mail_outbox ORDER BY id")
    return [(r["recipient"], r["subject"]) for r in rows if "Ortsbeirat" in r["subject"]]


async def test_form_lists_csv_and_mails(app_client: httpx.AsyncClient) -> None:
    ctx: Context = app_client.app.state.ctx  # type: ignore[attr-defined]
    mod = await make_user(ctx, "mod")
    ben = await make_user(ctx, "ben")
    await make_group(ctx, moderators=[mod.actor])

    # Not a moderator: no form.
    await log_in(app_client, "ben")
    r = await app_client.get("/groups/breitband/events/new")
    assert r.status_code == 403 and "Nur die Moderator·innen" in r.text
    app_client.cookies.clear()

    await log_in(app_client, "mod")
    new = "/groups/breitband/events/new"
    r = await post_form(app_client, new, new, _form(ends_at=f"{_day(10)}T18:00"))
    assert r.status_code == 422
    assert "Die Veranstaltung kann nicht enden, bevor sie beginnt." in r.text
    assert 'id="f-ends_at"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="Ortsbeirat Nord"' in r.text  # the input is kept
    r = await post_form(app_client, new, new, _form(timezone="Mars/Olympus"))
    assert r.status_code == 422 and "Unbekannte Zeitzone" in r.text

    r = await post_form(app_client, new, new,
                        _form(agenda="19:00 | Begrüßung | Ortsvorsteher\nAussprache"))
    assert r.status_code == 303, r.text
    event_path = r.headers["location"].split("?")[0]
    event_id = int(event_path.rsplit("/", 1)[1])
    async with ctx.pool.acquire() as conn:
        event = await event_store.get(conn, event_id)
    assert event is not None
    assert event.agenda == [{"time": "19:00", "title": "Begrüßung", "speaker": "Ortsvorsteher"},
                            {"time": "", "title": "Aussprache", "speaker": ""}]
    assert event.registration == "restricted" and event.locality == "Teststadt"
    # 19:00 in Berlin.
    assert event.starts_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 19

    # Lists: upcoming here, nothing past.
    r = await app_client.get("/groups/breitband/events")
    assert r.status_code == 200 and "Ortsbeirat Nord" in r.text
    r = await app_client.get("/events?past=1")
    assert "Ortsbeirat Nord" not in r.text and "Keine vergangenen Veranstaltungen." in r.text
    r = await app_client.get("/")
    assert "Nächste Veranstaltungen" in r.text and event_path in r.text
    r = await app_client.get("/groups/breitband")
    assert 'href="/groups/breitband/events"' in r.text

    # Ben registers (pending): no online link yet; the organiser approves on the page.
    app_client.cookies.clear()
    await log_in(app_client, "ben")
    r = await post_form(app_client, event_path, f"{event_path}/register",
                        {"action": "register", "message": "Mit Rollstuhl"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=pending")
    r = await app_client.get(event_path)
    assert "https://meet.example/nord" not in r.text
    assert "Ihre Anmeldung wartet auf Bestätigung." in r.text
    app_client.cookies.clear()
    await log_in(app_client, "mod")
    async with ctx.pool.acquire() as conn:
        (item,) = await event_store.participants(conn, event_id)
    r = await post_form(app_client, event_path,
                        f"{event_path}/participants/{item.participant.id}",
                        {"action": "approve"})
    assert r.status_code == 303
    r = await app_client.get(f"{event_path}/participants.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0] == ["name", "handle", "state", "registered_at", "message"]
    assert rows[1][1:3] == ["ben@127.0.0.1:8000", "accepted"] and rows[1][4] == "Mit Rollstuhl"
    app_client.cookies.clear()
    await log_in(app_client, "ben")
    r = await app_client.get(event_path)
    assert "https://meet.example/nord" in r.text  # accepted participants see the link
    r = await app_client.get(f"{event_path}/participants.csv")
    assert r.status_code == 403

    # A change of time: Ben is told at once; the day before, he is reminded once.
    async with ctx.pool.acquire() as conn:
        fresh = await event_store.get(conn, event_id)
    assert fresh is not None
    await event_service.update_event(ctx, actor=mod.actor, event=fresh,
                                     data={"starts_at": f"{_day(10)}T20:00"})
    assert await _mails(ctx) == [(ben.account.email, "Geändert: „Ortsbeirat Nord“")]
    assert await send_due_reminders(ctx) == 0  # ten days ahead: not yet
    async with ctx.pool.acquire() as conn:
        moved = await event_store.get(conn, event_id)
    assert moved is not None and moved.sequence > fresh.sequence
    later = moved.starts_at - timedelta(hours=12)
    assert await send_due_reminders(ctx, now=later) == 1
    assert await send_due_reminders(ctx, now=later) == 0  # once
    assert (await _mails(ctx))[-1] == (ben.account.email,
                                       "Erinnerung: „Ortsbeirat Nord“ beginnt bald")
