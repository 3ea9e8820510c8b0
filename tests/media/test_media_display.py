"""Attachments and pictures on our pages (issue 19): a thread and a reply with a photo and
a PDF uploaded through the API show the photo's preview with its alt text and a link to
the large version, and the PDF as a download with its type, size and name; avatars and
group icons appear in author lines, on the profile, the group page (with its banner) and
the group list, with initials where there is no picture."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from fedi.web.media_display import document_kind, file_size, initials
from tests.conftest import LiveServer
from tests.support.helpers import User, make_group, make_user

HTML = {"Accept": "text/html", "Accept-Language": "de"}
ALT = "Lageplan der neuen Leerrohre entlang der Bahnhofstraße"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _image(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 90)).save(out, format=fmt)
    return out.getvalue()


async def _upload(client: httpx.AsyncClient, user: User, name: str, data: bytes,
                  media_type: str, alt: str | None = None) -> dict[str, Any]:
    answer = await client.post("/api/v1/media", headers=user.headers,
                               files={"file": (name, data, media_type)},
                               data={"alt": alt} if alt else {})
    assert answer.status_code == 201, answer.text
    uploaded: dict[str, Any] = answer.json()
    return uploaded


def _tag(page: str, pattern: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return match.group(0)


async def test_pages_show_attachments_and_pictures(
        instance: Callable[..., Awaitable[LiveServer]], tmp_path: Path) -> None:
    server = await instance(data_dir=tmp_path)
    ctx = server.app.state.ctx
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    admin = await make_user(ctx, "chefin", admin=True)
    await make_group(ctx, "breitband", title="Breitbandausbau")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        photo = await _upload(client, anna, "plan.png", _image("PNG", (900, 600)),
                              "image/png", ALT)
        pdf = await _upload(client, anna, "Foerderrichtlinie.pdf", PDF, "application/pdf")
        thread = (await client.post(
            "/api/v1/groups/breitband/threads", headers=anna.headers,
            json={"title": "Leerrohre Bahnhofstraße", "content": "Plan und Richtlinie.",
                  "media_ids": [photo["id"], pdf["id"]]})).json()
        second = await _upload(client, ben, "foto.jpg", _image("JPEG", (400, 300)),
                               "image/jpeg", "Baugrube mit Leerrohren")
        reply = await client.post(f"/api/v1/posts/{thread['id']}/replies",
                                  headers=ben.headers,
                                  json={"content": "So sieht es aus.",
                                        "media_ids": [second["id"]]})
        assert reply.status_code == 201, reply.text
        avatar = await _upload(client, anna, "anna.png", _image("PNG", (128, 128)), "image/png",
                               "Anna")
        assert (await client.patch("/api/v1/me", headers=anna.headers,
                                   json={"avatar_media_id": avatar["id"]})).status_code == 200
        icon = await _upload(client, admin, "icon.png", _image("PNG", (128, 128)), "image/png",
                             "Wappen")
        banner = await _upload(client, admin, "banner.jpg", _image("JPEG", (1200, 300)),
                               "image/jpeg", "Ortsansicht")
        answer = await client.patch("/api/v1/admin/groups/breitband", headers=admin.headers,
                                    json={"icon_media_id": icon["id"],
                                          "banner_media_id": banner["id"]})
        assert answer.status_code == 200, answer.text

        page = (await client.get(f"/posts/{thread['id']}", headers=HTML)).text
        path = photo["preview_url"].removeprefix(server.url)
        img = _tag(page, r'<img src="' + re.escape(path) + r'"[^>]*>')
        assert f'alt="{ALT}"' in img and 'loading="lazy"' in img
        assert 'width="900" height="600"' in img
        large = photo["url"].removeprefix(server.url)
        assert (f'<a class="attachment-open" href="{large}" aria-label="Bild groß öffnen: '
                f'{ALT}">Bild groß öffnen</a>') in page
        pdf_path = pdf["url"].removeprefix(server.url)
        link = _tag(page, r'<li><a href="' + re.escape(pdf_path) + r'" download>[^<]*</a>'
                          r' <span class="attachment-meta">[^<]*</span></li>')
        assert ">Foerderrichtlinie.pdf</a>" in link
        assert f"(PDF, {len(PDF)} Byte)" in link
        # The reply (the page's inlined loop) shows its photo too.
        assert 'alt="Baugrube mit Leerrohren"' in page
        # Anna's avatar beside her name (decorative), Ben's initials.
        assert re.search(r'<img class="avatar avatar-small" src="/media/[^"]+" alt=""', page)
        assert '<span class="avatar avatar-small avatar-initials" aria-hidden="true">B</span>' \
            in page
        # No address of another server, and our own files as paths (same origin).
        assert "http://" not in "".join(re.findall(r'<img [^>]*>', page))

        group_page = (await client.get("/groups/breitband", headers=HTML)).text
        assert re.search(r'<img class="group-banner" src="/media/[^"]+" alt=""', group_page)
        assert re.search(r'<img class="avatar avatar-large" src="/media/[^"]+" alt=""',
                         group_page)
        start = (await client.get("/", headers=HTML)).text
        assert re.search(r'<img class="avatar avatar-small" src="/media/[^"]+" alt=""', start)
        profile = (await client.get("/users/ben", headers=HTML)).text
        assert ('<span class="avatar avatar-large avatar-initials" aria-hidden="true">B</span>'
                in profile)


def test_sizes_types_and_initials() -> None:
    assert file_size(1_234_567, "de") == "1,2 MB"
    assert file_size(1_234_567, "en") == "1.2 MB"
    assert file_size(340_000, "de") == "340 kB"
    assert file_size(512, "de") == "512 Byte"
    assert file_size(None, "de") == ""
    assert document_kind("application/pdf") == "PDF"
    assert document_kind("application/vnd.oasis.opendocument.spreadsheet") == "ODS"
    assert document_kind("application/octet-stream", "karte.kmz") == "KMZ"
    assert document_kind(None, None) == ""
    assert initials("Anna Berg") == "AB"
    assert initials("breitband") == "B"
    assert initials("  ") == "?"
