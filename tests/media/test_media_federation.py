"""Attachments and pictures in what we send (issue 19): a post's Note carries its
``posts.attachments`` as Mastodon sends them (``Image``/``Document`` with ``url``,
``mediaType``, ``name``, ``width``, ``height``, ``blurhash``), actors carry ``icon`` and
groups ``image``; what arrives keeps the same fields.

The attachments are written here in the shape the upload service stores
(``fedi.forum.media.attachment_item``); uploading itself is tested in the other files of
this folder and end to end in tests/interop/test_fedify_media.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from activitypub import vocab
from fedi.core.context import Context
from fedi.forum.posts import create_reply, create_thread
from fedi.inbound.posts import post_values
from tests.support.corpus import CORPUS
from tests.support.helpers import make_group, make_user

AP = {"Accept": "application/activity+json"}


def _ctx(client: httpx.AsyncClient) -> Context:
    ctx: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def _get_ap(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await client.get(url, headers=AP)
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


async def test_a_note_carries_its_attachments(app_client: httpx.AsyncClient) -> None:
    ctx = _ctx(app_client)
    anna = await make_user(ctx, "anna")
    group = await make_group(ctx, "breitband")
    thread = await create_thread(ctx, author=anna.actor, group=group, title="Trassenplan",
                                 content="Der Plan und ein Foto der Baustelle.")
    reply = await create_reply(ctx, author=anna.actor, parent=thread, content="Nachtrag")
    base = ctx.settings.base_url
    image = {"type": "Image", "url": f"{base}/media/{'a' * 64}.jpg", "media_type": "image/jpeg",
             "name": "Offener Graben an der Hauptstraße mit Leerrohren", "width": 1200,
             "height": 800, "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj", "media_id": 7,
             "preview_url": f"{base}/media/{'a' * 64}-preview.webp", "size": 182_000,
             "filename": "graben.jpg"}
    pdf = {"type": "Document", "url": f"{base}/media/{'b' * 64}.pdf",
           "media_type": "application/pdf", "name": "Trassenplan.pdf", "width": None,
           "height": None, "blurhash": None, "media_id": 8, "preview_url": None,
           "size": 1_234_567, "filename": "Trassenplan.pdf"}
    remote_style = {"url": "https://files.example/x.png", "media_type": "image/png",
                    "name": None}  # an older row: no type, no sizes
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET attachments = $2 WHERE id = $1", thread.id,
                           [image, pdf])
        await conn.execute("UPDATE posts SET attachments = $2 WHERE id = $1", reply.id,
                           [remote_style])

    note = await _get_ap(app_client, thread.ap_id)
    assert note["attachment"] == [
        {"type": "Image", "url": image["url"], "mediaType": "image/jpeg",
         "name": image["name"], "width": 1200, "height": 800, "blurhash": image["blurhash"]},
        {"type": "Document", "url": pdf["url"], "mediaType": "application/pdf",
         "name": "Trassenplan.pdf"},
    ]
    assert (await _get_ap(app_client, reply.ap_id))["attachment"] == [
        {"type": "Image", "url": "https://files.example/x.png", "mediaType": "image/png"}]
    # What we send parses back to the same attachments (our own reader, as a peer reads).
    parsed = vocab.parse(note)
    assert isinstance(parsed, vocab.APObject)
    stored = post_values(parsed)["attachments"]
    assert [(a["type"], a["url"], a["name"], a["width"]) for a in stored] == [
        ("Image", image["url"], image["name"], 1200),
        ("Document", pdf["url"], "Trassenplan.pdf", None)]

    # A post without attachments says nothing about them.
    plain = await create_thread(ctx, author=anna.actor, group=group, title="Ohne",
                                content="Nur Text")
    assert "attachment" not in await _get_ap(app_client, plain.ap_id)


async def test_actors_carry_icon_and_groups_their_banner(app_client: httpx.AsyncClient
                                                         ) -> None:
    ctx = _ctx(app_client)
    anna = await make_user(ctx, "anna")
    group = await make_group(ctx, "breitband")
    base = ctx.settings.base_url
    icon = f"{base}/media/{'c' * 64}.webp"
    banner = f"{base}/media/{'d' * 64}.jpg"
    avatar = f"{base}/media/{'e' * 64}.png"
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE actors SET icon_url = $2, image_url = $3 WHERE id = $1",
                           group.id, icon, banner)
        await conn.execute("UPDATE actors SET icon_url = $2, image_url = $3 WHERE id = $1",
                           anna.actor.id, avatar, banner)
    doc = await _get_ap(app_client, group.ap_id)
    assert doc["icon"] == {"type": "Image", "url": icon, "mediaType": "image/webp"}
    assert doc["image"] == {"type": "Image", "url": banner, "mediaType": "image/jpeg"}
    person = await _get_ap(app_client, anna.actor.ap_id)
    assert person["icon"] == {"type": "Image", "url": avatar, "mediaType": "image/png"}
    assert "image" not in person  # banners are for groups

    # Without pictures the documents carry neither.
    bare = await make_group(ctx, "ohnebild", title="Ohne Bild")
    doc = await _get_ap(app_client, bare.ap_id)
    assert "icon" not in doc and "image" not in doc


def test_what_arrives_keeps_type_sizes_and_blurhash() -> None:
    """Mastodon's attachment fields (the corpus status) and odd values, tolerated."""
    status = json.loads((CORPUS / "mastodon" / "objects" / "note_2.json").read_text())
    parsed = vocab.parse(status)
    assert isinstance(parsed, vocab.APObject)
    [item] = post_values(parsed)["attachments"]
    assert item == {"type": "Document", "url": status["attachment"][0]["url"],
                    "media_type": "image/jpeg", "name": status["attachment"][0]["name"],
                    "width": 1500, "height": 1095,
                    "blurhash": "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc"}
    odd = {**status, "attachment": [
        {"type": "Image", "url": "https://x.example/a.png", "width": -3, "height": 10**9,
         "blurhash": "x" * 500},
        {"type": "Link", "href": "https://x.example/page"},
        {"type": "Document", "mediaType": "application/pdf"},  # no URL: left out
    ]}
    parsed = vocab.parse(odd)
    assert isinstance(parsed, vocab.APObject)
    assert post_values(parsed)["attachments"] == [
        {"type": "Image", "url": "https://x.example/a.png", "media_type": None, "name": None,
         "width": None, "height": None, "blurhash": None},
        {"type": "Link", "url": "https://x.example/page", "media_type": None, "name": None,
         "width": None, "height": None, "blurhash": None},
    ]
