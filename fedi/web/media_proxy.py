"""Remote images through our own server (issue 19): ``GET /media-proxy/{sig}/{url}``.

Pages never point a reader's browser at another server: a remote post's images, remote
avatars, group icons and banners are shown as :func:`image_src` URLs of this proxy.

- **Not an open proxy.** The URL path carries the remote URL (base64url) and an HMAC of it
  under the instance's ``media_proxy`` secret (``storage.instance_secrets``, migration
  0033: random, the same for every process on the database). Only URLs our own pages
  signed are fetched; anything else is a 404.
- **Safe fetch.** ``activitypub.fetch.guarded_get``: the address guard before every hop and
  on the connected peer (no private addresses unless ``FEDI_ALLOW_PRIVATE_ADDRESSES``, as
  for every other fetch), at most 3 redirects, 10 s, the body cut off at
  ``FEDI_MEDIA_MAX_MB`` (default 10 MB, counted after decompression).
- **Images only.** The answer's ``Content-Type`` must be JPEG, PNG, WebP or GIF *and* the
  bytes must start like one of them; then Pillow decodes and re-encodes the picture
  (in the same format, metadata dropped, still images at most 2048 pixels a side), so
  no byte of the remote file reaches the browser as it came. HTML, SVG and anything else
  is refused (502).
- **Cached** in the process: the re-encoded bytes of the most recently used URLs, up to
  :data:`CACHE_BYTES` in all (least recently used dropped; every process its own; a
  restart empties it), and a failure for 5 minutes. Browsers may keep an answer a day
  (``Cache-Control``).
- **Answers:** 200 with ``X-Content-Type-Options: nosniff``, ``Content-Security-Policy:
  default-src 'none'; sandbox`` and ``Cross-Origin-Resource-Policy: same-origin``; a bad
  signature or a URL the remote server does not have: 404; the remote server failing,
  too large, or not an image: 502. Never a 500.

Documents of remote posts are not proxied: pages link them (``rel="nofollow noopener"``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import logging
import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import Response

from activitypub.errors import FetchError
from activitypub.fetch import guarded_get
from fedi.core.context import Context
from fedi.forum.media import IMAGE_TYPES
from storage import instance_secrets

__all__ = [
    "CACHE_BYTES",
    "ProxyCache",
    "image_src",
    "prepare",
    "proxy",
    "proxy_path",
    "sniff",
]

log = logging.getLogger(__name__)

PREFIX = "/media-proxy/"
SECRET_NAME = "media_proxy"  # noqa: S105 - the row of instance_secrets, not a secret
_STATE_KEY = "media_proxy_key"
_STATE_CACHE = "media_proxy_cache"


CACHE_BYTES = 64 * 1_000_000
MAX_SIDE = 2048
MAX_PIXELS = 40_000_000  # decoded size refused above this (a decompression bomb)
BROWSER_MAX_AGE = 86_400
FAILURE_SECONDS = 300.0
FAILURES_KEPT = 1000

ACCEPT = "image/webp,image/png,image/jpeg,image/gif;q=0.9"
ALLOWED = IMAGE_TYPES  # the picture types uploads take (forum/media.py), to Pillow's names
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
}


# --- signing -------------------------------------------------------------------------------

def _mac(key: bytes, url: str) -> str:
    digest = hmac.new(key, b"media-proxy:" + url.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _encode(url: str) -> str:
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _decode(encoded: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def proxy_path(key: bytes, url: str) -> str:
    """The path on this instance that shows the remote image at ``url``."""
    return f"{PREFIX}{_mac(key, url)}/{_encode(url)}"


@dataclass(frozen=True)
class _Signer:
    key: bytes
    base_url: str

    def src(self, url: str) -> str:
        if url.startswith(self.base_url + "/"):
            return url[len(self.base_url):]  # our own media: same origin, no proxy
        if urlsplit(url).scheme not in ("http", "https"):
            return ""
        return proxy_path(self.key, url)


# The page being rendered (set by prepare(), read by the templates' ``image_src``).
_signer: ContextVar[_Signer | None] = ContextVar("media_proxy_signer", default=None)


async def _key(request: Request, conn: Any) -> bytes:
    key = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(key, bytes):
        key = await instance_secrets.secret(conn, SECRET_NAME)
        setattr(request.app.state, _STATE_KEY, key)
    return key


async def prepare(request: Request, conn: Any) -> None:
    """Let this request's templates sign image URLs (``image_src``); the key is read
    once per application."""
    ctx: Context = request.app.state.ctx
    _signer.set(_Signer(await _key(request, conn), ctx.settings.base_url))


def image_src(url: str | None) -> str:
    """What an ``<img src>`` of a page says for an image at ``url``: our own media as a
    path, another server's through the proxy, "" when it cannot be shown."""
    signer = _signer.get()
    if not url or signer is None:
        return ""
    return signer.src(url)


# --- the cache ----------------------------------------------------------------------------

