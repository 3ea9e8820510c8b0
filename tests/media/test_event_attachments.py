"""Files and pictures on events (issue 19 for events, migration 0034): ``media_ids`` on
creating and changing an event (the same checks as posts), the event's JSON and its
ActivityPub ``Event`` carry them (``Image``/``Document`` beside the "Website" Link), the
event page shows them, the event form takes files without JavaScript, a file an event
uses survives the orphan cleanup and goes with the event; a Mobilizon ``Event`` with its
banner picture (tests/fixtures/corpus/mobilizon/objects/event.json) is shown through the
media proxy."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import media as media_service
from storage import events as event_store
from tests.conftest import LiveServer
from tests.media.conftest import jpeg_with_gps, pdf, png, stored_files
from tests.routes.test_openapi import Api
from tests.support.constants import PUBLIC
from tests.support.corpus import CORPUS
from tests.support.helpers import User, make_group
from tests.support.inbound_fixtures import Fed, fed, peer
from tests.web.conftest import csrf_of, log_in

__all__ = ["fed", "peer"]  # fixtures

AP = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html"}
EMPTY_SLOT = ("file", ("", b"", "application/octet-stream"))
MOBILIZON_EVENT = CORPUS / "mobilizon" / "objects" / "event.json"


def _soon(days: int = 10) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


async def _uploads(api: Api, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    image = await api("POST", "/api/v1/media", user, status=201,
                      data={"alt": "Lageplan des Kreishauses"},
                      files={"file": ("plan.jpg", jpeg_with_gps(), "image/jpeg")})
    document = await api("POST", "/api/v1/media", user, status=201,
                         files={"file": ("einladung.pdf", pdf(), "application/pdf")})
    return image, document


async def test_an_event_with_an_image_and_a_pdf(
        client: httpx.AsyncClient, ctx: Context, anna: User, ben: User) -> None:
    await make_group(ctx, moderators=[anna.actor])
    api = Api(client)
    image, document = await _uploads(api, anna)
    created = await api("POST", "/api/v1/groups/breitband/events", anna, status=201, json={
        "title": "Kreistag: Netzausbau", "starts_at": _soon(),
        "online_url": "https://meet.example/kreistag", "online_visibility": "public",
        "media_ids": [image["id"], document["id"]]})
    items = created["attachments"]
    assert [(a["type"], a["name"], a["media_id"]) for a in items] == [
        ("Image", "Lageplan des Kreishauses", image["id"]),
        ("Document", "einladung.pdf", document["id"])]
    assert items[0]["url"] == image["url"] and items[0]["preview_url"] == image["preview_url"]
    assert items[1]["media_type"] == "application/pdf"
    shown = await api("GET", f"/api/v1/events/{created['id']}", status=200)
    assert shown["attachments"] == items

    # The ActivityPub Event: the files as Image and Document, the Website Link beside them.
    path = created["ap_id"].removeprefix(ctx.settings.base_url)
    doc = (await client.get(path, headers=AP)).json()
    assert doc["attachment"] == [
        {"type": "Image", "url": image["url"], "mediaType": "image/jpeg",
         "name": "Lageplan des Kreishauses", "width": items[0]["width"],
         "height": items[0]["height"], "blurhash": items[0]["blurhash"]},
        {"type": "Document", "url": document["url"], "mediaType": "application/pdf",
         "name": "einladung.pdf"},
        {"type": "Link", "name": "Website", "href": "https://meet.example/kreistag",
         "mediaType": "text/html"}]

    # The event page: the picture with its alt text, the PDF in the list.
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200
    preview = image["preview_url"].removeprefix(ctx.settings.base_url)
    assert f'<img src="{preview}" alt="Lageplan des Kreishauses"' in page.text
    assert "einladung.pdf</a>" in page.text and "(PDF," in page.text

    # The same checks as for posts: somebody else's upload, one used elsewhere.
    bens = await api("POST", "/api/v1/media", ben, status=201, data={"alt": "Foto"},
                     files={"file": ("b.png", png(), "image/png")})
    r = await client.post("/api/v1/groups/breitband/events", headers=anna.headers, json={
        "title": "Fremd", "starts_at": _soon(), "media_ids": [bens["id"]]})
    assert r.status_code == 422 and r.json()["field"] == "media_ids", r.text
    r = await client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Doppelt", "content": "x", "media_ids": [image["id"]]})
    assert r.status_code == 422 and "already attached" in r.json()["message"]
    r = await client.post("/api/v1/groups/breitband/events", headers=anna.headers, json={
        "title": "Zu viele", "starts_at": _soon(), "media_ids": list(range(1, 12))})
    assert r.status_code == 422
    async with ctx.pool.acquire() as conn:  # a refused event left no thread behind
        assert await conn.fetchval("SELECT count(*) FROM posts WHERE title = 'Zu viele'") == 0

    # A change of the files alone: the PDF stays, the picture goes (nothing else uses it).
    changed = await api("PATCH", f"/api/v1/events/{created['id']}", anna, status=200,
                        json={"media_ids": [document["id"]]})
    assert [a["media_id"] for a in changed["attachments"]] == [document["id"]]
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM media WHERE id = $1",
                                   image["id"]) == 0


async def test_files_of_an_event_survive_the_cleanup_and_go_with_it(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    await make_group(ctx, moderators=[anna.actor])
    api = Api(client)
    image, document = await _uploads(api, anna)
    created = await api("POST", "/api/v1/groups/breitband/events", anna, status=201, json={
        "title": "Breitbandforum", "starts_at": _soon(),
        "media_ids": [image["id"], document["id"]]})
    files = stored_files(media_dir)
    assert len(files) == 3  # the picture, its preview, the PDF
    # Two days later the cleanup runs: the event's files are in use.
    later = datetime.now(UTC) + timedelta(days=2)
    assert await media_service.clean_unused(ctx, now=later) == 0
    assert stored_files(media_dir) == files
    # The alt text changed afterwards: the event's copy follows, and an Update(Event)
    # carrying it goes to the followers.
    await api("PATCH", f"/api/v1/media/{image['id']}", anna, status=200,
              json={"alt": "Neuer Lageplan"})
    shown = await api("GET", f"/api/v1/events/{created['id']}", status=200)
    assert shown["attachments"][0]["name"] == "Neuer Lageplan"
    async with ctx.pool.acquire() as conn:
        updates = [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
                   for r in await conn.fetch(
                       "SELECT payload FROM activities WHERE type = 'Update'"
                       " AND object_ap_id = $1 ORDER BY id", created["url"])]
    assert updates, "no Update(Event) after the alt text changed"
    names = [a.get("name") for a in updates[-1]["object"].get("attachment", [])
             if a.get("type") == "Image"]
    assert names == ["Neuer Lageplan"]
    # The event deleted: its files go at once.
    r = await client.delete(f"/api/v1/events/{created['id']}", headers=anna.headers)
    assert r.status_code == 204
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM media") == 0
    assert stored_files(media_dir) == []


async def test_the_event_form_takes_files_without_javascript(
        client: httpx.AsyncClient, ctx: Context, anna: User) -> None:
    await make_group(ctx, moderators=[anna.actor])
    await log_in(client, "anna")
    form = await client.get("/groups/breitband/events/new")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert "Datei 1" in form.text and "Beschreibung des Bildes (Alternativtext)" in form.text
    assert form.text.count('type="file" id="f-file-') == 3
    token = csrf_of(form.text)
    start = (datetime.now(UTC) + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")
    fields = {"csrf_token": token, "title": "", "description": "Tagesordnung folgt",
              "starts_at": start, "timezone": "Europe/Berlin"}
    # No title: the form comes back with the typed text and the upload kept.
    r = await client.post("/groups/breitband/events/new",
                          data={**fields, "alt": ["Saal im Kreishaus", ""]},
                          files=[("file", ("saal.png", png(), "image/png")), EMPTY_SLOT])
    assert r.status_code == 422, r.text
    assert "Tagesordnung folgt" in r.text
    async with ctx.pool.acquire() as conn:
        image_id = await conn.fetchval("SELECT id FROM media")
    assert f'name="media_id" value="{image_id}" checked' in r.text
    # An image without its description: refused in German, the text kept.
    r = await client.post("/groups/breitband/events/new",
                          data={**fields, "title": "Ratssitzung", "alt": [""]},
                          files=[("file", ("karte.png", png((30, 30)), "image/png"))])
    assert r.status_code == 422
    assert "Bitte beschreiben Sie das Bild" in r.text and 'value="Ratssitzung"' in r.text
    # Now with a title, the kept picture and a PDF.
    r = await client.post("/groups/breitband/events/new",
                          data={**fields, "title": "Ratssitzung", "media_id": str(image_id),
                                "alt": [""]},
                          files=[("file", ("tagesordnung.pdf", pdf(), "application/pdf"))])
    assert r.status_code == 303, r.text
    event_id = int(r.headers["location"].split("/events/")[1].split("?")[0])
    async with ctx.pool.acquire() as conn:
        event = await event_store.get(conn, event_id)
    assert event is not None
    assert [(a["type"], a["name"]) for a in event.attachments] == [
        ("Image", "Saal im Kreishaus"), ("Document", "tagesordnung.pdf")]
    page = await client.get(f"/events/{event_id}")
    assert 'alt="Saal im Kreishaus"' in page.text and "tagesordnung.pdf</a>" in page.text
    # The edit form shows the files as ticked boxes; unticking the picture removes it.
    edit = await client.get(f"/events/{event_id}/edit")
    assert f'name="media_id" value="{image_id}" checked' in edit.text
    documents = [a["media_id"] for a in event.attachments if a["type"] == "Document"]
    r = await client.post(f"/events/{event_id}/edit", data={
        **fields, "csrf_token": csrf_of(edit.text), "title": "Ratssitzung",
        "media_id": [str(m) for m in documents]}, files=[EMPTY_SLOT])
    assert r.status_code == 303, r.text
    async with ctx.pool.acquire() as conn:
        event = await event_store.get(conn, event_id)
        assert await conn.fetchval("SELECT count(*) FROM media WHERE id = $1", image_id) == 0
    assert event is not None and [a["media_id"] for a in event.attachments] == documents


class BannerHost:
    """Stands in for the Mobilizon instance's media: the event's banner picture."""

    def __init__(self) -> None:
        self.gets: list[str] = []

    def app(self, _port: int) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.get, methods=["GET"])])

    async def get(self, request: Request) -> Response:
        self.gets.append(request.url.path)
        if request.url.path.endswith(".jpg"):
            return Response(jpeg_with_gps((160, 90)), media_type="image/jpeg")
        return Response(b"not here", status_code=404)


async def test_a_mobilizon_event_shows_its_banner_through_the_proxy(
        fed: Fed, live_server: Callable[..., Awaitable[LiveServer]]) -> None:
    """The corpus Event (rendezvous.nomagic.uk): its hosts rewritten to the loopback peer
    (actors) and image server (the banner), addressed to our group as Mobilizon
    addresses a group's event; nothing else changed."""
    banner = BannerHost()
    media = await live_server(banner.app)
    mobilizon = fed.peer.hosts[0]
    text = MOBILIZON_EVENT.read_text()
    original = json.loads(text)
    text = text.replace("https://rendezvous.nomagic.uk/media/", media.url + "/media/")
    text = text.replace("https://rendezvous.nomagic.uk", mobilizon)
    obj = json.loads(text)
    obj["to"].append(fed.group.ap_id)
    organiser = fed.peer.actor(0, "/@emorrp1")
    fed.peer.actor(0, "/@devon_caledonian_society", type_="Group")
    context = obj.pop("@context")
    create = {"@context": context, "id": obj["id"] + "/activity", "type": "Create",
              "actor": organiser["id"], "to": [PUBLIC, fed.group.ap_id], "cc": obj["cc"],
              "object": obj}
    await fed.send(organiser, create)
    await fed.process()
    row = await fed.row(create["id"])
    assert row.state == "done", row.last_error
    async with fed.ctx.pool.acquire() as conn:
        event = await event_store.by_ap_id(conn, obj["id"])
    assert event is not None and not event.local
    (kept,) = event.attachments  # Mobilizon sends the banner as a Document of an image
    assert kept == {"type": "Document", "url": obj["attachment"][0]["url"],
                    "media_type": "image/jpeg", "name": original["attachment"][0]["name"],
                    "width": None, "height": None, "blurhash": None}

    async with httpx.AsyncClient(base_url=fed.server.url) as client:
        api = (await client.get(f"/api/v1/events/{event.id}")).json()
        assert api["attachments"] == event.attachments
        page = await client.get(f"/events/{event.id}", headers=HTML)
        assert page.status_code == 200
        images = re.findall(r'<img src="([^"]*)" alt="Banner"', page.text)
        assert len(images) == 1 and images[0].startswith("/media-proxy/"), page.text
        assert media.url not in page.text  # readers' browsers do not contact it
        served = await client.get(images[0].replace("&amp;", "&"))
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "image/jpeg"
    assert banner.gets and banner.gets[0].startswith("/media/")
