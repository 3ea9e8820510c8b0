"""The web forms take files without JavaScript: plain multipart posts through the app,
as a browser sends them (file slots each with its alt text, the CSRF token)."""

from __future__ import annotations

from pathlib import Path

import httpx

from fedi.core.context import Context
from tests.media.conftest import jpeg_with_gps, pdf, png, stored_files
from tests.support.helpers import User, make_group, make_user
from tests.web.conftest import csrf_of, log_in

EMPTY_SLOT = ("file", ("", b"", "application/octet-stream"))


async def _token(client: httpx.AsyncClient, url: str) -> str:
    page = await client.get(url)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def _attachments(ctx: Context, post_id: int) -> list[dict[str, object]]:
    async with ctx.pool.acquire() as conn:
        value = await conn.fetchval("SELECT attachments FROM posts WHERE id = $1", post_id)
    assert isinstance(value, list)
    return value


async def _newest_post(ctx: Context) -> int:
    async with ctx.pool.acquire() as conn:
        return int(await conn.fetchval("SELECT max(id) FROM posts"))


async def test_new_thread_with_a_picture_and_a_document(
        client: httpx.AsyncClient, ctx: Context, anna: User) -> None:
    await make_group(ctx)
    await log_in(client, "anna")
    form = await client.get("/groups/breitband/new")
    assert 'enctype="multipart/form-data"' in form.text
    assert "Datei 1" in form.text and "Beschreibung des Bildes (Alternativtext)" in form.text
    assert form.text.count('type="file" id="f-file-') == 3
    token = csrf_of(form.text)
    r = await client.post("/groups/breitband/new", data={
        "csrf_token": token, "title": "Baustelle Hauptstraße", "content": "Fotos anbei",
        "kind": "discussion", "alt": ["Offener Graben vor dem Rathaus", "", ""]},
        files=[("file", ("graben.jpg", jpeg_with_gps(), "image/jpeg")),
               ("file", ("plan.pdf", pdf(), "application/pdf")), EMPTY_SLOT])
    assert r.status_code == 303, r.text
    items = await _attachments(ctx, await _newest_post(ctx))
    assert [(a["type"], a["name"]) for a in items] == [
        ("Image", "Offener Graben vor dem Rathaus"), ("Document", "plan.pdf")]
    thread = (await client.get(f"/api/v1/posts/{await _newest_post(ctx)}")).json()
    assert thread["attachments"] == items


