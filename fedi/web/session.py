"""Browser sessions and CSRF protection for the web forum.

A session is a ``session``-kind token from :func:`fedi.forum.accounts.issue_token`; the
cookie holds the token, the database only its hash, so logging out revokes it for good.
Cookies are HttpOnly, SameSite=Lax and Secure when the instance runs on https.

CSRF: every form carries the value of a random ``csrf`` cookie (double submit). A page
on another site can neither read that cookie nor set it, and SameSite=Lax keeps the
session cookie off its cross-site POSTs in the first place.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.context import Context
from fedi.core.errors import Forbidden
from fedi.forum.accounts import issue_token, resolve_token, revoke_token
from fedi.web.messages import N_
from storage import actors as actor_store
from storage import moderation as moderation_store
from storage.accounts import Account
from storage.actors import Actor

SESSION_COOKIE = "demisa_session"
CSRF_COOKIE = "demisa_csrf"
CSRF_FIELD = "csrf_token"
SESSION_LIFETIME = timedelta(days=30)
_STATE_VIEWER = "web_viewer"
_STATE_CSRF = "web_csrf_new"
_UNSET = object()
CSRF_MESSAGE = N_("The form has expired or did not come from this site. Please reload the page "
                  "and try again.")


@dataclass(frozen=True)
class Viewer:
    """The logged-in person looking at a page."""

    account: Account
    actor: Actor
    token_id: int
    moderated_groups: tuple[int, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.account.is_admin

    @property
    def is_staff(self) -> bool:
        """Sees the moderation pages: an admin, or a moderator of some group."""
        return self.account.is_admin or bool(self.moderated_groups)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def cookie_options(request: Request, max_age: int | None) -> dict[str, Any]:
    return {
        "max_age": max_age,
        "httponly": True,
        "secure": _ctx(request).settings.https,
        "samesite": "lax",
        "path": "/",
    }


def assume_anonymous(request: Request) -> None:
    """Render this request's page as for a visitor who is not logged in, without asking
    the database (which cannot be reached: the 503 page)."""
    setattr(request.state, _STATE_VIEWER, None)


async def current_viewer(request: Request) -> Viewer | None:
    """The viewer behind the session cookie; None when absent, expired or inactive."""
    cached = getattr(request.state, _STATE_VIEWER, _UNSET)
    if cached is not _UNSET:
        assert cached is None or isinstance(cached, Viewer)
        return cached
    viewer = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with _ctx(request).pool.acquire() as conn:
            match = await resolve_token(conn, token)
            if (match is not None and match.token.kind == "session"
                    and match.account.status == "active"):
                actor = await actor_store.get(conn, match.account.actor_id)
                if actor is not None and actor.deleted_at is None:
                    moderated = await moderation_store.moderated_group_ids(conn, actor.id)
                    viewer = Viewer(match.account, actor, match.token.id, tuple(moderated))
    setattr(request.state, _STATE_VIEWER, viewer)
    return viewer


async def start_session(request: Request, response: Response, account: Account) -> None:
    """Log ``account`` in: a fresh session token and a fresh CSRF value."""
    async with _ctx(request).pool.acquire() as conn:
        token = await issue_token(conn, account, "web", kind="session",
                                  expires_in=SESSION_LIFETIME)
    max_age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(request, max_age))
    # A new CSRF value at log-in, so a value planted before cannot be used after.
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32),
                        **cookie_options(request, None))


async def end_session(request: Request, response: Response) -> None:
    viewer = await current_viewer(request)
    if viewer is not None:
        async with _ctx(request).pool.acquire() as conn:
            await revoke_token(conn, viewer.account, viewer.token_id)
    options = cookie_options(request, None)
    del options["max_age"]
    response.delete_cookie(SESSION_COOKIE, **options)


def csrf_token(request: Request) -> str:
    """The CSRF value for forms on this page; a new one is set as a cookie if needed."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    fresh: str | None = getattr(request.state, _STATE_CSRF, None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        setattr(request.state, _STATE_CSRF, fresh)
    return fresh


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the CSRF cookie when this request made a new value."""
    fresh: str | None = getattr(request.state, _STATE_CSRF, None)
    if fresh is not None:
        response.set_cookie(CSRF_COOKIE, fresh, **cookie_options(request, None))


def check_csrf(request: Request, form: Any) -> None:
    """403 unless the form's token equals the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not cookie or not secrets.compare_digest(
        sent.encode(), cookie.encode()
    ):
        raise Forbidden(CSRF_MESSAGE, code="csrf_failed")
