"""The hashtag page in a real browser: reached from a post's tag link, accessible (axe),
no sideways scrolling on a phone."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import make_group, make_user
from tests.web.test_browser import Checker, _h1, browser, chromium

__all__ = ["browser", "chromium"]  # fixtures

pytestmark = pytest.mark.skipif(bool(os.environ.get("DEMISA_SKIP_BROWSER")),
                                reason="DEMISA_SKIP_BROWSER is set")


async def test_a_hashtag_link_leads_to_an_accessible_tag_page(
        instance: Callable[..., Awaitable[Any]], browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    mayor = await make_user(ctx, "buergermeisterin")
    await make_user(ctx, "dora")
    group = await make_group(ctx)
    thread = await post_service.create_thread(
        ctx, author=mayor.actor, group=group, title="Glasfaser in der Südstraße",
        content="Frage an @dora: wann kommt #Glasfaser in die #Südstraße?")
    page = await browser.new_page()
    checker = Checker(page)
    await page.goto(f"{server.url}/posts/{thread.id}")
    await page.get_by_role("link", name="@dora").wait_for()
    await page.get_by_role("link", name="#Südstraße").click()
    assert await _h1(page) == "#südstraße"
    await page.get_by_role("link", name="Glasfaser in der Südstraße").wait_for()
    await checker.check("tag-page")
    await page.goto(f"{server.url}/tags/nochniegesehen")
    await page.get_by_text("Noch keine Themen mit diesem Schlagwort.").wait_for()
    await checker.accessible("empty-tag-page")
    assert checker.console_errors == []
