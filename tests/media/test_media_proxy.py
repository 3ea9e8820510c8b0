"""Remote images through the media proxy (issue 19): a real Mastodon status with an image
(the corpus's ``mastodon/objects/note_2.json``, KDE's donation post on floss.social)
arrives at our inbox, signed, over loopback; its thread page shows the picture and the
author's avatar only through ``/media-proxy/``, and the proxy serves the picture it
fetched from a loopback server standing in for Mastodon's media host.

Rewritten in the payload, and only these: the status's id, author and addressing (to an
actor of the test peer and our group, as the inbound path requires them to be on the
signer's host and to name a group here), ``inReplyTo`` dropped (the post it answers is
not in the corpus: it becomes a thread), and the scheme and host of the attachment URL
(``https://cdn.masto.host`` -> the loopback image server; the path is kept).
"""

from __future__ import annotations

import copy
import html
import io
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.web.media_proxy import proxy_path
from storage import instance_secrets
from storage import posts as post_store
from tests.conftest import LiveServer
from tests.support.constants import PUBLIC
from tests.support.corpus import CORPUS
from tests.support.inbound_fixtures import Fed, fed, peer

__all__ = ["fed", "peer"]  # fixtures

STATUS = CORPUS / "mastodon" / "objects" / "note_2.json"
HTML = {"Accept": "text/html"}
IMG = re.compile(r'<img (?P<attrs>[^>]*)>')


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


def _png(size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (20, 90, 160)).save(out, format="PNG")
    return out.getvalue()


class ImageHost:
    """Stands in for a Mastodon media host: the status's picture, an avatar, and files
    that only claim to be pictures."""

    def __init__(self) -> None:
        self.picture = _jpeg(150, 110)  # the original is 1500x1095: same proportions
        self.avatar = _png(48)
        self.gets: list[str] = []

    def app(self, _port: int) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.get, methods=["GET"])])

    async def get(self, request: Request) -> Response:
        path = request.url.path
        self.gets.append(path)
        if path.endswith("/original/c8d906a2f2ab2334.jpg"):
            return Response(self.picture, media_type="image/jpeg")
        if path == "/avatars/kde.png":
            return Response(self.avatar, media_type="image/png")
        if path == "/html-named.png":  # HTML claiming to be a PNG
            return Response(b"<html><script>alert(1)</script></html>", media_type="image/png")
        if path == "/page.jpg":  # an HTML page
            return Response(b"<!doctype html><title>x</title>", media_type="text/html")
        if path == "/big.jpg":  # over a 1 MB limit
            return Response(b"\xff\xd8\xff\xe0" + bytes(1_500_000), media_type="image/jpeg")
        if path == "/drawing.svg":
            return Response(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                            b"</script></svg>", media_type="image/svg+xml")
        return Response(b"not here", status_code=404)


def _status(ours: Fed, author: dict[str, Any], media_base: str) -> dict[str, Any]:
    """The corpus status, rewritten as the module docstring says."""
    doc = json.loads(STATUS.read_text())
    obj = copy.deepcopy(doc)
    context = obj.pop("@context")
    status_id = author["id"] + "/statuses/113306831140126616"
    obj.update({
        "id": status_id, "atomUri": status_id, "attributedTo": author["id"],
        "url": author["id"].replace("/users/", "/@") + "/113306831140126616",
        "inReplyTo": None, "inReplyToAtomUri": None,
        "to": [PUBLIC], "cc": [author["followers"], ours.group.ap_id],
        "tag": [{"type": "Mention", "href": ours.group.ap_id,
                 "name": f"@{ours.group.handle}"}],
    })
    obj["replies"]["id"] = status_id + "/replies"
    for item in obj["attachment"]:
        item["url"] = item["url"].replace("https://cdn.masto.host", media_base)
    return {"@context": context, "id": status_id + "/activity", "type": "Create",
            "actor": author["id"], "published": obj["published"], "to": obj["to"],
            "cc": obj["cc"], "object": obj}


def _images(page: str) -> list[dict[str, str]]:
    found = []
    for match in IMG.finditer(page):
        attrs = dict((k, html.unescape(v))
                     for k, v in re.findall(r'([a-z-]+)="([^"]*)"', match["attrs"]))
        found.append(attrs)
    return found


