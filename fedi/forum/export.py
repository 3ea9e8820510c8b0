"""The data export (DSGVO Art. 15/20): a ZIP of JSON files and a README, streamed.

The ZIP is written to a sink that hands out what it holds after each step, so the
answer starts at once and memory stays small: posts are read in keyset pages of
:data:`PAGE` (each page on a connection of its own, none held while the client reads).
The account and profile are read generically from their rows, so columns and
per-account tables added later appear without a change here (secrets left out).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

from fedi.core.context import Context
from fedi.core.media_store import media_store as media_store_for
from storage import export as store
from storage import media as media_store
from storage.accounts import Account

__all__ = ["FILES", "PAGE", "export_filename", "export_zip"]

PAGE = 500

# file -> (English, German) description, for the README.
FILES: dict[str, tuple[str, str]] = {
    "account.json": ("your account and profile (e-mail address, role, language, display "
                     "name, bio, and any further profile fields); no password hash",
                     "Ihr Konto und Profil (E-Mail-Adresse, Rolle, Sprache, Anzeigename, "
                     "Beschreibung und weitere Profilfelder); kein Passwort-Hash"),
    "posts.json": ("every post you wrote (threads and replies): the Markdown you typed "
                   "(source) and the HTML shown (content_html), deleted ones as tombstones",
                   "alle Ihre Beiträge (Themen und Antworten): der eingegebene Markdown-Text "
                   "(source) und das angezeigte HTML (content_html), gelöschte als "
                   "Grabsteine"),
    "likes.json": ("the posts you liked (or disliked)",
                   "die Beiträge, die Ihnen gefallen (oder nicht gefallen) haben"),
    "follows.json": ("the groups (local and on other servers) you follow",
                     "die Gruppen (hier und auf anderen Servern), denen Sie folgen"),
    "reports.json": ("the reports you made to the moderators",
                     "Ihre Meldungen an die Moderation"),
    "notifications.json": ("your notifications (replies, mentions, likes, answers, "
                           "moderation notices): type, who caused them, the post, when, "
                           "whether read",
                           "Ihre Benachrichtigungen (Antworten, Erwähnungen, Gefällt-mir, "
                           "Antworten auf Fragen, Moderationshinweise): Art, wer sie "
                           "ausgelöst hat, der Beitrag, wann, ob gelesen"),
    "media.json": ("the files and pictures you uploaded: type, size, alt text, file name, "
                   "the address where each can be downloaded while it is in use, and "
                   "where its copy in this archive is (file)",
                   "die Dateien und Bilder, die Sie hochgeladen haben: Art, Größe, "
                   "Alternativtext, Dateiname, die Adresse, unter der jede Datei "
                   "herunterzuladen ist, solange sie verwendet wird, und wo ihre Kopie "
                   "in diesem Archiv liegt (file)"),
    "media/": ("the files and pictures themselves, as this instance serves them (pictures "
               "re-encoded without their metadata)",
               "die Dateien und Bilder selbst, wie diese Instanz sie ausliefert (Bilder "
               "neu kodiert, ohne Metadaten)"),
    "sessions.json": ("your log-in sessions and API tokens (names and dates; never the "
                      "tokens themselves, which are not stored)",
                      "Ihre Anmeldesitzungen und API-Tokens (Namen und Zeiten; nie die "
                      "Tokens selbst, die nicht gespeichert werden)"),
}


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    return str(value)


def _json(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False, indent=1).encode()


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out after each step."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def export_filename(account: Account, now: datetime) -> str:
    return f"demisa-export-{account.username}-{now:%Y-%m-%d}.zip"


def readme(ctx: Context, account: Account, now: datetime) -> str:
    host = ctx.settings.host
    lines = [f"Datenexport / Data export: {account.username}@{host}",
             f"Instanz / Instance: {ctx.settings.base_url}",
             f"Erstellt / Created: {now.isoformat(timespec='seconds')}", "",
             "Deutsch", "-------",
             "Diese Datei enthält die Daten, die diese Instanz über Ihr Konto speichert "
             "(DSGVO Art. 15 und 20). Jede Datei ist JSON (UTF-8):", ""]
    lines += [f"  {name}: {german}" for name, (_, german) in FILES.items()]
    lines += ["", "English", "-------",
              "This archive holds the data this instance keeps about your account "
              "(GDPR Art. 15 and 20). Each file is JSON (UTF-8):", ""]
    lines += [f"  {name}: {english}" for name, (english, _) in FILES.items()]
    return "\n".join(lines) + "\n"


async def _account_document(ctx: Context, account: Account) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        extra = {table: await store.rows_of_account(conn, table, account.id)
                 for table in await store.account_tables(conn)}
        return {"account": await store.account_row(conn, account.id),
                "actor": await store.actor_row(conn, account.actor_id),
                **extra}


def _archive_name(upload: media_store.Media) -> str:
    """Where an upload's file goes in the archive: its id first, so two files of the
    same name stay apart (the file name was cleaned of path parts on upload)."""
    return f"media/{upload.id}-{upload.filename or upload.stored_name}"


def _media(ctx: Context, uploads: list[media_store.Media],
           copied: set[int]) -> list[dict[str, Any]]:
    base = f"{ctx.settings.base_url}/media/"
    return [{"id": m.id, "kind": m.kind, "media_type": m.media_type, "size": m.size,
             "width": m.width, "height": m.height, "alt": m.alt, "filename": m.filename,
             "url": base + m.stored_name, "created_at": m.created_at,
             "file": _archive_name(m) if m.id in copied else None} for m in uploads]


async def export_zip(ctx: Context, account: Account,
                     now: datetime | None = None) -> AsyncIterator[bytes]:
    """The ZIP, chunk by chunk."""
    moment = now or datetime.now(UTC)
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme(ctx, account, moment))
        archive.writestr("account.json", _json(await _account_document(ctx, account)))
        yield sink.take()
        with archive.open("posts.json", "w", force_zip64=True) as out:
            out.write(b"[")
            after, first = 0, True
            while True:
                async with ctx.pool.acquire() as conn:
                    page = await store.posts_page(conn, account.actor_id, after_id=after,
                                                  limit=PAGE)
                for post in page:
                    out.write((b"\n" if first else b",\n") + _json(post))
                    first = False
                chunk = sink.take()
                if chunk:  # the compressor hands out data once it has enough
                    yield chunk
                if len(page) < PAGE:
                    break
                after = page[-1]["id"]
            out.write(b"\n]\n")
        async with ctx.pool.acquire() as conn:
            archive.writestr("likes.json", _json(await store.likes(conn, account.actor_id)))
            archive.writestr("follows.json",
                             _json(await store.follows(conn, account.actor_id)))
            archive.writestr("reports.json",
                             _json(await store.reports_made(conn, account.actor_id)))
            archive.writestr("sessions.json", _json(await store.tokens(conn, account.id)))
            uploads = await media_store.owned_by(conn, account.actor_id)
            archive.writestr("notifications.json",
                             _json(await store.notifications(conn, account.id)))
        yield sink.take()
        # The files one at a time (each at most FEDI_MEDIA_MAX_MB), none held after it is
        # written; pictures and PDFs are compressed already, so they are stored as they are.
        files = media_store_for(ctx.settings)
        copied: set[int] = set()
        for upload in uploads:
            data = await files.read(upload.stored_name)
            if data is None:  # gone from the store: media.json says so (file: null)
                continue
            archive.writestr(_archive_name(upload), data, compress_type=(
                zipfile.ZIP_DEFLATED if upload.media_type.startswith("text/")
                else zipfile.ZIP_STORED))
            copied.add(upload.id)
            yield sink.take()
        archive.writestr("media.json", _json(_media(ctx, uploads, copied)))
    yield sink.take()
