"""Pictures in a real browser (issue 19): a member uploads a photo with its alt text
through the new-thread form, sees it in the thread with that alt text and a link to the
large version, the browser loads it from our server; axe finds no serious or critical
violation on the form or the thread page."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user
from tests.web.test_browser import Checker, _h1, browser, chromium, pytestmark

__all__ = ["browser", "chromium", "pytestmark"]  # the fixtures and the skip marker

ALT = "Bagger hebt einen Graben für die Glasfaser vor dem Rathaus aus"


def _photo(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (160, 110, 50)).save(out, format="JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


async def test_a_member_posts_a_photo_with_its_alt_text(
        instance: Callable[..., Awaitable[Any]], browser: Any, tmp_path: Path) -> None:
    server = await instance(data_dir=tmp_path / "data")
    ctx: Context = server.app.state.ctx
    await make_user(ctx, "clara")
    await make_group(ctx)
    photo = _photo(tmp_path / "baustelle.jpg")
    page = await browser.new_page()
    checker = Checker(page)
    main = page.locator("main")

    await page.goto(server.url + "/login")
    await page.fill("#f-username", "clara")
    await page.fill("#f-password", "correct horse battery")
    await main.get_by_role("button", name="Anmelden").click()
    await page.get_by_role("button", name="Abmelden").first.wait_for(state="attached")

    await page.goto(server.url + "/groups/breitband/new")
    await checker.accessible("new-thread-with-files-de")
    await page.fill("#f-title", "Baustelle vor dem Rathaus")
    await page.fill("#f-content", "So sieht es heute aus.")
    await page.locator("input[name=file]").first.set_input_files(str(photo))
    await page.locator("input[name=alt]").first.fill(ALT)
    await main.get_by_role("button", name="Veröffentlichen").click()
    assert await _h1(page) == "Baustelle vor dem Rathaus"

    picture = main.get_by_role("img", name=ALT)
    await picture.wait_for()
    src = await picture.get_attribute("src")
    assert src is not None and src.startswith("/media/"), src
    assert await picture.get_attribute("loading") == "lazy"
    loaded = await picture.evaluate("img => img.complete && img.naturalWidth")
    assert loaded > 0, "the browser could not load the picture"
    large = main.get_by_role("link", name=f"Bild groß öffnen: {ALT}")
    href = await large.get_attribute("href")
    assert href is not None and href.startswith("/media/")
    answer = await page.request.get(server.url + href)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/")
    await checker.check("thread-with-photo-de")
    assert checker.console_errors == []
