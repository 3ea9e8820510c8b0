"""Uploads (issue 19): what a file is (decided from its content with ``filetype`` and
Pillow, never from its name or the browser's claim), images re-encoded, the quota, the
files a post, an event or an actor uses, and the cleanup of files nobody uses.

Images (JPEG, PNG, WebP, GIF) are decoded and written anew: orientation applied
(``exif_transpose``), at most 2560 pixels a side, only the pixels copied (no EXIF, GPS,
XMP, ICC or text chunks survive), plus a 400-pixel WebP preview and a blurhash. JPEG stays
JPEG; PNG, WebP stay as they are; a GIF keeps its first frame only and becomes a PNG (no
animation). Pictures over 40 megapixels are refused before they are decoded. Documents
(PDF, plain text, CSV, OpenDocument and Office Open XML) are stored as they came and
served as downloads (fedi/routes/media_files.py); the ZIP-based ones are checked first
(number of entries, total unpacked size, compression ratio, no macros). A refusal stores
nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import math
import re
import time
import warnings
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import filetype
from PIL import Image, ImageOps

from fedi.core.context import Context
from fedi.core.errors import Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from fedi.core.media_store import media_store
from fedi.core.runtime import run_periodically
from storage import media as store
from storage.actors import Actor
from storage.media import Media

__all__ = [
    "ALT_MAX",
    "FILES_PER_POST",
    "GROUP_PICTURES",
    "Media",
    "MediaRefused",
    "Processed",
    "attachment_item",
    "change_alt",
    "check_alt",
    "check_ids",
    "clean_unused",
    "delete_unused",
    "erase_owner",
    "event_attachments",
    "events_using",
    "link_event",
    "link_post",
    "media_url",
    "post_attachments",
    "posts_using",
    "process",
    "release_event",
    "release_post",
    "set_actor_picture",
    "set_group_pictures",
    "start_media_cleanup",
    "sweep_files",
    "upload",
]

log = logging.getLogger("fedi.media")

MAX_SIDE = 2560
PREVIEW_SIDE = 400
MAX_PIXELS = 40_000_000
ZIP_MAX_ENTRIES = 5_000
ZIP_MAX_UNPACKED = 300 * 1024 * 1024
ZIP_MAX_RATIO = 200  # unpacked / packed of the whole archive
ALT_MAX = 1500
FILENAME_MAX = 200
FILES_PER_POST = 10
ORPHAN_AGE = timedelta(days=1)
CLEANUP_INTERVAL = 900.0  # seconds between looks for unused uploads
FILE_SWEEP_INTERVAL = 6 * 3600.0  # seconds between looks for files no upload names

IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP",
               "image/gif": "GIF"}
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
ZIP_DOCUMENTS = {
    _OOXML + "wordprocessingml.document": "docx",
    _OOXML + "spreadsheetml.sheet": "xlsx",
    _OOXML + "presentationml.presentation": "pptx",
    _ODF + "text": "odt",
    _ODF + "spreadsheet": "ods",
    _ODF + "presentation": "odp",
}
_ZIP_SNIFFED = {"application/zip", "application/x-zip-compressed",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/vnd.oasis.opendocument.text",
                "application/vnd.oasis.opendocument.spreadsheet",
                "application/vnd.oasis.opendocument.presentation"}
_OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}

NOT_ACCEPTED = ("This kind of file is not accepted. Allowed are images (JPEG, PNG, WebP, "
                "GIF) and documents (PDF, text, CSV, OpenDocument, Word, Excel, PowerPoint).")
MARKUP_REFUSED = ("HTML, SVG and XML files are not accepted: they could run scripts in "
                  "readers' browsers.")
BROKEN_IMAGE = "The image could not be read; it may be damaged."
TOO_MANY_PIXELS = "The image has too many pixels (at most 40 megapixels)."
ZIP_REFUSED = ("The office file unpacks to too much data or too many parts; it is "
               "refused as a possible ZIP bomb.")
BROKEN_DOCUMENT = "The office file could not be read; it may be damaged."
MACROS_REFUSED = "Office files with macros are not accepted."
ALT_REQUIRED = "Please describe the image for people who cannot see it (alt text)."
ALT_TOO_LONG = f"The alt text must be at most {ALT_MAX} characters."
QUOTA_EXCEEDED = "This file would exceed your storage quota; delete files you no longer need."
EMPTY_FILE = "The file is empty."
TOO_MANY_FILES = f"A post can have at most {FILES_PER_POST} files."
NOT_YOURS = "One of the files does not exist or is not yours."
ALREADY_ATTACHED = "One of the files is already attached to another post."
NOT_AN_IMAGE = "Please choose an image (JPEG, PNG, WebP or GIF)."
ALT_NOT_TEXT = "The alt text must be text."
IDS_NOT_A_LIST = "media_ids must be a list of upload ids."
LISTED_TWICE = "One of the files is listed twice."
NOT_AN_ID = "The picture must be an upload id or null."
NO_SUCH_FILE = "There is no such file."


class MediaRefused(ValidationFailed):
    """An upload that is not accepted (the message says why); nothing was stored."""

    code = "media_refused"


def too_large_message(max_mb: int) -> str:
    return f"The file is larger than {max_mb} MB."


def too_large(max_mb: int) -> PayloadTooLarge:
    return PayloadTooLarge(too_large_message(max_mb), field="file")


@dataclass(frozen=True)
class Processed:
    kind: str  # image | document
    media_type: str
    data: bytes
    extension: str
    preview: bytes | None = None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# --- deciding and re-encoding (synchronous; run in a thread) ------------------------------

def process(data: bytes, filename: str | None) -> Processed:
    """What the upload is, made safe to serve; raises :class:`MediaRefused`."""
    if not data:
        raise MediaRefused(EMPTY_FILE, field="file")
    sniffed = filetype.guess_mime(data[:8192])
    if sniffed in IMAGE_TYPES:
        return _image(data, sniffed)
    if sniffed == "application/pdf":
        return Processed("document", "application/pdf", data, "pdf")
    if sniffed in _ZIP_SNIFFED:
        return _zip_document(data)
    if sniffed is None:
        return _text(data, filename)
    raise MediaRefused(NOT_ACCEPTED, field="file")


def _image(data: bytes, sniffed: str) -> Processed:
    """A crafted file may make any part of a decoder fail in its own way: each such
    failure is a refusal, never a 500."""
    try:
        return _reencode(data, sniffed)
    except MediaRefused:
        raise
    except Exception:
        raise MediaRefused(BROKEN_IMAGE, field="file") from None


def _reencode(data: bytes, sniffed: str) -> Processed:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[IMAGE_TYPES[sniffed]]) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise MediaRefused(TOO_MANY_PIXELS, field="file")
                opened.seek(0)  # an animated GIF or WebP: its first frame
                picture = ImageOps.exif_transpose(opened) or opened
                picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRefused(TOO_MANY_PIXELS, field="file") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise MediaRefused(BROKEN_IMAGE, field="file") from None
    alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info)
    picture = picture.convert("RGBA" if alpha and sniffed != "image/jpeg" else "RGB")
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Only the pixels: nothing of the original's metadata can come along.
    clean = Image.frombytes(picture.mode, picture.size, picture.tobytes())
    out = io.BytesIO()
    if sniffed == "image/jpeg":
        clean.save(out, "JPEG", quality=85, optimize=True)
        media_type, extension = "image/jpeg", "jpg"
    elif sniffed == "image/webp":
        clean.save(out, "WEBP", quality=85)
        media_type, extension = "image/webp", "webp"
    else:  # PNG, and a GIF's first frame
        clean.save(out, "PNG")
        media_type, extension = "image/png", "png"
    small = clean.copy()
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    preview = io.BytesIO()
    small.save(preview, "WEBP", quality=80)
    return Processed("image", media_type, out.getvalue(), extension, preview.getvalue(),
                     clean.width, clean.height, blurhash_of(small))


_B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _base83(value: int, length: int) -> str:
    return "".join(_B83[(value // 83 ** (length - i - 1)) % 83] for i in range(length))


def _linear(value: int) -> float:
    v = value / 255
    return v / 12.92 if v <= 0.04045 else float(((v + 0.055) / 1.055) ** 2.4)


def _srgb(value: float) -> int:
    v = max(0.0, min(1.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def blurhash_of(picture: Image.Image, x_components: int = 4, y_components: int = 3) -> str:
    """The blurhash (https://blurha.sh, the reference algorithm) of a picture, computed on
    a 32-pixel copy: a few thousand multiplications."""
    small = picture.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR)
    width, height = small.size
    raw = small.tobytes()
    pixels = [(_linear(raw[i]), _linear(raw[i + 1]), _linear(raw[i + 2]))
              for i in range(0, len(raw), 3)]
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            norm = 1.0 if i == 0 and j == 0 else 2.0
            column = [math.cos(math.pi * i * x / width) for x in range(width)]
            row = [math.cos(math.pi * j * y / height) for y in range(height)]
            r = g = b = 0.0
            for y in range(height):
                for x in range(width):
                    basis = norm * column[x] * row[y]
                    pr, pg, pb = pixels[y * width + x]
                    r += basis * pr
                    g += basis * pg
                    b += basis * pb
            scale = 1 / (width * height)
            factors.append((r * scale, g * scale, b * scale))
    dc, ac = factors[0], factors[1:]
    result = _base83((x_components - 1) + (y_components - 1) * 9, 1)
    maximum = max((abs(c) for f in ac for c in f), default=0.0)
    quantised = max(0, min(82, math.floor(maximum * 166 - 0.5)))
    max_value = (quantised + 1) / 166
    result += _base83(quantised, 1)
    result += _base83((_srgb(dc[0]) << 16) + (_srgb(dc[1]) << 8) + _srgb(dc[2]), 4)
    for factor in ac:
        r, g, b = (max(0, min(18, math.floor(
            math.copysign(abs(c / max_value) ** 0.5, c) * 9 + 9.5))) for c in factor)
        result += _base83(r * 19 * 19 + g * 19 + b, 2)
    return result


def _zip_document(data: bytes) -> Processed:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > ZIP_MAX_ENTRIES:
                raise MediaRefused(ZIP_REFUSED, field="file")
            unpacked = sum(e.file_size for e in entries)
            if unpacked > ZIP_MAX_UNPACKED or unpacked > ZIP_MAX_RATIO * max(len(data), 1):
                raise MediaRefused(ZIP_REFUSED, field="file")
            names = {e.filename for e in entries}
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise MediaRefused(MACROS_REFUSED, field="file")
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in ZIP_DOCUMENTS and declared.startswith(_ODF):
                    return Processed("document", declared, data, ZIP_DOCUMENTS[declared])
            if "[Content_Types].xml" in names:
                for prefix, extension in _OOXML_PARTS.items():
                    if any(n.startswith(prefix) for n in names):
                        media_type = next(t for t, e in ZIP_DOCUMENTS.items()
                                          if e == extension)
                        return Processed("document", media_type, data, extension)
    except MediaRefused:
        raise
    except Exception:  # BadZipFile, zlib.error, an unsupported method, ...
        raise MediaRefused(BROKEN_DOCUMENT, field="file") from None
    raise MediaRefused(NOT_ACCEPTED, field="file")  # a plain ZIP archive


_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed"
                     rb"|meta|link|style|img|a\s)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _text(data: bytes, filename: str | None) -> Processed:
    """Plain text or CSV: no binary bytes, no markup a browser would run."""
    head = data[:65536]
    if _MARKUP.search(head) or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise MediaRefused(MARKUP_REFUSED, field="file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
        if "\ufffd" in text:
            raise MediaRefused(NOT_ACCEPTED, field="file") from None
        data = text.encode("utf-8")  # served as UTF-8
    if _CONTROL.search(text):
        raise MediaRefused(NOT_ACCEPTED, field="file")
    # The content says it is text; only then does the name choose between the two kinds.
    if (filename or "").lower().endswith(".csv"):
        return Processed("document", "text/csv", data, "csv")
    return Processed("document", "text/plain", data, "txt")


# --- checks ----------------------------------------------------------------------------------

def check_alt(alt: Any, kind: str) -> str | None:
    if alt is not None and not isinstance(alt, str):
        raise ValidationFailed(ALT_NOT_TEXT, field="alt")
    value = " ".join((alt or "").replace("\x00", "").split())
    if len(value) > ALT_MAX:
        raise ValidationFailed(ALT_TOO_LONG, field="alt")
    if not value:
        if kind == "image":
            raise ValidationFailed(ALT_REQUIRED, field="alt")
        return None
    return value


def _filename(name: str | None, extension: str) -> str | None:
    """A document's name as given, without path parts and with the extension of what it
    is: a text file named ``start.bat`` or ``rechnung.exe`` is downloaded as
    ``start.bat.txt``, so no computer opens it as a program."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>').strip()
    if not base:
        return None
    suffix = f".{extension}"
    if not base.lower().endswith(suffix):
        base += suffix
    if len(base) > FILENAME_MAX:  # shortened in the middle: the extension stays
        base = base[:FILENAME_MAX - len(suffix)] + suffix
    return base


def media_url(ctx: Context, name: str) -> str:
    return f"{ctx.settings.base_url}/media/{name}"


# --- upload --------------------------------------------------------------------------------

async def upload(ctx: Context, *, owner: Actor, data: bytes, filename: str | None,
                 alt: Any, require_alt: bool = True) -> Media:
    """Store an upload of ``owner`` (a local actor); refusals store nothing."""
    max_bytes = ctx.settings.media_max_mb * 1024 * 1024
    if len(data) > max_bytes:
        raise too_large(ctx.settings.media_max_mb)
    if alt is not None and not isinstance(alt, str):
        raise ValidationFailed(ALT_NOT_TEXT, field="alt")
    done = await asyncio.to_thread(process, data, filename)
    alt_text = check_alt(alt, done.kind if require_alt else "document")
    name = f"{done.hash}.{done.extension}"
    preview = f"{done.hash}-preview.webp" if done.preview is not None else None
    files = media_store(ctx.settings)
    quota = ctx.settings.media_quota_mb * 1024 * 1024
    written: list[str] = []
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await store.lock_owner(conn, owner.id)
            if quota and await store.used_bytes(conn, owner.id) + len(done.data) > quota:
                raise ValidationFailed(QUOTA_EXCEEDED, field="file", code="quota_exceeded")
            await store.lock_name(conn, name)
            written.append(name)
            await files.put(name, done.data, done.media_type)
            if preview is not None and done.preview is not None:
                await store.lock_name(conn, preview)
                written.append(preview)
                await files.put(preview, done.preview, "image/webp")
            return await store.insert(conn, {
                "owner_id": owner.id, "content_hash": done.hash, "kind": done.kind,
                "media_type": done.media_type, "size": len(done.data),
                "width": done.width, "height": done.height, "blurhash": done.blurhash,
                "alt": alt_text,
                "filename": (_filename(filename, done.extension)
                             if done.kind == "document" else None),
                "stored_name": name, "preview_name": preview})
    except BaseException:
        # The row was not committed: the files just written would belong to nothing (the
        # orphan sweep walks rows, not files), so they go unless another upload has them.
        await _discard_files(ctx, written)
        raise


async def _discard_files(ctx: Context, names: list[str]) -> None:
    if not names:
        return
    files = media_store(ctx.settings)
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            for name in names:
                await store.lock_name(conn, name)
                if not await store.name_in_use(conn, name):
                    await files.delete(name)
    except Exception:  # PostgreSQL itself may be what failed: log, keep the first error
        log.warning("could not remove the files of a failed upload: %s", names,
                    exc_info=True)


# --- posts ---------------------------------------------------------------------------------

def attachment_item(ctx: Context, media: Media) -> dict[str, Any]:
    """The ``posts.attachments`` entry of a local upload (docs of the media contract)."""
    return {
        "type": "Image" if media.kind == "image" else "Document",
        "url": media_url(ctx, media.stored_name),
        "media_type": media.media_type,
        "name": media.alt or media.filename,
        "width": media.width, "height": media.height, "blurhash": media.blurhash,
        "media_id": media.id,
        "preview_url": media_url(ctx, media.preview_name) if media.preview_name else None,
        "size": media.size, "filename": media.filename,
    }


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValidationFailed(IDS_NOT_A_LIST, field="media_ids")
    if len(value) > FILES_PER_POST:
        raise ValidationFailed(TOO_MANY_FILES, field="media_ids")
    if len(set(value)) != len(value):
        raise ValidationFailed(LISTED_TWICE, field="media_ids")
    return list(value)


def check_ids(value: Any) -> list[int]:
    """``media_ids``: a list of at most FILES_PER_POST upload ids, none twice."""
    return _ids(value)


async def post_attachments(conn: Any, ctx: Context, *, owner: Actor, media_ids: Any,
                           post_id: int | None) -> tuple[list[int], list[dict[str, Any]]]:
    """Check ``media_ids`` for a post of ``owner`` (``post_id``: the post being edited)
    and lock them; returns the ids and the ``posts.attachments`` entries."""
    return await _attachments(conn, ctx, owner=owner, media_ids=media_ids,
                              post_id=post_id, event_id=None)


async def _attachments(conn: Any, ctx: Context, *, owner: Actor, media_ids: Any,
                       post_id: int | None, event_id: int | None,
                       ) -> tuple[list[int], list[dict[str, Any]]]:
    """One rule for posts and events: the uploads are the owner's, used by no other
    post or event (the one being edited excepted), and every image has its alt text."""
    ids = _ids(media_ids)
    if not ids:
        return [], []
    found = await store.get_many_for_update(conn, ids)
    if len(found) != len(ids) or any(m.owner_id != owner.id for m in found):
        raise ValidationFailed(NOT_YOURS, field="media_ids")
    if (await store.other_posts_using(conn, ids, post_id)
            or await store.other_events_using(conn, ids, event_id)):
        raise ValidationFailed(ALREADY_ATTACHED, field="media_ids")
    for media in found:
        if media.kind == "image" and not media.alt:
            raise ValidationFailed(ALT_REQUIRED, field="alt")
    return ids, [attachment_item(ctx, m) for m in found]


async def link_post(conn: Any, post_id: int, media_ids: list[int]) -> list[int]:
    """The post now uses ``media_ids``; returns the ones it stopped using."""
    return await store.attach_to_post(conn, post_id, media_ids)


async def release_post(conn: Any, post_id: int) -> list[int]:
    return await store.release_post(conn, post_id)


async def posts_using(conn: Any, media_id: int) -> list[int]:
    return await store.posts_using(conn, media_id)


# --- events (migration 0034): the same rules as for posts ------------------------------

async def event_attachments(conn: Any, ctx: Context, *, owner: Actor, media_ids: Any,
                            event_id: int | None) -> tuple[list[int], list[dict[str, Any]]]:
    """Check ``media_ids`` for an event of ``owner`` (``event_id``: the event being
    changed) and lock them; returns the ids and the ``events.attachments`` entries."""
    return await _attachments(conn, ctx, owner=owner, media_ids=media_ids,
                              post_id=None, event_id=event_id)


async def link_event(conn: Any, event_id: int, media_ids: list[int]) -> list[int]:
    """The event now uses ``media_ids``; returns the ones it stopped using."""
    return await store.attach_to_event(conn, event_id, media_ids)


async def release_event(conn: Any, event_id: int) -> list[int]:
    return await store.release_event(conn, event_id)


async def events_using(conn: Any, media_id: int) -> list[int]:
    return await store.events_using(conn, media_id)


# --- actors' pictures ----------------------------------------------------------------------

async def set_actor_picture(conn: Any, ctx: Context, *, actor: Actor, uploader: Actor,
                            role: str, media_id: Any, field: str) -> int | None:
    """Make ``uploader``'s image ``media_id`` the avatar/icon (``role`` 'icon') or banner
    ('image') of the local ``actor``; None removes it. Returns the upload used before
    (for :func:`delete_unused` after the transaction)."""
    if media_id is not None and (not isinstance(media_id, int) or isinstance(media_id, bool)):
        raise ValidationFailed(NOT_AN_ID, field=field)
    url = None
    if media_id is not None:
        found = await store.get_many_for_update(conn, [media_id])
        if not found or found[0].owner_id != uploader.id:
            raise ValidationFailed(NOT_YOURS, field=field)
        if found[0].kind != "image":
            raise ValidationFailed(NOT_AN_IMAGE, field=field)
        url = media_url(ctx, found[0].stored_name)
    return await store.set_actor_media(conn, actor.id, role, media_id, url)


GROUP_PICTURES = {"icon_media_id": "icon", "banner_media_id": "image"}


async def set_group_pictures(conn: Any, ctx: Context, *, group: Actor, uploader: Actor,
                             changes: dict[str, Any]) -> list[int]:
    """The group's icon and banner from ``changes`` (``icon_media_id``,
    ``banner_media_id``; null removes), in the caller's transaction (which sends the
    Update(Group)); returns the uploads no longer used, for :func:`delete_unused`."""
    released = []
    for key, role in GROUP_PICTURES.items():
        if key in changes:
            before = await set_actor_picture(conn, ctx, actor=group, uploader=uploader,
                                             role=role, media_id=changes[key], field=key)
            if before is not None:
                released.append(before)
    return released


# --- alt text --------------------------------------------------------------------------------

async def change_alt(conn: Any, *, actor: Actor, media_id: int, alt: Any) -> Media:
    """The owner changes the alt text; the posts using it get it too (the caller sends
    their Updates: :func:`fedi.forum.media_alt.change_media_alt`)."""
    media = await store.get(conn, media_id)
    if media is None:
        raise NotFound(NO_SUCH_FILE)
    if media.owner_id != actor.id:
        raise Forbidden("Only the uploader may change this file's alt text.")
    fresh = await store.set_alt(conn, media.id, check_alt(alt, media.kind))
    for post_id in await store.posts_using(conn, media.id):
        await store.set_post_attachment_name(conn, post_id, media.id,
                                             fresh.alt or fresh.filename)
    for event_id in await store.events_using(conn, media.id):
        await store.set_event_attachment_name(conn, event_id, media.id,
                                              fresh.alt or fresh.filename)
    return fresh


# --- deleting --------------------------------------------------------------------------------

async def _delete_row_and_files(conn: Any, ctx: Context, media_id: int, *,
                                owner: int | None = None) -> bool:
    gone = await store.delete_if_unused(conn, media_id, force_owner=owner)
    if gone is None:
        return False
    files = media_store(ctx.settings)
    for name in (gone.stored_name, gone.preview_name):
        if name is None:
            continue
        await store.lock_name(conn, name)
        if not await store.name_in_use(conn, name):
            await files.delete(name)
    return True


async def delete_unused(ctx: Context, media_ids: list[int]) -> int:
    """Delete those of ``media_ids`` nothing uses any more (after a post was deleted or
    edited, an avatar replaced), with their files unless another upload shares them."""
    deleted = 0
    for media_id in media_ids:
        async with ctx.pool.acquire() as conn, conn.transaction():
            if await _delete_row_and_files(conn, ctx, media_id):
                deleted += 1
    return deleted


async def clean_unused(ctx: Context, *, now: datetime | None = None,
                       batch: int = 100) -> int:
    """Delete uploads nobody uses: never attached and older than a day, or released since
    (their post deleted by any path). Several processes may run this at once (the rows
    are taken with SKIP LOCKED). Returns how many were deleted."""
    cutoff = (now or datetime.now(UTC)) - ORPHAN_AGE
    deleted = 0
    while True:
        round_deleted = 0
        async with ctx.pool.acquire() as conn, conn.transaction():
            ids = await store.unused_candidates(conn, cutoff=cutoff, limit=batch)
            for media_id in ids:
                if await _delete_row_and_files(conn, ctx, media_id):
                    round_deleted += 1
        deleted += round_deleted
        if len(ids) < batch or not round_deleted:
            return deleted


async def erase_owner(ctx: Context, owner_id: int) -> int:
    """An erased account's uploads that nothing else uses (its posts are tombstones by
    now); an icon it uploaded for a group stays while the group shows it."""
    async with ctx.pool.acquire() as conn:
        ids = [m.id for m in await store.owned_by(conn, owner_id)]
    return await delete_unused(ctx, ids)


async def sweep_files(ctx: Context, *, now: datetime | None = None) -> int:
    """Delete stored files that no upload names and that are older than a day: what a
    process left that died between writing a file and committing its row (the row sweep
    above cannot see them). Returns how many were deleted."""
    files = media_store(ctx.settings)
    names = await files.names_older_than((now or datetime.now(UTC)) - ORPHAN_AGE)
    if not names:
        return 0
    async with ctx.pool.acquire() as conn:
        used = await store.names_in_use(conn, names)
    deleted = 0
    for name in names:
        if name in used:
            continue
        async with ctx.pool.acquire() as conn, conn.transaction():
            # Under the name's lock, as uploads write: one of the same content that is
            # being committed now keeps its file.
            await store.lock_name(conn, name)
            if not await store.name_in_use(conn, name):
                await files.delete(name)
                deleted += 1
    if deleted:
        log.info("deleted %d stored files that no upload names", deleted)
    return deleted


async def start_media_cleanup(ctx: Context, run_workers: bool
                              ) -> Callable[[], Awaitable[None]] | None:
    """Startup hook: while workers run, delete unused uploads every 15 minutes, and files
    no upload names every :data:`FILE_SWEEP_INTERVAL` (listing a bucket costs more)."""
    if not run_workers:
        return None
    last_sweep = [float("-inf")]

    async def job() -> None:
        await clean_unused(ctx)
        if time.monotonic() - last_sweep[0] >= FILE_SWEEP_INTERVAL:
            last_sweep[0] = time.monotonic()
            await sweep_files(ctx)

    return run_periodically(job, CLEANUP_INTERVAL, "cleaning up unused uploads", log)
