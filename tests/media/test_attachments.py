"""Uploads in use: media_ids on threads, replies and edits (posts.attachments), the alt
text changed afterwards, avatars and group pictures, files deleted with their post unless
shared, the orphan cleanup, and the OpenAPI document checked against these answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fedi.core.context import Context
from fedi.forum import media as media_service
from fedi.routes import api_media_spec
from tests.media.conftest import jpeg_with_gps, pdf, png, stored_files, upload
from tests.routes.test_openapi import Api
from tests.support.helpers import User, make_group, make_user


async def _upload(client: httpx.AsyncClient, user: User, data: bytes, name: str,
                  alt: str | None = "Karte des Ausbaugebiets") -> dict[str, Any]:
    r = await upload(client, user, data, name, alt=alt)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_media_ids_attach_files_to_a_thread(
        client: httpx.AsyncClient, ctx: Context, anna: User, ben: User) -> None:
    await make_group(ctx)
    api = Api(client)
    image = await api("POST", "/api/v1/media", anna, status=201, data={"alt": "Graben"},
                      files={"file": ("graben.jpg", jpeg_with_gps(), "image/jpeg")})
    document = await _upload(client, anna, pdf(), "richtlinie.pdf", alt=None)
    bens = await _upload(client, ben, png(), "ben.png")
    thread = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201, json={
        "title": "Fotos vom Ausbau", "content": "Siehe Anhang",
        "media_ids": [image["id"], document["id"]]})
    attachments = thread["attachments"]
    assert [a["type"] for a in attachments] == ["Image", "Document"]
    assert attachments[0]["url"] == image["url"] and attachments[0]["name"] == "Graben"
    assert attachments[0]["preview_url"] == image["preview_url"]
    assert attachments[0]["width"] == 200 and attachments[0]["blurhash"]
    assert attachments[1] == {**attachments[1], "media_type": "application/pdf",
                              "name": "richtlinie.pdf", "filename": "richtlinie.pdf",
                              "media_id": document["id"]}
    fetched = await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
    assert fetched["attachments"] == attachments
    # Somebody else's upload, one already attached elsewhere, too many: refused.
    await api("POST", "/api/v1/groups/breitband/threads", anna, status=422, json={
        "title": "Fremd", "content": "x", "media_ids": [bens["id"]]})
    r = await client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Doppelt", "content": "x", "media_ids": [image["id"]]})
    assert r.status_code == 422 and "already attached" in r.json()["message"]
    await api("POST", "/api/v1/groups/breitband/threads", anna, status=422, json={
        "title": "Viele", "content": "x", "media_ids": list(range(1, 12))})
    # A reply with a file; an edit replaces the list.
    own = await _upload(client, ben, png((10, 10)), "antwort.png", alt="Kleines Bild")
    reply = await api("POST", f"/api/v1/posts/{thread['id']}/replies", ben, status=201,
                      json={"content": "Danke", "media_ids": [own["id"]]})
    assert [a["media_id"] for a in reply["attachments"]] == [own["id"]]
    edited = await api("PATCH", f"/api/v1/posts/{thread['id']}", anna, status=200,
                       json={"media_ids": [document["id"]]})
    assert [a["media_id"] for a in edited["attachments"]] == [document["id"]]
    # The image left the post: nothing uses it, so it is gone at once.
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM media WHERE id = $1",
                                   image["id"]) == 0
    path = image["url"].removeprefix("http://127.0.0.1:8000")
    assert (await client.get(path)).status_code == 404


async def test_changing_the_alt_text_changes_the_posts(
        client: httpx.AsyncClient, ctx: Context, anna: User, ben: User) -> None:
    await make_group(ctx)
    api = Api(client)
    image = await api("POST", "/api/v1/media", anna, status=201, data={"alt": "Karte"},
                      files={"file": ("karte.png", png(), "image/png")})
    await api("POST", "/api/v1/media", anna, status=422,
              files={"file": ("seite.png", b"<html></html>", "image/png")})
    await api("POST", "/api/v1/media", status=401,
              files={"file": ("karte.png", png(), "image/png")})
    thread = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201, json={
        "title": "Karte", "content": "Hier", "media_ids": [image["id"]]})
    changed = await api("PATCH", f"/api/v1/media/{image['id']}", anna, status=200,
                        json={"alt": "Karte der Ortsteile mit Glasfaser (grün)"})
    assert changed["alt"] == "Karte der Ortsteile mit Glasfaser (grün)"
    fetched = await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
    assert fetched["attachments"][0]["name"] == "Karte der Ortsteile mit Glasfaser (grün)"
    await api("PATCH", f"/api/v1/media/{image['id']}", ben, status=403, json={"alt": "x"})
    await api("PATCH", f"/api/v1/media/{image['id']}", anna, status=422, json={"alt": ""})
    await api("PATCH", "/api/v1/media/999999", anna, status=404, json={"alt": "x"})
    api.assert_covers(api_media_spec)


async def test_a_file_goes_with_its_post_unless_another_post_uses_it(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    await make_group(ctx)
    first = await _upload(client, anna, png(), "a.png")
    second = await _upload(client, anna, png(), "b.png")  # the same picture again
    assert first["url"] == second["url"] and first["id"] != second["id"]
    t1 = await client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Eins", "content": "x", "media_ids": [first["id"]]})
    t2 = await client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Zwei", "content": "x", "media_ids": [second["id"]]})
    assert t1.status_code == t2.status_code == 201
    files = stored_files(media_dir)
    assert len(files) == 2  # one picture and its preview, shared
    r = await client.delete(f"/api/v1/posts/{t1.json()['id']}", headers=anna.headers)
    assert r.status_code == 204
    assert stored_files(media_dir) == files  # the other thread still shows it
    path = first["url"].removeprefix("http://127.0.0.1:8000")
    assert (await client.get(path)).status_code == 200
    r = await client.delete(f"/api/v1/posts/{t2.json()['id']}", headers=anna.headers)
    assert r.status_code == 204
    assert stored_files(media_dir) == []
    assert (await client.get(path)).status_code == 404
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM media") == 0


async def test_unused_uploads_are_cleaned_up_after_a_day(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    await make_group(ctx)
    kept = await _upload(client, anna, png((20, 20)), "kept.png")
    fresh = await _upload(client, anna, png((30, 30)), "fresh.png")
    orphan = await _upload(client, anna, pdf(), "orphan.pdf", alt=None)
    r = await client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Mit Bild", "content": "x", "media_ids": [kept["id"]]})
    assert r.status_code == 201
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE media SET created_at = now() - interval '2 days'"
                           " WHERE id = ANY($1::bigint[])", [kept["id"], orphan["id"]])
    # Two processes at once share the work and delete each file once.
    now = datetime.now(UTC)
    counts = [await media_service.clean_unused(ctx, now=now),
              await media_service.clean_unused(ctx, now=now)]
    assert counts == [1, 0]
    async with ctx.pool.acquire() as conn:
        left = {r["id"] for r in await conn.fetch("SELECT id FROM media")}
    assert left == {kept["id"], fresh["id"]}
    assert not any(name.endswith(".pdf") for name in stored_files(media_dir))
    # A day later the never attached one goes too; the attached one stays.
    assert await media_service.clean_unused(ctx, now=now + timedelta(days=2)) == 1
    async with ctx.pool.acquire() as conn:
        assert {r["id"] for r in await conn.fetch("SELECT id FROM media")} == {kept["id"]}


async def test_avatar_and_group_pictures_through_the_api(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    await make_group(ctx)
    api = Api(client)
    avatar = await _upload(client, anna, png(), "ich.png", alt="Anna im Rathaus")
    await api("PATCH", "/api/v1/me", anna, status=200, json={"avatar_media_id": avatar["id"]})
    person = await client.get("/users/anna", headers={"Accept": "application/activity+json"})
    assert person.json()["icon"]["url"] == avatar["url"]
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM activities WHERE type = 'Update'"
            " AND actor_id = $1", anna.actor.id) >= 1
    await api("PATCH", "/api/v1/me", anna, status=422, json={"avatar_media_id": 999999})
    # The avatar and the other fields change together or not at all, with one Update.
    other = await _upload(client, anna, png((64, 64)), "anders.png", alt="Anna am Meer")
    async with ctx.pool.acquire() as conn:
        updates_before = await conn.fetchval(
            "SELECT count(*) FROM activities WHERE type = 'Update' AND actor_id = $1",
            anna.actor.id)
    await api("PATCH", "/api/v1/me", anna, status=422,
              json={"avatar_media_id": other["id"], "affiliation": "keine"})
    person = await client.get("/users/anna", headers={"Accept": "application/activity+json"})
    assert person.json()["icon"]["url"] == avatar["url"]
    await api("PATCH", "/api/v1/me", anna, status=200,
              json={"avatar_media_id": other["id"], "organisation": "Stadt Teststadt"})
    person = await client.get("/users/anna", headers={"Accept": "application/activity+json"})
    assert person.json()["icon"]["url"] == other["url"]
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM activities WHERE type = 'Update' AND actor_id = $1",
            anna.actor.id) == updates_before + 1
    await api("PATCH", "/api/v1/me", anna, status=200, json={"avatar_media_id": None})
    person = await client.get("/users/anna", headers={"Accept": "application/activity+json"})
    assert "icon" not in person.json()
    assert stored_files(media_dir) == []  # the replaced avatar is not used any more
    icon = await _upload(client, admin, png((128, 128)), "icon.png", alt="Wappen")
    banner = await _upload(client, admin, jpeg_with_gps((800, 200), 1), "banner.jpg",
                           alt="Glasfaserkabel")
    await api("PATCH", "/api/v1/admin/groups/breitband", anna, status=403,
              json={"icon_media_id": icon["id"]})
    await api("PATCH", "/api/v1/admin/groups/breitband", admin, status=200,
              json={"icon_media_id": icon["id"], "banner_media_id": banner["id"]})
    group = await client.get("/groups/breitband",
                             headers={"Accept": "application/activity+json"})
    assert group.json()["icon"]["url"] == icon["url"]
    assert group.json()["image"]["url"] == banner["url"]
    document = await _upload(client, admin, pdf(), "x.pdf", alt=None)
    await api("PATCH", "/api/v1/admin/groups/breitband", admin, status=422,
              json={"banner_media_id": document["id"]})
