"""Uploads through POST /api/v1/media: images made safe (EXIF and GPS gone, orientation
applied), documents served as downloads, and each refusal clear and leaving nothing
stored."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from PIL import Image

from fedi.core.context import Context
from fedi.forum import media as media_service
from tests.media.conftest import docx, jpeg_with_gps, pdf, png, stored_files, upload
from tests.support.helpers import User


async def media_rows(ctx: Context) -> int:
    async with ctx.pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM media"))


async def test_jpeg_with_gps_is_served_without_metadata_and_upright(
        client: httpx.AsyncClient, anna: User, media_dir: Path) -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825)  # the test's file does carry GPS
    r = await upload(client, anna, original, "baustelle.jpg",
                     alt="Offener Graben mit Glasfaserrohren")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["media_type"] == "image/jpeg"
    assert body["alt"] == "Offener Graben mit Glasfaserrohren"
    # Orientation 6: the 300x200 picture is shown 200x300.
    assert (body["width"], body["height"]) == (200, 300)
    assert body["url"].startswith("http://127.0.0.1:8000/media/")
    served = await client.get(body["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    assert served.content != original
    with Image.open(io.BytesIO(served.content)) as after:
        exif = after.getexif()
        assert not exif, dict(exif)
        assert not after.info.get("exif")
        assert after.size == (200, 300)
        # The blue band was on the left; rotated clockwise it is at the top.
        top = after.getpixel((100, 10))
        bottom = after.getpixel((100, 290))
        assert isinstance(top, tuple) and isinstance(bottom, tuple)
        assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]
    assert b"Testkamera" not in served.content and b"GPS" not in served.content
    preview = await client.get(body["preview_url"].removeprefix("http://127.0.0.1:8000"))
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(preview.content)) as small:
        assert max(small.size) <= 400
        assert not small.getexif()
    again = await client.get(served.url, headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    assert len(stored_files(media_dir)) == 2


async def test_pdf_is_served_as_a_download_that_cannot_run(
        client: httpx.AsyncClient, anna: User) -> None:
    r = await upload(client, anna, pdf(), "Förderrichtlinie 2026.pdf", alt=None)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["media_type"] == "application/pdf" and body["preview_url"] is None
    assert body["filename"] == "Förderrichtlinie 2026.pdf"
    served = await client.get(body["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''F%C3%B6rderrichtlinie%202026.pdf" in disposition
    assert served.content == pdf()


async def test_office_text_and_csv_documents_are_accepted(
        client: httpx.AsyncClient, anna: User) -> None:
    r = await upload(client, anna, docx(), "vorlage.docx", alt=None)
    assert r.status_code == 201, r.text
    assert r.json()["media_type"].endswith("wordprocessingml.document")
    r = await upload(client, anna, "Ort;Anschlüsse\nMusterstadt;120\n".encode(), "zahlen.csv",
                     alt=None)
    assert r.status_code == 201 and r.json()["media_type"] == "text/csv"
    served = await client.get(r.json()["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.headers["content-type"] == "text/csv; charset=utf-8"
    r = await upload(client, anna, b"Hallo Welt\n", "notiz.txt", alt=None)
    assert r.status_code == 201 and r.json()["media_type"] == "text/plain"
    assert r.json()["filename"] == "notiz.txt"


@pytest.mark.parametrize(("data", "given", "kept"), [
    (b"del /q C:\\*\r\n", "start.bat", "start.bat.txt"),  # a script is text: not runnable
    (b"Hallo\n", "bild.png", "bild.png.txt"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "rechnung.exe", "rechnung.exe.pdf"),
    (b"Hallo\n", "NOTIZ.TXT", "NOTIZ.TXT"),
    (b"Hallo\n", "x" * 300 + ".cmd", "x" * 196 + ".txt"),
])
async def test_a_document_is_downloaded_with_the_extension_of_what_it_is(
        client: httpx.AsyncClient, anna: User, data: bytes, given: str, kept: str) -> None:
    r = await upload(client, anna, data, given, alt=None)
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == kept
    served = await client.get(r.json()["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.headers["content-disposition"].startswith("attachment;")
    assert f'filename="{kept}"' in served.headers["content-disposition"]


def decompression_bomb_png() -> bytes:
    """A small PNG that claims 30,000 x 30,000 pixels (900 megapixels)."""
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG")
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A .docx-looking archive with one highly compressible entry of 400 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            block = b"\0" * (1024 * 1024)
            for _ in range(400):
                entry.write(block)
    return out.getvalue()


SVG_WITH_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
                   b'<script>alert(document.cookie)</script><circle r="5"/></svg>')
HTML_AS_PNG = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


@pytest.mark.parametrize(("data", "filename", "content_type", "status", "message"), [
    (HTML_AS_PNG, "foto.png", "image/png", 422, "HTML, SVG and XML files are not accepted"),
    (SVG_WITH_SCRIPT, "plan.svg", "image/svg+xml", 422, "HTML, SVG and XML"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "logo.svg", "image/svg+xml",
     422, "HTML, SVG and XML"),
    (ELF, "programm.jpg", "image/jpeg", 422, "This kind of file is not accepted"),
    (b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200, "setup.exe",
     "application/octet-stream", 422, "This kind of file is not accepted"),
    (None, "bombe.png", "image/png", 422, "too many pixels"),
    (None, "bombe.docx", "application/octet-stream", 422, "possible ZIP bomb"),
    (docx({"word/vbaProject.bin": b"macro"}), "makro.docx", "application/octet-stream", 422,
     "macros"),
    (b"PK\x05\x06" + b"\x00" * 18, "leer.zip", "application/zip", 422, ""),
    (b"\xff\xd8\xff\xe0 kaputt", "kaputt.jpg", "image/jpeg", 422, "could not be read"),
])
async def test_refusals_are_clear_and_store_nothing(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path,
        data: bytes | None, filename: str, content_type: str, status: int,
        message: str) -> None:
    if data is None:
        data = decompression_bomb_png() if filename.endswith(".png") else zip_bomb_docx()
        assert len(data) < 2 * 1024 * 1024
    r = await upload(client, anna, data, filename, content_type=content_type)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == "media_refused" and body["field"] == "file"
    assert message in body["message"]
    assert await media_rows(ctx) == 0
    assert stored_files(media_dir) == []


@pytest.mark.parametrize("media_settings", [{"media_max_mb": 1}])
async def test_an_oversize_file_is_refused_unread(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path,
        media_settings: dict[str, Any]) -> None:
    big = b"a" * (1024 * 1024 + 10)
    r = await upload(client, anna, big, "gross.txt", alt=None)
    assert r.status_code == 413, r.text
    assert r.json()["message"] == "The file is larger than 1 MB."
    # Without a Content-Length (chunked), the bytes are counted as they come.

    async def chunks() -> Any:
        boundary = b"--xyz\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="g.txt"\r\n\r\n'
        for _ in range(5):
            yield b"b" * (1024 * 1024)
        yield b"\r\n--xyz--\r\n"

    r = await client.post("/api/v1/media", headers={
        **anna.headers, "Content-Type": "multipart/form-data; boundary=xyz"}, content=chunks())
    assert r.status_code == 413, r.text
    assert await media_rows(ctx) == 0
    assert stored_files(media_dir) == []


async def test_images_need_alt_text(client: httpx.AsyncClient, ctx: Context, anna: User,
                                    media_dir: Path) -> None:
    r = await upload(client, anna, png(), "karte.png", alt="   ")
    assert r.status_code == 422
    assert r.json()["field"] == "alt"
    assert "alt text" in r.json()["message"]
    assert await media_rows(ctx) == 0 and stored_files(media_dir) == []
    r = await upload(client, anna, png(), "karte.png", alt="x" * 1501)
    assert r.status_code == 422 and r.json()["field"] == "alt"


@pytest.mark.parametrize("media_settings", [{"media_quota_mb": 1}])
async def test_the_quota_counts_each_persons_files(
        client: httpx.AsyncClient, ctx: Context, anna: User, ben: User,
        media_settings: dict[str, Any]) -> None:
    text = b"Zeile\n" * 100_000  # 600 kB
    assert (await upload(client, anna, text, "a.txt", alt=None)).status_code == 201
    r = await upload(client, anna, text + b"x\n", "b.txt", alt=None)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "quota_exceeded"
    assert await media_rows(ctx) == 1
    # Another person has their own quota.
    assert (await upload(client, ben, text, "c.txt", alt=None)).status_code == 201


async def test_uploading_needs_an_account(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/media", files={"file": ("a.png", png(), "image/png")})
    assert r.status_code == 401


async def test_an_unknown_name_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/media/" + "a" * 64 + ".png")).status_code == 404
    assert (await client.get("/media/../../etc/passwd")).status_code == 404
    assert (await client.get("/media/nope.png")).status_code == 404


async def test_a_body_that_is_not_a_form_is_refused(client: httpx.AsyncClient,
                                                    anna: User) -> None:
    r = await client.post("/api/v1/media", headers=anna.headers, json={"file": "x"})
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = await client.post("/api/v1/media", headers=anna.headers, data={"alt": "nur Text"})
    assert r.status_code == 422 and "choose a file" in r.json()["message"]
    r = await client.post("/api/v1/media", headers=anna.headers,
                          files=[("file", ("a.png", png(), "image/png")),
                                 ("file", ("b.png", png(), "image/png"))])
    assert r.status_code == 400


async def test_an_upload_whose_row_fails_leaves_no_file_but_keeps_a_shared_one(
        client: httpx.AsyncClient, ctx: Context, anna: User, ben: User,
        media_dir: Path) -> None:
    """The files are written before the row commits; when the commit fails (here a real
    PostgreSQL error from a trigger), the new files go, a file another upload has stays."""
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "CREATE FUNCTION refuse_media() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RAISE EXCEPTION 'disk full (test)'; END$$;"
            " CREATE TRIGGER refuse_media BEFORE INSERT ON media"
            " FOR EACH ROW WHEN (NEW.owner_id = " + str(anna.actor.id) + ")"
            " EXECUTE FUNCTION refuse_media()")
    with pytest.raises(asyncpg.RaiseError, match="disk full"):  # the app's error, unhandled
        await upload(client, anna, png(), "karte.png", alt="Karte")
    assert await media_rows(ctx) == 0 and stored_files(media_dir) == []
    # Ben's copy of the same picture (the same content-addressed files) is kept when
    # Anna's fails.
    assert (await upload(client, ben, png(), "karte.png", alt="Karte")).status_code == 201
    kept = stored_files(media_dir)
    assert len(kept) == 2
    with pytest.raises(asyncpg.RaiseError, match="disk full"):
        await upload(client, anna, png(), "karte.png", alt="Karte")
    assert await media_rows(ctx) == 1 and stored_files(media_dir) == kept


async def test_the_file_sweep_deletes_old_files_no_upload_names(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    """A file left by a process that died between writing it and committing its row goes
    after a day; files that uploads name, and young ones, stay."""
    r = await upload(client, anna, png(), "karte.png", alt="Karte")
    assert r.status_code == 201
    kept = stored_files(media_dir)
    stray = media_dir / ("ef" * 32 + ".png")
    stray.write_bytes(b"\x89PNG")
    (media_dir / "notes.txt").write_bytes(b"not a media name: never touched")
    assert await media_service.sweep_files(ctx) == 0  # all younger than a day
    later = datetime.now(UTC) + timedelta(days=2)
    assert await media_service.sweep_files(ctx, now=later) == 1
    assert stored_files(media_dir) == sorted([*kept, "notes.txt"])
