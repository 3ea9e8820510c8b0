"""Fixtures for the web forum tests: a logged-in browser-like client over ASGI."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from tests.support.helpers import User, make_group, make_user

PASSWORD = "correct horse battery"  # the password tests.support.helpers.make_user sets
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, page_url: str, action: str,
                    data: dict[str, str], **kwargs: Any) -> httpx.Response:
    """Load ``page_url`` (for its CSRF token), then submit ``data`` to ``action``."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={**data, "csrf_token": csrf_of(page.text)}, **kwargs)


async def log_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    response = await post_form(client, "/login", "/login",
                               {"username": username, "password": password})
    assert response.status_code == 303, response.text
    assert client.cookies.get("demisa_session")


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    context: Context = app_client.app.state.ctx  # type: ignore[attr-defined]
    return context


@pytest.fixture
async def alice(ctx: Context) -> User:
    return await make_user(ctx, "alice")


@pytest.fixture
async def group(ctx: Context) -> Any:
    return await make_group(ctx)


@pytest.fixture
async def client_as_alice(app_client: httpx.AsyncClient,
                          alice: User) -> AsyncIterator[httpx.AsyncClient]:
    await log_in(app_client, "alice")
    yield app_client


Client = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for(app_client: httpx.AsyncClient) -> AsyncIterator[Client]:
    """Factory: another browser on the same app, logged in as ``username`` (or not)."""
    opened: list[httpx.AsyncClient] = []

    async def make(username: str | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app_client.app)  # type: ignore[attr-defined]
        client = httpx.AsyncClient(transport=transport, base_url=str(app_client.base_url))
        opened.append(client)
        if username is not None:
            await log_in(client, username)
        return client

    yield make
    for client in opened:
        await client.aclose()


class _Outline(HTMLParser):
    """Collects the h1 texts and the <html lang> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.h1: list[str] = []
        self.lang: str | None = None
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        elif tag == "h1":
            self._in_h1 = True
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1[-1] += data


def outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def only_h1(html: str) -> str:
    """The text of the page's one h1 (fails when there is none or more than one)."""
    found = outline(html).h1
    assert len(found) == 1, f"expected exactly one h1, found {found}"
    return " ".join(found[0].split())
