"""Reading a multipart upload with a cap on the whole body (the API's POST /api/v1/media
and the web forms that take files): Starlette's form parser spools any size to disk, so
the bytes are counted as they arrive and a body over the limit is refused with 413."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.types import Message

from fedi.core.context import Context
from fedi.core.errors import PayloadTooLarge, ValidationFailed
from fedi.forum import media as media_service

__all__ = ["FORM_SLACK", "read_multipart", "read_upload"]

FORM_SLACK = 1024 * 1024  # the text fields and multipart framing beside the files
MAX_FIELDS = 60


class _TooLarge(Exception):
    pass


async def read_multipart(request: Request, ctx: Context, *, max_files: int) -> FormData:
    """The posted multipart form; 413 when the body is larger than ``max_files`` files of
    ``FEDI_MEDIA_MAX_MB`` and the fields, 422 when it is not multipart."""
    max_mb = ctx.settings.media_max_mb
    limit = max(max_files, 1) * max_mb * 1024 * 1024 + FORM_SLACK
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise media_service.too_large(max_mb)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise ValidationFailed("send the file as multipart/form-data", field="file")
    received = 0
    upstream = request.receive

    async def capped() -> Message:
        nonlocal received
        message = await upstream()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
        return message

    capped_request = Request(request.scope, capped)
    try:
        form = await capped_request.form(max_files=max_files, max_fields=MAX_FIELDS)
    except _TooLarge:
        raise media_service.too_large(max_mb) from None
    # The cached form belongs to the request the route holds too (the CSRF check reads it).
    request._form = form
    return form


async def read_upload(item: object, ctx: Context) -> tuple[bytes, str | None] | None:
    """One file field's bytes (at most FEDI_MEDIA_MAX_MB, else 413) and its name; None
    for an empty slot (no file chosen)."""
    if not isinstance(item, UploadFile):
        return None
    max_bytes = ctx.settings.media_max_mb * 1024 * 1024
    data = await item.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(media_service.too_large_message(ctx.settings.media_max_mb),
                              field="file")
    if not data and not item.filename:
        return None
    return data, item.filename
