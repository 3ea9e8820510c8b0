"""Attachments and group pictures reach a real third-party server (issue 19): the Fedify
peer follows our group; a local user uploads a photo (with its alt text) and a PDF
through ``POST /api/v1/media`` and starts a thread with both (``media_ids``); the post
arrives at the peer with both attachments, the alt text as ``name``; the peer downloads
both files from their URLs; an admin gives the group an icon and a banner, and Fedify,
looking the group up, reads them as its ``icon`` and ``image``."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from fedi.core.context import Context
from tests.conftest import LiveServer
from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import follow_group, group_activities
from tests.support.federation_helpers import eventually
from tests.support.helpers import User, make_group, make_user

ALT = "Offener Graben an der Hauptstraße, darin drei orange Leerrohre"
# A small, valid PDF (one empty page), as an office suite writes the start and end.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
async def ours_media(instance: Callable[..., Awaitable[LiveServer]], tmp_path: Path
                     ) -> AsyncIterator[Demisa]:
    """``ours`` of tests/interop/conftest.py with a data folder for the uploads."""
    server = await instance(workers=1, data_dir=tmp_path)
    ctx: Context = server.app.state.ctx
    group = await make_group(ctx)
    assert group.public_key_id is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as api:
        yield Demisa(server, api, group.ap_id, group.public_key_id)


async def _upload(ours: Demisa, user: User, name: str, data: bytes, media_type: str,
                  alt: str | None = None) -> dict[str, Any]:
    answer = await ours.client.post(
        "/api/v1/media", headers=user.headers, files={"file": (name, data, media_type)},
        data={"alt": alt} if alt is not None else {})
    assert answer.status_code == 201, answer.text
    uploaded: dict[str, Any] = answer.json()
    return uploaded


async def test_attachments_and_the_group_icon_reach_the_peer(
        peer: FedifyPeer, ours_media: Demisa) -> None:
    ours = ours_media
    anna = await ours.user("anna")
    await follow_group(peer, ours)

    photo = await _upload(ours, anna, "graben.jpg", _jpeg(640, 480, (190, 120, 40)),
                          "image/jpeg", ALT)
    pdf = await _upload(ours, anna, "Foerderrichtlinie.pdf", PDF, "application/pdf")
    assert photo["alt"] == ALT and photo["media_type"] == "image/jpeg"
    assert pdf["media_type"] == "application/pdf"
    thread = await ours.call(
        "POST", "/api/v1/groups/breitband/threads", anna, status=201,
        json={"title": "Trassenbau Hauptstraße", "content": "Foto und Förderrichtlinie.",
              "media_ids": [photo["id"], pdf["id"]]})
    note_id = thread["ap_id"]

    # Delivered (the peer's software is unknown: the embedding Announce is one of two).
    announces = await group_activities(peer, ours, "Announce", 2)
    embedded = next(a for a in announces if isinstance(a["raw"]["object"], dict))
    note = embedded["raw"]["object"]["object"]
    assert note["id"] == note_id
    image_entry, pdf_entry = note["attachment"]
    assert image_entry["type"] == "Image" and image_entry["name"] == ALT
    assert image_entry["mediaType"] == "image/jpeg"
    assert (image_entry["width"], image_entry["height"]) == (640, 480)
    assert image_entry["url"] == photo["url"] and image_entry.get("blurhash")
    assert pdf_entry == {"type": "Document", "url": pdf["url"],
                         "mediaType": "application/pdf", "name": "Foerderrichtlinie.pdf"}

    # Fedify's own parser reads the same from the Note at its id.
    parsed = await peer.call("object_media", {"id": note_id})
    assert parsed["type"] == "Note"
    assert [(a["type"], a["url"], a["media_type"], a["name"]) for a in parsed["attachments"]
            ] == [("Image", photo["url"], "image/jpeg", ALT),
                  ("Document", pdf["url"], "application/pdf", "Foerderrichtlinie.pdf")]
    assert (parsed["attachments"][0]["width"], parsed["attachments"][0]["height"]) == (640, 480)

    # The peer downloads both files from where the attachments say.
    got_image = await peer.call("fetch_media", {"url": image_entry["url"]})
    assert got_image["content_type"] == "image/jpeg" and got_image["length"] > 0, got_image
    with Image.open(io.BytesIO((await ours.client.get(image_entry["url"])).content)) as img:
        assert img.size == (640, 480)
    got_pdf = await peer.call("fetch_media", {"url": pdf_entry["url"]})
    assert got_pdf["content_type"] == "application/pdf", got_pdf
    assert got_pdf["length"] == len(PDF)
    assert got_pdf["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (got_pdf["content_disposition"] or "").startswith("attachment")

    # The group's pictures: an admin sets an icon and a banner; Fedify reads them.
    admin = await make_user(ours.ctx, "chefin", admin=True)
    icon = await _upload(ours, admin, "wappen.jpg", _jpeg(256, 256, (20, 80, 160)),
                         "image/jpeg", "Wappen der Gemeinde")
    banner = await _upload(ours, admin, "panorama.jpg", _jpeg(1200, 300, (40, 140, 60)),
                           "image/jpeg", "Panorama des Ortes")
    await ours.call("PATCH", "/api/v1/admin/groups/breitband", admin,
                    json={"icon_media_id": icon["id"], "banner_media_id": banner["id"]})

    async def pictures() -> dict[str, Any]:
        found = await peer.call("actor_images", {"id": ours.group_id})
        assert found["icon"] is not None and found["image"] is not None, found
        return found

    seen = await eventually(pictures)
    assert seen["id"] == ours.group_id and seen["type"] == "Group"
    for picture in (seen["icon"], seen["image"]):
        assert picture["url"].startswith(ours.server.url + "/media/"), picture
        assert picture["media_type"] is not None and picture["media_type"].startswith("image/")
        fetched = await peer.call("fetch_media", {"url": picture["url"]})
        assert fetched["content_type"] == picture["media_type"], fetched
    await ours.idle()
