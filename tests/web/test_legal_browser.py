"""The legal and help pages in Debian's Chromium (issue 18): an admin publishes the
Impressum and the accessibility statement through the admin form, a visitor reads them,
reaches each legal page from the footer and sends a barrier report through the form (an
error first, then the message); axe finds no serious or critical violation on any of these
pages, and on a phone none scrolls sideways."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user
from tests.web.conftest import PASSWORD
from tests.web.test_browser import Checker, browser, chromium, pytestmark

__all__ = ["browser", "chromium", "pytestmark"]  # the fixtures and the skip marker


async def test_legal_pages_and_the_feedback_form_in_a_browser(
        instance: Callable[..., Awaitable[Any]], browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    await make_user(ctx, "ruth", admin=True)
    await make_group(ctx)
    page = await browser.new_page()
    checker = Checker(page)
    main = page.locator("main")

    # A visitor: the unpublished Impressum says so; the form reports a missing message.
    await page.goto(server.url + "/")
    footer = page.locator("footer")
    await footer.get_by_role("link", name="Impressum").click()
    await page.wait_for_url(server.url + "/impressum")
    assert "noch nicht veröffentlicht" in await main.inner_text()
    await checker.check("impressum-unpublished-de")
    await footer.get_by_role("link", name="Barrierefreiheit").click()
    await page.wait_for_url(server.url + "/barrierefreiheit")
    await page.get_by_label("Ihre Nachricht").fill("   ")
    await main.get_by_role("button", name="Nachricht senden").click()
    await page.get_by_role("alert").wait_for()
    assert "Bitte schreiben Sie eine Nachricht." in await main.inner_text()
    await checker.check("accessibility-error-de")
    await page.get_by_label("Ihre E-Mail-Adresse").fill("erika@example.net")
    await page.get_by_label("Ihre Nachricht").fill("Der Kontrast der Knöpfe ist zu schwach.")
    await main.get_by_role("button", name="Nachricht senden").click()
    await page.get_by_text("Vielen Dank! Ihre Nachricht wurde").wait_for()
    await footer.get_by_role("link", name="Hilfe").click()
    await page.wait_for_url(server.url + "/hilfe")
    assert f"@breitband@{ctx.settings.host}" in await main.inner_text()
    await checker.check("help-de")
    await footer.get_by_role("link", name="Regeln").click()
    await page.wait_for_url(server.url + "/regeln")
    await checker.accessible("rules-unpublished-de")

    # The admin publishes the Impressum and reads the feedback.
    await page.goto(server.url + "/login")
    await page.get_by_label("Benutzername").fill("ruth")
    await page.get_by_label("Passwort").fill(PASSWORD)
    await main.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(server.url + "/")
    await page.goto(server.url + "/admin/terms?kind=impressum")
    assert "[Name der Kommune]" in await page.get_by_label("Text (Markdown)").input_value()
    await checker.check("admin-impressum-de")
    await page.get_by_label("Text (Markdown)").fill(
        "## Diensteanbieter\n\nGemeinde Musterstadt\n\nRathausplatz 1, 12345 Musterstadt")
    await main.get_by_role("button", name="Neue Fassung veröffentlichen").click()
    await page.wait_for_url(server.url + "/admin/terms?kind=impressum")
    await page.goto(server.url + "/admin/feedback")
    assert "Der Kontrast der Knöpfe ist zu schwach." in await main.inner_text()
    await checker.check("admin-feedback-de")
    await page.locator("footer").get_by_role("link", name="Impressum").click()
    await page.wait_for_url(server.url + "/impressum")
    text = await main.inner_text()
    assert "Gemeinde Musterstadt" in text and "Stand:" in text
    await checker.check("impressum-de")
    # The one failed load is the form answered with 422 (the missing message), on purpose.
    assert [e for e in checker.console_errors if "status of 422" not in e] == []
