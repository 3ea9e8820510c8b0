"""What pages show of attachments and avatars (issue 19): file sizes in the reader's
language, a document's type in words, initials for people and groups without a picture.
The markup is in ``templates/_attachments.html`` and ``templates/_avatar.html``."""

from __future__ import annotations

from typing import Any

from babel.units import format_unit

__all__ = ["document_kind", "file_size", "initials", "is_image"]

# Short names readers know, by media type (documents; images are shown, not named).
_KINDS = {
    "application/pdf": "PDF",
    "text/plain": "Text",
    "text/csv": "CSV",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.oasis.opendocument.presentation": "ODP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
    "application/msword": "DOC",
    "application/vnd.ms-excel": "XLS",
    "application/zip": "ZIP",
}


def file_size(value: Any, lang: str) -> str:
    """``1,2 MB`` / ``1.2 MB``, ``340 kB`` (decimal units, as operating systems show them)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return ""
    if value >= 1_000_000:
        return format_unit(value / 1_000_000, "digital-megabyte", length="short",
                           locale=lang, format="#,##0.#")
    if value >= 1_000:
        return format_unit(value / 1_000, "digital-kilobyte", length="short",
                           locale=lang, format="#,##0")
    return format_unit(value, "digital-byte", length="short", locale=lang)


def document_kind(media_type: Any, name: Any = None) -> str:
    """A document's type in words: "PDF", "DOCX" ...; else its file name's extension,
    else the media type's subtype."""
    if isinstance(media_type, str):
        base = media_type.split(";")[0].strip().lower()
        if base in _KINDS:
            return _KINDS[base]
    if isinstance(name, str) and "." in name.strip(". "):
        extension = name.rsplit(".", 1)[1]
        if extension.isalnum() and len(extension) <= 5:
            return extension.upper()
    if isinstance(media_type, str) and "/" in media_type:
        return media_type.split("/", 1)[1].split(";")[0].split("+")[0].upper()[:12]
    return ""


def is_image(item: Any) -> bool:
    """Whether an attachment (a ``posts.attachments`` item) is shown as a picture."""
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        return False
    media_type = item.get("media_type")
    if isinstance(media_type, str):
        return media_type.lower().startswith(("image/jpeg", "image/png", "image/webp",
                                              "image/gif", "image/avif"))
    return item.get("type") == "Image"


def initials(name: Any) -> str:
    """Up to two letters for an avatar's stand-in: "Anna Berg" -> "AB", "breitband" -> "B"."""
    if not isinstance(name, str):
        return "?"
    words = [w for w in name.replace("_", " ").replace("-", " ").replace(".", " ").split()
             if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()