async def test_errors_keep_the_text_and_the_uploads(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    await make_group(ctx)
    await log_in(client, "anna")
    token = await _token(client, "/groups/breitband/new")
    # An image without its description: refused, nothing stored, the text kept.
    r = await client.post("/groups/breitband/new", data={
        "csrf_token": token, "title": "Mein Titel", "content": "Mein Text", "alt": [""]},
        files=[("file", ("karte.png", png(), "image/png"))])
    assert r.status_code == 422
    assert "Bitte beschreiben Sie das Bild" in r.text
    assert 'value="Mein Titel"' in r.text and "Mein Text" in r.text
    assert stored_files(media_dir) == []
    # An HTML page named .png: the German refusal.
    r = await client.post("/groups/breitband/new", data={
        "csrf_token": token, "title": "Mein Titel", "content": "Mein Text", "alt": ["x"]},
        files=[("file", ("foto.png", b"<html><script>alert(1)</script></html>", "image/png"))])
    assert r.status_code == 422
    assert "HTML-, SVG- und XML-Dateien werden nicht angenommen" in r.text
    # A good file but no title: the upload is kept as a ticked box for the next try.
    r = await client.post("/groups/breitband/new", data={
        "csrf_token": token, "title": "", "content": "Mein Text", "alt": ["Karte"]},
        files=[("file", ("karte.png", png(), "image/png"))])
    assert r.status_code == 422
    async with ctx.pool.acquire() as conn:
        media_id = await conn.fetchval("SELECT id FROM media")
    assert f'name="media_id" value="{media_id}" checked' in r.text
    r = await client.post("/groups/breitband/new", data={
        "csrf_token": token, "title": "Jetzt mit Titel", "content": "Mein Text",
        "media_id": str(media_id)}, files=[EMPTY_SLOT])
    assert r.status_code == 303, r.text
    items = await _attachments(ctx, await _newest_post(ctx))
    assert [a["media_id"] for a in items] == [media_id]


async def test_reply_and_edit_with_files(client: httpx.AsyncClient, ctx: Context,
                                         anna: User, media_dir: Path) -> None:
    await make_group(ctx)
    await log_in(client, "anna")
    token = await _token(client, "/groups/breitband/new")
    r = await client.post("/groups/breitband/new", data={
        "csrf_token": token, "title": "Frage", "content": "Text"})  # urlencoded still works
    assert r.status_code == 303, r.text
    thread_id = await _newest_post(ctx)
    reply_form = await client.get(f"/posts/{thread_id}/reply")
    assert 'enctype="multipart/form-data"' in reply_form.text
    r = await client.post(f"/posts/{thread_id}/reply", data={
        "csrf_token": token, "content": "Hier die Richtlinie", "alt": [""]},
        files=[("file", ("richtlinie.pdf", pdf(), "application/pdf"))])
    assert r.status_code == 303, r.text
    reply_id = await _newest_post(ctx)
    (item,) = await _attachments(ctx, reply_id)
    assert item["filename"] == "richtlinie.pdf"
    edit_form = await client.get(f"/posts/{reply_id}/edit")
    assert f'name="media_id" value="{item["media_id"]}" checked' in edit_form.text
    # Keep the PDF, add a picture.
    r = await client.post(f"/posts/{reply_id}/edit", data={
        "csrf_token": token, "content": "Mit Bild", "media_id": str(item["media_id"]),
        "alt": ["Lageplan"]}, files=[("file", ("lage.png", png(), "image/png"))])
    assert r.status_code == 303, r.text
    assert [a["type"] for a in await _attachments(ctx, reply_id)] == ["Document", "Image"]
    # Untick everything: the files go (nothing else uses them).
    r = await client.post(f"/posts/{reply_id}/edit", data={
        "csrf_token": token, "content": "Ohne Anhang"}, files=[EMPTY_SLOT])
    assert r.status_code == 303, r.text
    assert await _attachments(ctx, reply_id) == []
    assert stored_files(media_dir) == []


async def test_avatar_and_group_pictures_from_the_web(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    await log_in(client, "anna")
    settings = await client.get("/settings")
    assert "Profilbild" in settings.text and 'action="/settings/avatar"' in settings.text
    token = csrf_of(settings.text)
    r = await client.post("/settings/avatar", data={"csrf_token": token},
                          files={"avatar": ("ich.jpg", jpeg_with_gps(), "image/jpeg")})
    assert r.status_code == 303, r.text
    person = (await client.get("/users/anna",
                               headers={"Accept": "application/activity+json"})).json()
    assert person["icon"]["url"].startswith("http://127.0.0.1:8000/media/")
    r = await client.post("/settings/avatar", data={"csrf_token": token},
                          files={"avatar": ("doc.pdf", pdf(), "application/pdf")})
    assert r.status_code == 422 and "Bitte wählen Sie ein Bild" in r.text
    r = await client.post("/settings/avatar", data={"csrf_token": token, "action": "remove"},
                          files=[("avatar", ("", b"", "application/octet-stream"))])
    assert r.status_code == 303
    person = (await client.get("/users/anna",
                               headers={"Accept": "application/activity+json"})).json()
    assert "icon" not in person
    assert stored_files(media_dir) == []
    # A group's icon: its moderators and the admins only, checked before the upload.
    await make_group(ctx)
    r = await client.post("/admin/groups/breitband/pictures", data={"csrf_token": token},
                          files={"icon": ("i.png", png(), "image/png")})
    assert r.status_code == 403
    assert stored_files(media_dir) == []
    await make_user(ctx, "chefin", admin=True)
    client.cookies.clear()
    await log_in(client, "chefin")
    token = await _token(client, "/admin/groups/breitband")
    r = await client.post("/admin/groups/breitband/pictures", data={"csrf_token": token},
                          files=[("icon", ("i.png", png((64, 64)), "image/png")),
                                 ("banner", ("b.png", png((600, 150)), "image/png"))])
    assert r.status_code == 303, r.text
    group = (await client.get("/groups/breitband",
                              headers={"Accept": "application/activity+json"})).json()
    assert group["icon"]["url"].startswith("http://127.0.0.1:8000/media/")
    assert group["image"]["url"].startswith("http://127.0.0.1:8000/media/")
    page = await client.get("/admin/groups/breitband")
    assert "Symbolbild und Banner" in page.text
    r = await client.post("/admin/groups/breitband/pictures", data={
        "csrf_token": token, "remove_banner": "1"}, files=[EMPTY_SLOT])
    assert r.status_code == 303
    group = (await client.get("/groups/breitband",
                              headers={"Accept": "application/activity+json"})).json()
    assert "image" not in group and "icon" in group
