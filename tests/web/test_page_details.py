"""Details testers found missing (issue 11): a favicon, and dates in one format per
language without seconds, machine-readable in <time datetime>."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import User, make_group
from tests.web.conftest import Client

# HTML's "valid global date and time string" (at most three digits of a second's fraction).
HTML_DATETIME = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$")
TIME = re.compile(r'<time datetime="([^"]*)">([^<]*)</time>')


async def test_favicon(app_client: httpx.AsyncClient) -> None:
    start = await app_client.get("/")
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in start.text
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in start.text
    ico = await app_client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.headers["content-type"] in ("image/vnd.microsoft.icon", "image/x-icon")
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    svg = await app_client.get("/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "<script" not in svg.text
    for response in (ico, svg):
        cache = response.headers["cache-control"]
        assert "public" in cache and int(re.search(r"max-age=(\d+)", cache)[1]) >= 86400
        assert response.headers.get("etag")
    again = await app_client.get("/favicon.ico", headers={"If-None-Match": ico.headers["etag"]})
    assert again.status_code == 304
    assert (await app_client.head("/favicon.ico")).status_code == 200


async def test_dates_have_one_format_without_seconds(client_for: Client, ctx: Context,
                                                     alice: User) -> None:
    group = await make_group(ctx)
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Baustelle", content="Wie lange noch?")
    when = datetime(2026, 12, 4, 13, 5, 33, 123456, tzinfo=UTC)
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET published = $2, last_activity_at = $2"
                           " WHERE id = $1", thread.id, when)
        await conn.execute("UPDATE accounts SET created_at = $2 WHERE id = $1",
                           alice.account.id, when)
    browser = await client_for()
    for url in ("/", "/groups/breitband", f"/posts/{thread.id}", "/users/alice"):
        page = await browser.get(url)
        times = TIME.findall(page.text)
        assert times, f"{url} shows no date"
        for machine, shown in times:
            assert HTML_DATETIME.match(machine), (url, machine)
            assert not re.search(r"\d:\d\d:\d\d", shown), (url, shown)
        assert ("2026-12-04T13:05:33Z", "4. Dezember 2026, 14:05") in times, (url, times)
    english = await browser.get("/users/alice", headers={"Accept-Language": "en"})
    assert ("2026-12-04T13:05:33Z", "4 December 2026, 14:05") in TIME.findall(english.text)
