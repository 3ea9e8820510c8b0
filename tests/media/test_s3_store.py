"""The S3 media store against a real S3-compatible server on loopback: moto's server
(ThreadedMotoServer, its HTTP API as boto3 speaks it), not a mock of our code. Uploads,
serving, and deletion go through the app as with the folder store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from fedi.app import create_app
from fedi.core.config import ConfigError, Settings
from fedi.core.context import Context
from fedi.core.media_store import S3Store
from fedi.forum import media as media_service
from tests.conftest import free_port, make_settings
from tests.media.conftest import jpeg_with_gps, pdf, upload
from tests.support.helpers import make_group, make_user


@pytest.fixture
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}",
                              aws_access_key_id="testkey", aws_secret_access_key="testsecret",
                              region_name="us-east-1")
        client.create_bucket(Bucket="demisa-media")
        yield f"http://testkey:testsecret@127.0.0.1:{port}/demisa-media"
    finally:
        server.stop()


@pytest.fixture
async def s3_client(dsn: str, tmp_path: Path, s3_url: str
                    ) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(data_dir=tmp_path, media_s3_url=s3_url)
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


def _keys(url: str) -> list[str]:
    store = S3Store(url)
    answer: dict[str, Any] = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(item["Key"] for item in answer.get("Contents", []))


async def test_uploads_live_in_the_bucket_and_go_with_their_post(
        s3_client: httpx.AsyncClient, s3_url: str, tmp_path: Path) -> None:
    ctx: Context = s3_client.app.state.ctx  # type: ignore[attr-defined]
    anna = await make_user(ctx, "anna")
    await make_group(ctx)
    image = (await upload(s3_client, anna, jpeg_with_gps(), "graben.jpg", alt="Graben")).json()
    document = (await upload(s3_client, anna, pdf(), "plan.pdf", alt=None)).json()
    keys = _keys(s3_url)
    assert len(keys) == 3  # the picture, its preview, the PDF
    assert not (tmp_path / "media").exists()
    served = await s3_client.get(image["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.content[:2] == b"\xff\xd8"
    served = await s3_client.get(document["url"].removeprefix("http://127.0.0.1:8000"))
    assert served.content == pdf()
    assert served.headers["content-disposition"].startswith("attachment;")
    r = await s3_client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Bilder", "content": "x", "media_ids": [image["id"], document["id"]]})
    assert r.status_code == 201, r.text
    r = await s3_client.delete(f"/api/v1/posts/{r.json()['id']}", headers=anna.headers)
    assert r.status_code == 204
    assert _keys(s3_url) == []


def test_the_s3_url_is_checked() -> None:
    assert Settings.from_env({"FEDI_MEDIA_S3_URL": "https://k:s@s3.example.de/bucket"}
                             ).media_s3_url == "https://k:s@s3.example.de/bucket"
    with pytest.raises(ConfigError, match="loopback"):
        Settings.from_env({"FEDI_MEDIA_S3_URL": "http://k:s@s3.example.de/bucket"})
    with pytest.raises(ConfigError, match="FEDI_MEDIA_S3_URL"):
        Settings.from_env({"FEDI_MEDIA_S3_URL": "https://s3.example.de/"})
    assert "k:s@" not in repr(Settings.from_env(
        {"FEDI_MEDIA_S3_URL": "https://k:s@s3.example.de/bucket"}))
    assert Settings.from_env({"FEDI_MEDIA_MAX_MB": "25"}).media_max_mb == 25
    with pytest.raises(ConfigError, match="FEDI_MEDIA_MAX_MB"):
        Settings.from_env({"FEDI_MEDIA_MAX_MB": "0"})


async def test_the_file_sweep_deletes_objects_no_upload_names(
        s3_client: httpx.AsyncClient, s3_url: str) -> None:
    ctx: Context = s3_client.app.state.ctx  # type: ignore[attr-defined]
    anna = await make_user(ctx, "anna")
    kept = (await upload(s3_client, anna, pdf(), "plan.pdf", alt=None)).json()
    stray = "cd" * 32 + ".pdf"  # as a process leaves it that died before its row commits
    await S3Store(s3_url).put(stray, b"%PDF-", "application/pdf")
    assert await media_service.sweep_files(ctx) == 0  # younger than a day
    later = datetime.now(UTC) + timedelta(days=2)
    assert await media_service.sweep_files(ctx, now=later) == 1
    assert _keys(s3_url) == [kept["url"].rsplit("/", 1)[1]]
