"""OpenAPI paths of fedi/routes/api_media.py (uploads) and the schemas only they use."""

from __future__ import annotations

from typing import Any

from fedi.forum import media as media_service
from fedi.routes.api_schemas import (
    INT,
    OPT_INT,
    OPT_STR,
    STR,
    URI,
    define,
    obj,
    ok,
    operation,
    path_param,
    ref,
)

define("Media", obj({
    "id": INT,
    "url": {**URI, "description": "the served file (content-addressed, cached for a year)"},
    "preview_url": {"type": ["string", "null"], "format": "uri",
                    "description": "images: a WebP at most 400 pixels a side"},
    "media_type": {**STR, "description": "of the served file, decided from its content"},
    "alt": {**OPT_STR, "description": "alt text (required for images)"},
    "kind": {"type": "string", "enum": ["image", "document"]},
    "size": {**INT, "description": "bytes of the served file"},
    "width": OPT_INT, "height": OPT_INT,
    "blurhash": OPT_STR,
    "filename": {**OPT_STR, "description": "documents: the uploaded file's name"},
}, description="An upload (api_media.media_view)."))
define("MediaUpload", obj({
    "file": {"type": "string", "contentMediaType": "application/octet-stream",
             "description": "JPEG, PNG, WebP, GIF, PDF, text, CSV, OpenDocument or Office "
                            "Open XML; the type is decided from the content"},
    "alt": {"type": "string", "maxLength": media_service.ALT_MAX,
            "description": "alt text; required for images"},
}, optional=["alt"]))
define("MediaAltRequest", obj({"alt": {"type": ["string", "null"],
                                       "maxLength": media_service.ALT_MAX}}))

_ID = path_param("id", integer=True)
_REFUSED = ("refused (`media_refused`: not an accepted type, HTML or SVG, a damaged file, "
            "too many pixels, a possible ZIP bomb), `quota_exceeded`, a missing alt "
            "text (`validation_failed`, field alt), or no file / not multipart/form-data "
            "(`validation_failed`, field file)")

_upload = operation(
    "uploadMedia", "Upload an image or a document", "media", auth=True,
    responses={"201": ok("the stored upload", "Media"),
               "400": "a malformed multipart body, or more than one file (`http_error`)",
               "413": "the file is larger than FEDI_MEDIA_MAX_MB (`payload_too_large`)",
               "422": _REFUSED},
    description="Attach it afterwards with `media_ids` when writing a post, or use it as "
                "avatar (`PATCH /api/v1/me`) or group icon/banner. Uploads never attached "
                "are deleted after a day.")
_upload["requestBody"] = {"required": True, "content": {
    "multipart/form-data": {"schema": ref("MediaUpload")}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/media": {"post": _upload},
    "/api/v1/media/{id}": {"patch": operation(
        "changeMediaAlt", "Change an upload's alt text (also in the posts using it)", "media",
        auth=True, params=[_ID], body="MediaAltRequest",
        responses={"200": ok("the upload", "Media"),
                   "403": "not your upload (`forbidden`)",
                   "404": "no such upload (`not_found`)",
                   "422": "alt missing, too long, or empty for an image"})},
}
