"""Files in the web's post forms (issue 19), without JavaScript: a few slots of a file
input each followed by its alt text input (``name="file"`` / ``name="alt"``, in order),
the uploads already made kept as checked ``media_id`` boxes when the form comes back
with an error (or, when editing, the files the post has), so nothing is uploaded twice.
The same services as the API (fedi/forum/media.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from fedi.core.errors import AppError
from fedi.forum import media as media_service
from fedi.routes.uploads import read_multipart, read_upload
from fedi.web.common import ctx_of, int_param
from fedi.web.session import check_csrf
from storage import media as media_store
from storage.actors import Actor

__all__ = ["FILE_SLOTS", "MediaInput", "form_media", "read_post_form", "upload_context"]

FILE_SLOTS = 3


@dataclass
class MediaInput:
    """What a post form brought: the uploads to attach (kept ones first, then the new
    ones), what to show as kept if the form comes back, and the first upload error."""

    ids: list[int] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)
    error: AppError | None = None


async def read_post_form(request: Request) -> FormData:
    """The posted form (multipart with up to FILE_SLOTS files, or urlencoded) after the
    CSRF check."""
    form = await read_multipart(request, ctx_of(request), max_files=FILE_SLOTS)
    check_csrf(request, form)
    return form


def _label(media: media_store.Media) -> str:
    return media.alt or media.filename or f"#{media.id}"


async def _kept(request: Request, actor: Actor, ids: list[int]) -> list[dict[str, Any]]:
    shown = []
    async with ctx_of(request).pool.acquire() as conn:
        for media_id in ids:
            media = await media_store.get(conn, media_id)
            if media is not None and media.owner_id == actor.id:
                shown.append({"id": media.id, "label": _label(media), "kind": media.kind})
    return shown


async def form_media(request: Request, actor: Actor, form: FormData) -> MediaInput:
    """Upload the form's files (in slot order, each with its alt text) and collect the
    kept ``media_id`` boxes. Stops at the first refused file (``error``); the uploads
    before it are kept for the next try."""
    ctx = ctx_of(request)
    result = MediaInput()
    for raw in form.getlist("media_id"):
        media_id = int_param(raw) if isinstance(raw, str) else None
        if media_id is not None and media_id not in result.ids:
            result.ids.append(media_id)
    alts = [a if isinstance(a, str) else "" for a in form.getlist("alt")]
    files = form.getlist("file")
    result.alts = [alts[i] if i < len(alts) else "" for i in range(len(files))]
    try:
        for index, item in enumerate(files):
            found = await read_upload(item, ctx)
            if found is None:
                continue
            media = await media_service.upload(
                ctx, owner=actor, data=found[0], filename=found[1],
                alt=alts[index] if index < len(alts) else "")
            result.ids.append(media.id)
            result.alts[index] = ""
    except AppError as exc:
        result.error = exc
    finally:
        await form.close()
    result.kept = await _kept(request, actor, result.ids)
    return result


def upload_context(request: Request, *, kept: list[dict[str, Any]] | None = None,
                   alts: list[str] | None = None) -> dict[str, Any]:
    """What the form's file slots need (templates/_upload_fields.html)."""
    return {"media_kept": kept or [], "media_alts": alts or [], "media_slots": FILE_SLOTS,
            "media_max_mb": ctx_of(request).settings.media_max_mb}


def attachments_kept(attachments: list[Any]) -> list[dict[str, Any]]:
    """A post's own uploads, for the edit form's boxes."""
    return [{"id": a["media_id"], "label": a.get("name") or a.get("filename") or "",
             "kind": "image" if a.get("type") == "Image" else "document"}
            for a in attachments if isinstance(a, dict) and isinstance(a.get("media_id"), int)]
