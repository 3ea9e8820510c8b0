"""Rendered pages for anonymous readers, kept in this process and checked against
PostgreSQL on every request, so several ``fedi serve`` processes stay correct.

A page may be cached when (1) its path matches a rule below, which names the version
scopes its content depends on (``storage.page_versions``: triggers of migration 0020
bump them on every write that changes what an anonymous reader sees), (2) the request
carries no session, no flash note and no Authorization, and does not ask for
ActivityPub, and (3) the page's handler says it rendered the anonymous page
(:func:`allow`). The key is (path, query, language, method-independent); the entry keeps
the versions read *before* the page was rendered, so a write that lands while it renders
makes the next request render again. A hit costs one indexed query.

Logged-in readers never get a cached page (CSRF tokens, their likes, unread marks). The
cached body never holds a CSRF token (checked before storing); a reader without the
CSRF cookie gets one, as on an uncached page.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedi.core import i18n
from fedi.routes.negotiation import wants_activitypub
from fedi.web.render import FLASH_COOKIE, LANG_COOKIE
from fedi.web.session import CSRF_COOKIE, SESSION_COOKIE, csrf_token, set_csrf_cookie
from storage import page_versions

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_STATE_KEY = "page_cache_allowed"
_CSRF_STATE_KEY = "web_csrf_new"  # fedi.web.session: a CSRF value made for this request

# path -> the version scopes its page depends on
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], list[str]]], ...] = (
    (re.compile(r"/posts/(\d{1,18})"),
     lambda m: [page_versions.GLOBAL, page_versions.thread_scope(int(m[1]))]),
)


def allow(request: Request) -> None:
    """Called by a page handler that rendered the page every anonymous reader gets."""
    request.state.page_cache_allowed = True


def scopes_for(path: str) -> list[str] | None:
    for pattern, scopes in _RULES:
        match = pattern.fullmatch(path)
        if match is not None:
            return scopes(match)
    return None


@dataclass(frozen=True)
class Entry:
    versions: tuple[int, ...]
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # without Set-Cookie
    body: bytes


class PageStore:
    """The pages of this process, least recently used dropped beyond ``max_bytes``
    (0 turns caching off)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str, str], Entry] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str]) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, str, str], entry: Entry) -> None:
        size = len(entry.body)
        if size > self.max_bytes // 4:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._entries[key] = entry
        self._bytes += size
        while self._bytes > self.max_bytes and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.body)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def store_of(app: Any) -> PageStore:
    store = getattr(app.state, "page_store", None)
    if store is None:
        store = app.state.page_store = PageStore()
    assert isinstance(store, PageStore)
    return store


def _cacheable_request(request: Request) -> bool:
    cookies = request.cookies
    if SESSION_COOKIE in cookies or FLASH_COOKIE in cookies:
        return False
    headers = request.headers
    return "authorization" not in headers and not wants_activitypub(headers.get("accept"))


class PageCache:
    """ASGI middleware serving cached anonymous pages (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        scopes = scopes_for(scope["path"])
        if scopes is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        store = store_of(scope["app"])
        if store.max_bytes <= 0 or not _cacheable_request(request):
            await self.app(scope, receive, send)
            return
        lang = i18n.pick_language(request.cookies.get(LANG_COOKIE),
                                  request.headers.get("accept-language"))
        key = (scope["path"], scope.get("query_string", b"").decode("latin-1"), lang)
        try:
            versions = await _versions(scope["app"], scopes)
        except Exception:  # the app answers (503 page) when the database is away
            log.debug("page cache: versions unavailable", exc_info=True)
            await self.app(scope, receive, send)
            return
        entry = store.get(key)
        if entry is not None and entry.versions == versions:
            store.hits += 1
            await _send_entry(request, entry, scope, receive, send)
            return
        store.misses += 1
        await self._render(request, store, key, versions, scope, receive, send)

    async def _render(self, request: Request, store: PageStore, key: tuple[str, str, str],
                      versions: tuple[int, ...], scope: Scope, receive: Receive,
                      send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        complete = False

        async def capture(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, capture)
        state = scope.get("state") or {}
        if (start is None or not complete or start["status"] != 200
                or scope["method"] != "GET" or not state.get(_STATE_KEY)):
            return
        body = b"".join(chunks)
        for token in (request.cookies.get(CSRF_COOKIE), state.get(_CSRF_STATE_KEY)):
            if token and token.encode() in body:
                return  # a form with this reader's token: not for anyone else
        headers = tuple((name, value) for name, value in start.get("headers", ())
                        if name.lower() != b"set-cookie")
        store.put(key, Entry(versions, start["status"], headers, body))


async def _versions(app: Any, scopes: Sequence[str]) -> tuple[int, ...]:
    async with app.state.ctx.pool.acquire() as conn:
        return await page_versions.current(conn, scopes)


async def _send_entry(request: Request, entry: Entry, scope: Scope, receive: Receive,
                      send: Send) -> None:
    response = Response(entry.body, status_code=entry.status)
    response.raw_headers = list(entry.headers)
    csrf_token(request)  # a reader without the CSRF cookie gets one, as before
    set_csrf_cookie(request, response)
    await response(scope, receive, send)
