"""The statistics page in Debian's Chromium: axe finds no serious violation, the table
reads with its headers, and on a phone the page does not scroll sideways (the table
scrolls in its own region)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fedi.core.context import Context
from tests.support.statistics_scene import build_scene
from tests.web.test_browser import Checker, browser, chromium, pytestmark

__all__ = ["browser", "chromium", "pytestmark"]  # the fixtures and the skip marker


async def test_statistics_page_is_accessible(instance: Callable[..., Awaitable[Any]],
                                             browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    scene = await build_scene(ctx)
    page = await browser.new_page()
    checker = Checker(page)
    await page.goto(server.url + "/statistik")
    table = page.get_by_role("table", name="Themen, Fragen, Veranstaltungen und Folgende "
                                           "je Gruppe")
    await table.wait_for()
    row = table.get_by_role("row", name="Gesamt")
    cells = [" ".join(c.split()) for c in await row.get_by_role("cell").all_inner_texts()]
    assert cells == [str(scene.expected_totals[c]) for c in (
        "threads", "replies", "questions", "questions_solved", "events_upcoming",
        "events_past", "remote_followers")]
    await checker.check("statistics")
    assert checker.console_errors == []