async def test_a_mastodon_picture_is_shown_through_the_proxy(
        fed: Fed, live_server: Callable[..., Awaitable[LiveServer]]) -> None:
    host = ImageHost()
    media = await live_server(host.app)
    author = fed.remote(0, "kde", icon={"type": "Image", "mediaType": "image/png",
                                        "url": media.url + "/avatars/kde.png"})
    activity = _status(fed, author, media.url)
    await fed.send(author, activity)
    await fed.process()
    async with fed.ctx.pool.acquire() as conn:
        post = await post_store.by_ap_id(conn, activity["object"]["id"])
    assert post is not None and post.is_thread
    original = json.loads(STATUS.read_text())["attachment"][0]
    assert post.attachments == [{
        "type": "Document", "url": activity["object"]["attachment"][0]["url"],
        "media_type": "image/jpeg", "name": original["name"], "width": 1500, "height": 1095,
        "blurhash": original["blurhash"]}]

    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        page = await client.get(f"/posts/{post.id}", headers=HTML)
        assert page.status_code == 200
        # No address of another server in any <img>: all pictures come through us.
        images = _images(page.text)
        assert images and all(i["src"].startswith("/media-proxy/") for i in images), images
        assert media.url not in page.text
        picture = next(i for i in images if i.get("alt") == original["name"])
        assert (picture["width"], picture["height"], picture["loading"]) == (
            "1500", "1095", "lazy")
        assert f'href="{picture["src"]}"' in page.text  # "open large"
        avatar = next(i for i in images if "avatar" in i.get("class", ""))
        assert avatar["alt"] == ""  # decorative: the author's name is beside it

        served = await client.get(picture["src"])
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
        assert "max-age" in served.headers["cache-control"]
        with Image.open(io.BytesIO(served.content)) as image:
            assert (image.format, image.size) == ("JPEG", (150, 110))
            red = image.convert("RGB").getpixel((75, 55))
            assert isinstance(red, tuple) and red[0] > 150  # the host's red picture
        fetched = len(host.gets)
        again = await client.get(picture["src"])
        assert again.content == served.content
        assert len(host.gets) == fetched  # cached: the host was not asked again

        icon = await client.get(avatar["src"])
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"

        # Tampering: another signature, or another URL under this signature.
        _, sig, encoded = picture["src"].rsplit("/", 2)
        forged_sig = ("A" if sig[0] != "A" else "B") + sig[1:]
        assert (await client.get(f"/media-proxy/{forged_sig}/{encoded}")).status_code == 404
        other = proxy_path(b"not our key", media.url + "/avatars/kde.png")
        assert (await client.get(other)).status_code == 404
        _, _, other_encoded = avatar["src"].rsplit("/", 2)
        assert (await client.get(f"/media-proxy/{sig}/{other_encoded}")).status_code == 404
        assert (await client.get("/media-proxy/x/%%%")).status_code == 404

        # Signed but not a picture: refused, never passed on.
        async with fed.ctx.pool.acquire() as conn:
            key = await instance_secrets.secret(conn, "media_proxy")
        for path in ("/html-named.png", "/page.jpg", "/drawing.svg"):
            refused = await client.get(proxy_path(key, media.url + path))
            assert refused.status_code == 502, (path, refused.text)
            assert refused.headers["content-type"].startswith("text/plain")
            assert b"<" not in refused.content
            assert "kein Bild" in refused.text or "kein lesbares Bild" in refused.text
        missing = await client.get(proxy_path(key, media.url + "/nothing.jpg"))
        assert missing.status_code == 404
        # A failure is remembered for a while: readers' requests do not all go on.
        again_refused = await client.get(proxy_path(key, media.url + "/page.jpg"))
        assert again_refused.status_code == 502
        assert host.gets.count("/page.jpg") == 1


async def test_the_proxy_fetches_no_private_address_unless_allowed(
        instance: Callable[..., Awaitable[LiveServer]],
        live_server: Callable[..., Awaitable[LiveServer]]) -> None:
    host = ImageHost()
    media = await live_server(host.app)
    server = await instance(allow_private_addresses=False)
    async with server.app.state.ctx.pool.acquire() as conn:
        key = await instance_secrets.secret(conn, "media_proxy")
    async with httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.get(proxy_path(key, media.url + "/avatars/kde.png"))
    assert answer.status_code == 502
    assert host.gets == []  # the guard refused before anything was sent


async def test_the_proxy_fetches_no_more_than_the_size_limit(
        instance: Callable[..., Awaitable[LiveServer]],
        live_server: Callable[..., Awaitable[LiveServer]]) -> None:
    host = ImageHost()
    media = await live_server(host.app)
    server = await instance(media_max_mb=1)
    async with server.app.state.ctx.pool.acquire() as conn:
        key = await instance_secrets.secret(conn, "media_proxy")
    async with httpx.AsyncClient(base_url=server.url) as client:
        too_big = await client.get(proxy_path(key, media.url + "/big.jpg"))
        small = await client.get(proxy_path(key, media.url + "/avatars/kde.png"))
    assert too_big.status_code == 502 and "zu groß" in too_big.text
    assert small.status_code == 200
