"""The pages a German public body must publish, beyond the terms of use and the privacy
policy of fedi/forum/terms.py: Impressum (§ 5 DDG), accessibility statement (BITV 2.0,
§ 12b BGG) and Netiquette. They are versions of the same ``legal_documents``
(``terms.publish`` publishes them); this module holds their German starting texts,
which required document is still missing, and the accessibility feedback channel.

No placeholder is ever published: until an administrator publishes version 1 of the
Impressum, the accessibility statement or the Netiquette, their pages say that it is not
yet published, and the template is only the starting text of the admin form (a public
body must not show an Impressum with "[Name der Kommune]" in it).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.core.mail import enqueue_mail, mail_language
from fedi.forum.staff import Staff, log, require_admin
from storage import feedback as feedback_store
from storage import terms as terms_store
from storage.feedback import Feedback

__all__ = [
    "FEEDBACK_MESSAGE_MAX",
    "REQUIRED_KINDS",
    "Feedback",
    "delete_feedback",
    "feedback_list",
    "missing_required_documents",
    "send_feedback",
    "template",
]

TEMPLATES = Path(__file__).resolve().parent / "legal_templates"
# What a public body's website must carry; the Netiquette and the terms are optional.
REQUIRED_KINDS = ("impressum", "privacy", "accessibility")
# Version 1 of these is the built-in placeholder of migration 0010, not a published text.
_BUILT_IN_FIRST = ("terms", "privacy")
FEEDBACK_NAME_MAX = 200
FEEDBACK_EMAIL_MAX = 320
FEEDBACK_PAGE_MAX = 2000
FEEDBACK_MESSAGE_MAX = 5000
_ADDRESS_PART = r"[^@\s\x00-\x1f\x7f<>,;\"]+"
_EMAIL = re.compile(rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$")


@functools.cache
def template(kind: str) -> str:
    """The German starting text of the admin form for ``kind`` ('' when there is none:
    the terms and the privacy policy start from their current version)."""
    path = TEMPLATES / f"{kind}.de.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


async def missing_required_documents(conn: Any) -> list[str]:
    """The kinds among impressum, privacy and accessibility that have no published version
    (the privacy policy's built-in placeholder does not count), in that order."""
    published = await terms_store.published_kinds(conn)
    minimum = {kind: 2 if kind in _BUILT_IN_FIRST else 1 for kind in REQUIRED_KINDS}
    return [kind for kind in REQUIRED_KINDS if published.get(kind, 0) < minimum[kind]]


# The form's errors, whole sentences (fedi/web/legal_pages.py marks them for the catalogs).
MESSAGE_REQUIRED = "Please write a message."
MESSAGE_TOO_LONG = "The message is too long (at most 5000 characters)."
NAME_TOO_LONG = "The name is too long (at most 200 characters)."
EMAIL_INVALID = "This is not a valid e-mail address."
PAGE_TOO_LONG = "The page address is too long (at most 2000 characters)."


def _clean(value: str, field: str, limit: int, message: str) -> str:
    value = value.replace("\x00", "").strip()
    if len(value) > limit:
        raise ValidationFailed(message, field=field)
    return value


async def send_feedback(ctx: Context, *, name: str, email: str, message: str,
                        page: str = "") -> Feedback:
    """Store a message of the accessibility feedback form and mail it to every active
    administrator, in one transaction (no mail without the row, no row without the mails).
    Name, address and page are optional; the message is required."""
    name = " ".join(_clean(name, "name", FEEDBACK_NAME_MAX, NAME_TOO_LONG).split())
    email = _clean(email, "email", FEEDBACK_EMAIL_MAX, EMAIL_INVALID)
    page = " ".join(_clean(page, "page", FEEDBACK_PAGE_MAX, PAGE_TOO_LONG).split())
    message = _clean(message, "message", FEEDBACK_MESSAGE_MAX, MESSAGE_TOO_LONG)
    if not message:
        raise ValidationFailed(MESSAGE_REQUIRED, field="message")
    if email and not _EMAIL.match(email):
        raise ValidationFailed(EMAIL_INVALID, field="email")
    async with ctx.pool.acquire() as conn, conn.transaction():
        stored = await feedback_store.insert(conn, name=name, email=email, message=message,
                                             page=page)
        for address, locale in await feedback_store.admin_recipients(conn):
            await enqueue_mail(
                conn, ctx, to=address, template="accessibility_feedback",
                lang=mail_language(_Locale(locale)),
                values={"name": name, "email": email, "message": message, "page": page,
                        "feedback_url": ctx.url("/admin/feedback")},
                headers={"Reply-To": email} if email else None)
    return stored


class _Locale:
    def __init__(self, locale: str | None) -> None:
        self.locale = locale


async def feedback_list(conn: Any, staff: Staff, *, limit: int = 50,
                        before: int | None = None) -> list[Feedback]:
    """The newest feedback messages (admins only)."""
    require_admin(staff)
    return await feedback_store.newest(conn, limit=limit, before=before)


async def delete_feedback(ctx: Context, staff: Staff, feedback_id: int) -> None:
    """Delete a message once it is dealt with (admins only): it holds personal data of
    someone without an account, kept no longer than needed. The modlog records that one
    was deleted (not public: the messages are not)."""
    require_admin(staff)
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await feedback_store.delete(conn, feedback_id):
            raise NotFound("This feedback message does not exist.")
        await log(conn, "feedback_delete", staff=staff, public=False,
                  details={"feedback_id": feedback_id})
