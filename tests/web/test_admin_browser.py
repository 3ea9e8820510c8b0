"""The admin area in Debian's Chromium (issue 18): an admin, only through pages, creates a
group with rules, appoints a moderator, switches registration to approval and edits the
start page text; a second browser session (a visitor) sees each change, the moderation log
lists each action, and axe finds no serious or critical violation on the admin pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user
from tests.web.conftest import PASSWORD
from tests.web.test_browser import CHROMIUM_ARGS, DESKTOP, Checker, chromium, pytestmark

__all__ = ["chromium", "pytestmark"]  # the fixture and the skip marker


@pytest.fixture
async def two_sessions(chromium: Path) -> AsyncIterator[tuple[Any, Any]]:
    """Two browser contexts (own cookies each): the admin's and a visitor's."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            admin = await browser.new_context(locale="de-DE", viewport=DESKTOP)
            visitor = await browser.new_context(locale="de-DE", viewport=DESKTOP)
            for context in (admin, visitor):
                context.set_default_timeout(15_000)
            yield admin, visitor
        finally:
            await browser.close()


async def test_an_admin_runs_the_instance_from_the_browser(
        instance: Callable[..., Awaitable[Any]], two_sessions: tuple[Any, Any]) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    await make_user(ctx, "ruth", admin=True)
    await make_user(ctx, "alice")
    await make_group(ctx)
    admin_context, visitor_context = two_sessions
    page = await admin_context.new_page()
    checker = Checker(page)
    visitor = await visitor_context.new_page()

    # Log in, then into the admin area through the header's link.
    await page.goto(server.url + "/login")
    await page.get_by_label("Benutzername").fill("ruth")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.locator("main").get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(server.url + "/")
    await page.locator("nav.nav-wide").get_by_role("link", name="Administration").click()
    await page.wait_for_url(server.url + "/admin")
    await checker.accessible("/admin")

    # A new group with rules.
    await page.locator("main").get_by_role("link", name="Gruppen").first.click()
    await page.wait_for_url(server.url + "/admin/groups")
    await checker.accessible("/admin/groups")
    await page.get_by_label("Kurzname").fill("schule")
    await page.get_by_label("Titel").fill("Schule und Kita")
    await page.get_by_label("Regeln").fill("Bitte bleiben Sie sachlich und freundlich.")
    await page.get_by_label("Diskussionen").check()
    await page.get_by_role("button", name="Gruppe anlegen").click()
    await page.wait_for_url(server.url + "/admin/groups/schule")
    assert "Die Gruppe wurde angelegt." in await page.locator("main").inner_text()
    await checker.accessible("/admin/groups/schule")

    # A moderator.
    await page.get_by_label("Person").fill("alice")
    await page.get_by_role("button", name="Ernennen").click()
    await page.get_by_role("button", name="alice@").first.wait_for()
    moderators = await page.locator("section[aria-labelledby=moderators-heading]").inner_text()
    assert "Alice" in moderators

    # Registration by approval, then the start page's text.
    await page.goto(server.url + "/admin")
    await page.locator("main").get_by_role("link", name="Einstellungen der Instanz").first.click()
    await page.wait_for_url(server.url + "/admin/settings")
    await checker.accessible("/admin/settings")
    await page.get_by_label("Alle, nach Freischaltung durch die Administration").check()
    await page.get_by_role("button", name="Einstellungen speichern").click()
    await page.wait_for_url(server.url + "/admin/settings")
    assert "Die Änderung ist gespeichert." in await page.locator("main").inner_text()
    await page.get_by_label("Text der Startseite").fill(
        "Willkommen im **Bürgerforum** der Gemeinde Musterstadt.")
    await page.get_by_role("button", name="Einstellungen speichern").click()
    await page.wait_for_url(server.url + "/admin/settings")
    # The Impressum: the start page warns that it is missing and leads to its form.
    await page.goto(server.url + "/admin")
    await page.locator("main").get_by_role(
        "link", name="Das Impressum ist noch nicht veröffentlicht.").click()
    await page.wait_for_url(server.url + "/admin/terms?kind=impressum")
    await page.get_by_label("Text (Markdown)").fill(
        "## Diensteanbieter\n\nGemeinde Musterstadt, Rathausplatz 1, 12345 Musterstadt")
    await page.locator("main").get_by_role("button",
                                           name="Neue Fassung veröffentlichen").click()
    await page.wait_for_url(server.url + "/admin/terms?kind=impressum")
    await page.goto(server.url + "/admin")
    assert "Das Impressum ist noch nicht" not in await page.locator("main").inner_text()
    await page.goto(server.url + "/admin/accounts")
    await checker.accessible("/admin/accounts")
    assert checker.console_errors == []

    # The visitor sees each change.
    await visitor.goto(server.url + "/groups/schule")
    assert "Bitte bleiben Sie sachlich und freundlich." in await visitor.locator(
        "main").inner_text()
    await visitor.goto(server.url + "/")
    lead = visitor.locator("main .lead")
    assert "Willkommen im Bürgerforum der Gemeinde Musterstadt." in " ".join(
        (await lead.inner_text()).split())
    assert await lead.locator("strong").inner_text() == "Bürgerforum"
    await visitor.goto(server.url + "/signup")
    assert "Neue Konten werden von der Administration geprüft" in await visitor.locator(
        "main").inner_text()
    await visitor.goto(server.url + "/impressum")
    assert "Gemeinde Musterstadt, Rathausplatz 1" in await visitor.locator(
        "main").inner_text()
    await visitor.goto(server.url + "/admin")
    assert "/login" in visitor.url  # the visitor is not let in

    # The moderation log lists each action.
    await visitor.goto(server.url + "/modlog")
    log = await visitor.locator("main").inner_text()
    for label in ("Gruppe angelegt", "Moderator*in ernannt",
                  "Registrierungseinstellungen geändert",
                  "Einstellungen der Instanz geändert",
                  "Impressum, Erklärung zur Barrierefreiheit oder Regeln geändert"):
        assert label in log, (label, log)
