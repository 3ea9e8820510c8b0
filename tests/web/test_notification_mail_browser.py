"""The notification e-mail fieldset of the settings page and the unsubscribe page in a
real browser with scripts off (plain forms), checked by axe-core (tests/web/test_browser.py
has the browser fixtures and the checker)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.forum import notification_mail as service
from tests.support.helpers import make_user
from tests.web.test_browser import Checker, browser, chromium

__all__ = ["browser", "chromium"]  # the fixtures

pytestmark = pytest.mark.skipif(bool(os.environ.get("DEMISA_SKIP_BROWSER")),
                                reason="DEMISA_SKIP_BROWSER is set")


async def test_mail_settings_and_unsubscribe_work_without_javascript(
        instance: Callable[..., Awaitable[Any]], browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    dora = await make_user(ctx, "dora")
    page = await browser.new_page()
    await page.route("**/*.js", lambda route: route.abort())
    checker = Checker(page)
    await page.goto(server.url + "/login")
    await page.fill("#f-username", "dora")
    await page.fill("#f-password", "correct horse battery")
    await page.locator("main").get_by_role("button", name="Anmelden").click()
    await page.goto(server.url + "/settings")
    await checker.accessible("settings with the mail fieldset")
    replies = page.get_by_role("group", name="Antworten auf Ihre Themen und Beiträge")
    await replies.get_by_label("Sofort").check()
    defaults = page.get_by_role("group", name="Alle Benachrichtigungen (Standard)")
    await defaults.get_by_label("Wöchentliche Zusammenfassung").check()
    await page.get_by_role("button", name="E-Mail-Einstellungen speichern").click()
    await page.wait_for_url(server.url + "/settings")
    async with ctx.pool.acquire() as conn:
        prefs = await service.preferences(conn, dora.account.id)
        link = await service.unsubscribe_url(conn, ctx, dora.account.id)
    assert (prefs.mode("reply"), prefs.mode("mention"), prefs.mode("report")) == (
        "immediate", "weekly", "immediate")
    assert await replies.get_by_label("Sofort").is_checked()

    # The link of a mail: a page with a button; the button switches the mails off.
    await page.goto(link)
    await checker.accessible("unsubscribe")
    await page.get_by_role("button", name="Abbestellen").click()
    await page.get_by_text("Sie erhalten keine Benachrichtigungen mehr per E-Mail.").wait_for()
    async with ctx.pool.acquire() as conn:
        prefs = await service.preferences(conn, dora.account.id)
    assert {prefs.mode(t) for t in service.TYPES} == {"off"}