class ProxyCache:
    """Re-encoded images by URL, least recently used dropped beyond ``limit`` bytes; and
    the URLs that failed, for :data:`FAILURE_SECONDS` (at most :data:`FAILURES_KEPT`), so
    that a broken picture on a busy page does not send every reader's request on to its
    server."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._failed: OrderedDict[str, tuple[float, int, bytes]] = OrderedDict()

    def failure(self, url: str) -> Response | None:
        found = self._failed.get(url)
        if found is None:
            return None
        expires, status, body = found
        if expires < time.monotonic():
            del self._failed[url]
            return None
        return _text(status, body)

    def fail(self, url: str, answer: Response) -> None:
        self._failed.pop(url, None)
        self._failed[url] = (time.monotonic() + FAILURE_SECONDS, answer.status_code,
                             bytes(answer.body))
        while len(self._failed) > FAILURES_KEPT:
            self._failed.popitem(last=False)

    def get(self, url: str) -> tuple[str, bytes] | None:
        found = self._items.get(url)
        if found is not None:
            self._items.move_to_end(url)
        return found

    def put(self, url: str, media_type: str, body: bytes) -> None:
        if len(body) > self.limit:
            return
        old = self._items.pop(url, None)
        if old is not None:
            self.size -= len(old[1])
        self._items[url] = (media_type, body)
        self.size += len(body)
        while self.size > self.limit:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= len(dropped)


def _cache(request: Request) -> ProxyCache:
    cache = getattr(request.app.state, _STATE_CACHE, None)
    if not isinstance(cache, ProxyCache):
        cache = ProxyCache()
        setattr(request.app.state, _STATE_CACHE, cache)
    return cache


# --- checking and re-encoding ---------------------------------------------------------------

def sniff(body: bytes) -> str | None:
    """The image type the bytes start like (JPEG, PNG, WebP, GIF; decided by ``filetype``
    as for uploads), else None."""
    found = filetype.guess_mime(body[:8192])
    return found if found in ALLOWED else None


class _NotAnImage(Exception):
    pass


def _reencode(body: bytes, media_type: str) -> bytes:
    """Decode and encode again in the same format, without metadata; still images at most
    :data:`MAX_SIDE` pixels a side."""
    fmt = ALLOWED[media_type]
    try:
        with Image.open(io.BytesIO(body), formats=[fmt]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _NotAnImage(f"{width}x{height} pixels is too large")
            frames = getattr(image, "n_frames", 1)
            out = io.BytesIO()
            if frames > 1:
                image.save(out, format=fmt, save_all=True)
                return out.getvalue()
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((MAX_SIDE, MAX_SIDE))
            if fmt == "JPEG":
                picture.convert("RGB").save(out, format=fmt, quality=85, optimize=True)
            else:
                picture.save(out, format=fmt)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            EOFError, SyntaxError) as exc:
        raise _NotAnImage(str(exc)) from exc


# --- the route ------------------------------------------------------------------------------

def _text(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="text/plain; charset=utf-8",
                    headers={**HEADERS, "Cache-Control": "no-store"})


def _refusal(status: int, german: str, english: str) -> Response:
    return _text(status, f"{german}\n{english}\n".encode())


def _not_found() -> Response:
    return _refusal(404, "Dieses Bild gibt es hier nicht.", "There is no such image here.")


def _bad_gateway(reason: str) -> Response:
    return _refusal(502, f"Das Bild des anderen Servers kann nicht gezeigt werden ({reason}).",
                    f"The other server's image cannot be shown ({reason}).")


async def proxy(request: Request) -> Response:
    """``GET /media-proxy/{sig}/{encoded}``: the remote image, checked and re-encoded."""
    ctx: Context = request.app.state.ctx
    url = _decode(request.path_params["encoded"])
    if url is None or urlsplit(url).scheme not in ("http", "https"):
        return _not_found()
    async with ctx.pool.acquire() as conn:
        key = await _key(request, conn)
    if not hmac.compare_digest(_mac(key, url), request.path_params["sig"]):
        return _not_found()
    cache = _cache(request)
    found = cache.get(url)
    if found is None:
        failed = cache.failure(url)
        if failed is not None:
            return failed
        fetched = await _fetch(ctx, url)
        if isinstance(fetched, Response):
            cache.fail(url, fetched)
            return fetched
        found = fetched
        cache.put(url, *found)
    media_type, body = found
    return Response(body, media_type=media_type, headers={
        **HEADERS, "Cache-Control": f"public, max-age={BROWSER_MAX_AGE}",
        "Content-Disposition": "inline"})


async def _fetch(ctx: Context, url: str) -> tuple[str, bytes] | Response:
    try:
        answer = await guarded_get(
            ctx.http, url, headers={"Accept": ACCEPT}, auth=None,
            allow_private=ctx.settings.allow_private_addresses, timeout=10.0,
            max_bytes=ctx.settings.media_max_mb * 1_000_000)
    except FetchError as exc:
        log.info("media proxy: %s: %s", url, exc)
        return _bad_gateway("nicht erreichbar, zu groß oder abgelehnt / unreachable, too "
                            "large or refused")
    if answer.status in (404, 410):
        return _not_found()
    if answer.status != 200:
        return _bad_gateway(f"HTTP {answer.status}")
    declared = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    sniffed = sniff(answer.body)
    if declared not in ALLOWED or sniffed is None:
        log.info("media proxy: %s is %r (%s), not an image", url, declared, sniffed)
        return _bad_gateway("kein Bild / not an image")
    try:
        body = await asyncio.to_thread(_reencode, answer.body, sniffed)
    except _NotAnImage as exc:
        log.info("media proxy: %s could not be decoded: %s", url, exc)
        return _bad_gateway("kein lesbares Bild / not a readable image")
    return sniffed, body
