"""DSGVO: the data export lists a person's uploads; erasing the account deletes them with
their files (unless a group still shows one as its icon)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx

from fedi.core.context import Context
from tests.media.conftest import pdf, png, stored_files, upload
from tests.support.helpers import User, make_group, make_user


async def test_export_lists_uploads_and_erasure_deletes_them(
        client: httpx.AsyncClient, ctx: Context, anna: User, media_dir: Path) -> None:
    await make_group(ctx)
    avatar = (await upload(client, anna, png((40, 40)), "ich.png", alt="Anna")).json()
    image = (await upload(client, anna, png((50, 50)), "karte.png", alt="Karte")).json()
    loose = (await upload(client, anna, pdf(), "entwurf.pdf", alt=None)).json()
    assert (await client.patch("/api/v1/me", headers=anna.headers,
                               json={"avatar_media_id": avatar["id"]})).status_code == 200
    r = await client.post("/api/v1/groups/breitband/threads", headers=anna.headers, json={
        "title": "Karte", "content": "x", "media_ids": [image["id"]]})
    assert r.status_code == 201
    # Another person's upload (the group's icon) is not touched.
    admin = await make_user(ctx, "chefin", admin=True)
    icon = (await upload(client, admin, png((60, 60)), "icon.png", alt="Wappen")).json()
    assert (await client.patch("/api/v1/admin/groups/breitband", headers=admin.headers,
                               json={"icon_media_id": icon["id"]})).status_code == 200

    answer = await client.get("/api/v1/me/export", headers=anna.headers)
    assert answer.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    listed = json.loads(archive.read("media.json"))
    assert {m["id"] for m in listed} == {avatar["id"], image["id"], loose["id"]}
    assert {m["filename"] for m in listed} == {None, "entwurf.pdf"}
    # The files themselves are in the archive, as the instance serves them.
    for item in listed:
        served = await client.get(item["url"].removeprefix(str(client.base_url)))
        assert served.status_code == 200
        assert archive.read(item["file"]) == served.content, item
    assert f"media/{loose['id']}-entwurf.pdf" in archive.namelist()
    assert "media.json" in archive.read("README.txt").decode()

    r = await client.request("DELETE", "/api/v1/me", headers=anna.headers,
                             json={"password": "correct horse battery"})
    assert r.status_code == 202, r.text
    async with ctx.pool.acquire() as conn:
        left = {r["id"] for r in await conn.fetch("SELECT id FROM media")}
    assert left == {icon["id"]}
    assert len(stored_files(media_dir)) == 2  # the icon and its preview
