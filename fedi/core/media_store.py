"""Where uploaded files live: a folder (``FEDI_DATA_DIR/media``) or an S3-compatible
object store (``FEDI_MEDIA_S3_URL``, through boto3, the optional extra ``s3``), behind
one small interface. Names are content-addressed (``<sha256>.webp``,
``<sha256>-preview.webp``): a name's bytes never change, so a file is written once and
served with immutable caching headers. The S3 backend was tested against moto's S3
server (tests/media/test_s3_store.py), not against a commercial store.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from fedi.core.config import Settings

__all__ = ["FileStore", "MediaStore", "S3Store", "media_store", "valid_name"]

_NAME = re.compile(r"[0-9a-f]{64}(-preview)?\.[a-z0-9]{2,5}")


def valid_name(name: str) -> bool:
    """A name the store may hold (nothing else reaches a path or a key)."""
    return bool(_NAME.fullmatch(name))


class MediaStore(Protocol):
    async def put(self, name: str, data: bytes, content_type: str) -> None: ...
    async def read(self, name: str) -> bytes | None: ...
    async def exists(self, name: str) -> bool: ...
    async def delete(self, name: str) -> None: ...
    def local_path(self, name: str) -> Path | None: ...
    async def names_older_than(self, moment: datetime) -> list[str]: ...


def _checked(name: str) -> str:
    if not valid_name(name):
        raise ValueError(f"not a media file name: {name!r}")
    return name


class FileStore:
    """Files in one folder, written atomically (temporary file, then rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def local_path(self, name: str) -> Path | None:
        path = self.folder / _checked(name)
        return path if path.is_file() else None

    def _put(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / _checked(name)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, name, data)

    async def read(self, name: str) -> bytes | None:
        path = self.local_path(name)
        return None if path is None else await asyncio.to_thread(path.read_bytes)

    async def exists(self, name: str) -> bool:
        return self.local_path(name) is not None

    async def delete(self, name: str) -> None:
        (self.folder / _checked(name)).unlink(missing_ok=True)

    def _names_older_than(self, moment: datetime) -> list[str]:
        if not self.folder.is_dir():
            return []
        cutoff = moment.timestamp()
        names = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if (valid_name(entry.name) and entry.is_file()
                        and entry.stat().st_mtime < cutoff):
                    names.append(entry.name)
        return names

    async def names_older_than(self, moment: datetime) -> list[str]:
        """The stored names last written before ``moment`` (for the sweep of files no
        row names: fedi/forum/media.py)."""
        return await asyncio.to_thread(self._names_older_than, moment)


class S3Store:
    """Objects in one bucket of an S3-compatible store; boto3 is synchronous, so each call
    runs in a thread."""

    def __init__(self, url: str) -> None:
        import boto3  # the optional extra "s3": imported only when configured

        parts = urlsplit(url)
        self.bucket = parts.path.strip("/")
        endpoint = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port
                                                          else "")
        options: dict[str, Any] = {"endpoint_url": endpoint}
        region = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get(
            "region")
        options["region_name"] = region or "us-east-1"
        if parts.username:
            options["aws_access_key_id"] = unquote(parts.username)
            options["aws_secret_access_key"] = unquote(parts.password or "")
        self.client: Any = boto3.client("s3", **options)

    def local_path(self, name: str) -> Path | None:
        return None

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=_checked(name),
                                Body=data, ContentType=content_type)

    def _read(self, name: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_checked(name))
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body

    async def read(self, name: str) -> bytes | None:
        return await asyncio.to_thread(self._read, name)

    def _exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=_checked(name))
        except self.client.exceptions.ClientError:
            return False
        return True

    async def exists(self, name: str) -> bool:
        return await asyncio.to_thread(self._exists, name)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket,
                                Key=_checked(name))

    def _names_older_than(self, moment: datetime) -> list[str]:
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                if valid_name(item["Key"]) and item["LastModified"] < moment:
                    names.append(item["Key"])
        return names

    async def names_older_than(self, moment: datetime) -> list[str]:
        return await asyncio.to_thread(self._names_older_than, moment)


_stores: dict[tuple[str, str | None], MediaStore] = {}


def media_store(settings: Settings) -> MediaStore:
    """The configured store (one per process and configuration)."""
    key = (str(settings.data_dir), settings.media_s3_url)
    store = _stores.get(key)
    if store is None:
        store = (S3Store(settings.media_s3_url) if settings.media_s3_url
                 else FileStore(settings.data_dir / "media"))
        _stores[key] = store
    return store
