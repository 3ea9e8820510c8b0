"""Fixtures for the upload tests: the app with its media folder in a temporary directory,
and pictures and documents made here (Pillow, zipfile)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from fedi.app import create_app
from fedi.core.context import Context
from tests.conftest import make_settings
from tests.support.helpers import User, make_user


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def media_settings() -> dict[str, Any]:
    """Overrides of the app's settings (a test may change them before the app starts)."""
    return {}


@pytest.fixture
async def client(dsn: str, tmp_path: Path, media_settings: dict[str, Any]
                 ) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(data_dir=tmp_path, **media_settings)
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


@pytest.fixture
def ctx(client: httpx.AsyncClient) -> Context:
    context: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return context


@pytest.fixture
async def anna(ctx: Context) -> User:
    return await make_user(ctx, "anna")


@pytest.fixture
async def ben(ctx: Context) -> User:
    return await make_user(ctx, "ben")


def stored_files(media_dir: Path) -> list[str]:
    return sorted(p.name for p in media_dir.iterdir()) if media_dir.exists() else []


def jpeg_with_gps(size: tuple[int, int] = (300, 200), orientation: int = 6) -> bytes:
    """A JPEG carrying EXIF GPS coordinates, a camera name and an orientation tag."""
    picture = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 3):  # a blue band on the left, to see the rotation
        for y in range(size[1]):
            picture.putpixel((x, y), (20, 20, 220))
    exif = Image.Exif()
    exif[0x010F] = "Testkamera GmbH"  # Make
    exif[0x0112] = orientation  # Orientation: 6 = rotate 90° clockwise to show
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 200)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document>Förderrichtlinie</w:document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


async def upload(client: httpx.AsyncClient, user: User, data: bytes, filename: str,
                 alt: str | None = "Ein Bild", content_type: str = "application/octet-stream"
                 ) -> httpx.Response:
    fields = {"alt": alt} if alt is not None else {}
    return await client.post("/api/v1/media", headers=user.headers, data=fields,
                             files={"file": (filename, data, content_type)})
