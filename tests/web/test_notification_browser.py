"""The notifications page in Chromium: axe finds no serious or critical violation, the
bell's accessible name carries the count, marking read works with scripts off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fedi.core.context import Context
from fedi.core.queue import Worker
from fedi.forum import posts as post_service
from fedi.forum.notify_queue import NotificationQueue
from tests.support.helpers import make_group, make_user
from tests.web.test_browser import Checker, browser, chromium, pytestmark

__all__ = ["browser", "chromium", "pytestmark"]  # fixtures, and the skip switch


async def test_notifications_page_is_accessible(instance: Callable[..., Awaitable[Any]],
                                                browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    group = await make_group(ctx)
    thread = await post_service.create_thread(ctx, author=anna.actor, group=group,
                                              title="Baustelle in der Hauptstraße",
                                              content="Wie lange noch?")
    await post_service.create_reply(ctx, author=ben.actor, parent=thread,
                                    content="Bis Ende Mai.")
    await post_service.like_post(ctx, actor=ben.actor, post=thread)
    await Worker(ctx.pool, [NotificationQueue(ctx)], concurrency=2).run_once()

    page = await browser.new_page()
    await page.route("**/*.js", lambda route: route.abort())  # no script needed
    checker = Checker(page)
    await page.goto(server.url + "/login?next=/notifications")
    await page.fill("#f-username", "anna")
    await page.fill("#f-password", "correct horse battery")
    await page.locator("main").get_by_role("button", name="Anmelden").click()
    await page.get_by_role("heading", name="Benachrichtigungen", level=1).wait_for()
    bell = page.locator("nav.nav-wide").get_by_role("link",
                                                    name="Benachrichtigungen, 2 ungelesen")
    assert await bell.count() == 1
    await page.get_by_text("Ben hat Ihnen in „Baustelle in der Hauptstraße“ geantwortet."
                           ).wait_for()
    await checker.check("notifications")
    await page.get_by_role("button", name="Alle als gelesen markieren").click()
    await page.get_by_text("0 ungelesene Benachrichtigungen").wait_for()
    await checker.accessible("notifications-read")
    # Only the scripts this test blocked failed to load.
    assert all("ERR_FAILED" in e for e in checker.console_errors), checker.console_errors
