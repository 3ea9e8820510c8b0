"""Events in a real browser (issue 16): a moderator creates an event with the form, a
citizen registers on the event page; every page passes axe-core with no serious or
critical violation (the harness of tests/web/test_browser.py)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user
from tests.web.test_browser import Checker, _h1, browser, chromium

__all__ = ["browser", "chromium"]  # fixtures

pytestmark = pytest.mark.skipif(bool(os.environ.get("DEMISA_SKIP_BROWSER")),
                                reason="DEMISA_SKIP_BROWSER is set")


async def _log_in(page: Any, url: str, username: str) -> None:
    await page.goto(url + "/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", "correct horse battery")
    await page.locator("main").get_by_role("button", name="Anmelden").click()
    await page.get_by_role("button", name="Abmelden").first.wait_for(state="attached")


async def test_a_moderator_creates_an_event_and_a_citizen_registers(
        instance: Callable[..., Awaitable[Any]], browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    mayor = await make_user(ctx, "buergermeisterin")
    await make_user(ctx, "ben")
    await make_group(ctx, moderators=[mayor.actor])
    page = await browser.new_page()
    checker = Checker(page)
    main = page.locator("main")

    await _log_in(page, server.url, "buergermeisterin")
    await page.goto(server.url + "/groups/breitband")
    await main.get_by_role("link", name="Veranstaltungen").click()
    assert await _h1(page) == "Veranstaltungen von Breitbandausbau"
    await checker.accessible("events-empty-de")
    await main.get_by_role("link", name="Neue Veranstaltung").click()
    assert await _h1(page) == "Neue Veranstaltung in Breitbandausbau"
    await checker.check("event-form-de")

    day = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    await page.fill("#f-title", "Bürgerversammlung Glasfaser")
    await page.fill("#f-description", "Wir stellen den **Zeitplan** vor.")
    await page.fill("#f-starts_at", f"{day}T18:00")
    await page.fill("#f-ends_at", f"{day}T20:30")
    await page.fill("#f-place_name", "Rathaus, großer Saal")
    await page.fill("#f-street", "Markt 1")
    await page.fill("#f-postal_code", "12345")
    await page.fill("#f-locality", "Teststadt")
    await page.fill("#f-capacity", "40")
    await page.fill("#f-agenda", "18:00 | Begrüßung | Bürgermeisterin\n18:15 | Zeitplan")
    await main.get_by_role("button", name="Veröffentlichen").click()
    await page.get_by_text("Die Veranstaltung wurde veröffentlicht.").wait_for()
    assert await _h1(page) == "Bürgerversammlung Glasfaser"
    event_url = page.url.split("?")[0]
    await main.get_by_text("18:00 Uhr").first.wait_for()
    await main.get_by_text("Begrüßung").wait_for()
    await main.get_by_text("Noch keine Anmeldungen.").wait_for()
    await checker.check("event-organiser-de")

    # A citizen registers.
    await page.locator("header").get_by_role("button", name="Abmelden").first.click()
    await _log_in(page, server.url, "ben")
    await page.goto(server.url + "/")
    upcoming = main.locator("section[aria-labelledby=events-heading]")
    await upcoming.get_by_role("heading", name="Nächste Veranstaltungen").wait_for()
    await checker.accessible("start-with-events-de")
    await upcoming.get_by_role("link", name="Bürgerversammlung Glasfaser").click()
    assert page.url.split("?")[0] == event_url
    await main.get_by_text("0 Teilnehmende").wait_for()
    await checker.accessible("event-before-registering-de")
    await page.fill("#f-message", "Ich bringe Fragen mit.")
    await main.get_by_role("button", name="Anmelden").click()
    await page.get_by_text("Sie sind für diese Veranstaltung angemeldet.").wait_for()
    await main.get_by_text("1 Teilnehmer·in").wait_for()
    await main.get_by_role("button", name="Anmeldung zurückziehen").wait_for()
    await checker.check("event-registered-de")

    # The organiser sees the participant and the message.
    await page.locator("header").get_by_role("button", name="Abmelden").first.click()
    await _log_in(page, server.url, "buergermeisterin")
    await page.goto(event_url)
    row = main.locator("table.participants tr", has_text="Ich bringe Fragen mit.")
    await row.get_by_text("angemeldet").wait_for()
    await checker.accessible("event-participants-de")
    assert not checker.console_errors, checker.console_errors
