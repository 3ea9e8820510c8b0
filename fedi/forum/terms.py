"""Terms of use and privacy policy: versions the administration publishes (Markdown), and
the consent of each account. The other legal documents (Impressum, accessibility
statement, Netiquette: ``impressum``, ``accessibility``, ``rules``) are versioned the same
way but ask nobody's consent and have no built-in version (fedi/forum/legal.py).

Which versions an account must have accepted (the one rule, asked by
fedi/forum/policy.py before anyone writes):

- Version 1 of each document is the built-in template seeded by migration 0010; it binds
  no account retroactively (an instance that upgrades does not lock out its users with a
  template nobody wrote).
- Self-service sign-up (API and web form, :func:`register`) requires accepting the
  current versions and records that with the time.
- The version current when an account is created counts as accepted: a sign-up recorded
  it; an account created by an administrator (``fedi user create``, the admin API) agreed
  outside the forum, so nothing is recorded and nothing blocks it.
- Every version published after the account was created must be accepted explicitly
  (:func:`accept`) before the account writes again; until then the policy refuses with
  ``terms_not_accepted`` (reports stay possible).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from fedi.core.context import Context
from fedi.core.errors import AppError, Conflict, NotFound, ValidationFailed
from fedi.core.markup import render_markdown
from fedi.forum import accounts
from fedi.forum.staff import Staff, log, require_admin
from storage import terms as store
from storage.accounts import Account
from storage.terms import CONSENT_KINDS, KINDS, Acceptance, Document

__all__ = [
    "CONSENT_KINDS",
    "KINDS",
    "TEXT_MAX",
    "Acceptance",
    "Document",
    "TermsNotAccepted",
    "accept",
    "accept_current",
    "acceptances",
    "check_kind",
    "current",
    "current_all",
    "current_or_none",
    "due",
    "publish",
    "register",
    "versions",
]

TEXT_MAX = 100_000
SIGN_UP_MESSAGE = ('Sign-up needs the acceptance of the current terms of use and privacy '
                   'policy: send "accept_terms": true.')


class TermsNotAccepted(AppError):
    status = 400
    code = "terms_not_accepted"


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}, got {kind!r}",
                               field="kind")
    return kind


async def current(conn: Any, kind: str) -> Document:
    found = await store.current(conn, check_kind(kind))
    if found is None:  # migration 0010 seeds version 1 of each
        raise NotFound(f"no version of {kind} is published")
    return found


async def current_or_none(conn: Any, kind: str) -> Document | None:
    """The current version of ``kind``; None while none is published."""
    return await store.current(conn, check_kind(kind))


async def current_all(conn: Any) -> list[Document]:
    """The current version of each document that asks for consent, terms first."""
    return [await current(conn, kind) for kind in CONSENT_KINDS]


async def versions(conn: Any, kind: str) -> list[Document]:
    return await store.versions(conn, check_kind(kind))


async def due(conn: Any, account: Account) -> list[Document]:
    """The current versions ``account`` has yet to accept (empty: it may write)."""
    return await store.due(conn, account.id)


async def acceptances(conn: Any, account: Account) -> list[Acceptance]:
    return await store.acceptances(conn, account.id)


def _check_text(text: str) -> str:
    if "\x00" in text:
        raise ValidationFailed("text must not contain NUL characters", field="text")
    value = text.strip()
    if not value:
        raise ValidationFailed("text must not be empty", field="text")
    if len(value) > TEXT_MAX:
        raise ValidationFailed(f"text must be at most {TEXT_MAX} characters", field="text")
    return value


async def publish(ctx: Context, staff: Staff, kind: str, text: str) -> Document:
    """Publish the next version of ``kind`` (admins only; the role is checked first).

    For the terms and the privacy policy, everyone who signed up before must accept it
    before writing again; the modlog says that the document changed."""
    require_admin(staff)
    check_kind(kind)
    source = _check_text(text)
    async with ctx.pool.acquire() as conn, conn.transaction():
        before = await store.current(conn, kind)
        if before is not None and before.source == source:
            raise Conflict(f"the text is the same as version {before.version}", field="text")
        try:
            document = await store.publish(conn, kind=kind, source=source,
                                           html=render_markdown(source),
                                           created_by=staff.account.id)
        except asyncpg.UniqueViolationError:
            raise Conflict("another version was published at the same moment; "
                           "please try again") from None
        action = "terms_publish" if kind in CONSENT_KINDS else "legal_publish"
        await log(conn, action, staff=staff,
                  details={"kind": kind, "version": document.version})
    return document


async def accept(conn: Any, account: Account, kind: str, version: int) -> None:
    """Record that ``account`` accepts ``version`` of ``kind``, which must be current
    (409 for an older one: the reader saw a text that no longer applies). Only the terms
    and the privacy policy are accepted (422 for the other kinds)."""
    if check_kind(kind) not in CONSENT_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(CONSENT_KINDS)}, "
                               f"got {kind!r}", field="kind")
    now = await current(conn, kind)
    if version != now.version:
        raise Conflict(f"version {version} of {kind} is not the current one: "
                       f"read and accept version {now.version}", field="version")
    await store.accept(conn, account.id, kind, version)


async def accept_current(conn: Any, account: Account) -> None:
    """Record acceptance of the current version of every document (at sign-up)."""
    for document in await current_all(conn):
        await store.accept(conn, account.id, document.kind, document.version)


async def register(conn: Any, ctx: Context, *, accept_terms: bool, username: str,
                   email: str, password: str, display_name: str | None = None,
                   reason: str | None = None) -> Account:
    """Self-service sign-up (fedi.forum.accounts.register) that needs the current terms
    and privacy policy accepted: 400 ``terms_not_accepted`` without; the acceptance is
    stored with the account, in the same transaction."""
    if accept_terms is not True:
        raise TermsNotAccepted(SIGN_UP_MESSAGE, field="accept_terms")
    async with conn.transaction():
        account = await accounts.register(
            conn, ctx, username=username, email=email, password=password,
            display_name=display_name, reason=reason)
        await accept_current(conn, account)
    return account
