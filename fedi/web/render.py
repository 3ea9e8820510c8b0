"""Rendering pages: one Jinja2 environment per language, security headers, flash notes.

Autoescape is on for every template; the only markup marked safe is post and group
content, which the domain services have already sanitised (``fedi.core.markup``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fedi.core import i18n
from fedi.core.context import Context
from fedi.core.markup import shift_headings
from fedi.forum import instance_settings, terms
from fedi.web import media_display, media_proxy
from fedi.web.messages import translate_message
from fedi.web.session import CSRF_FIELD, csrf_token, current_viewer, set_csrf_cookie
from storage import notifications as notification_store

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "demisa_lang"
FLASH_COOKIE = "demisa_flash"

# No inline script or style anywhere: everything comes from /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

# Flash notes are keys, not text, so a cookie can never inject words into a page.
FLASH_KEYS = frozenset({
    "signed_up", "pending", "logged_in", "logged_out", "posted", "replied", "edited",
    "deleted", "liked", "unliked", "followed", "follow_pending", "unfollowed",
    # moderation
    "reported", "removed", "restored", "locked", "unlocked", "pinned", "unpinned", "banned",
    "unbanned", "assigned", "resolved", "domain_blocked", "domain_unblocked",
    "instance_reset", "approved", "rejected",
    # terms (fedi/web/terms_pages.py)
    "terms_accepted", "terms_published",
    # settings (fedi/web/settings_pages.py)
    "settings_saved", "password_changed", "logged_out_everywhere", "email_change_sent",
    "email_changed",
    # notifications (fedi/web/notification_pages.py)
    "notifications_read", "watching", "muted", "unwatched", "group_muted", "group_unmuted",
    # the admin area (fedi/web/admin_area_pages.py and its neighbours)
    "admin_saved", "group_created", "group_deleted", "account_deleted_by_admin",
})


def post_html(content: str, base: int = 2) -> Markup:
    """Content sanitised by ``fedi.core.markup``, marked safe, its headings fitted below
    the page's heading of level ``base`` (the page keeps its one h1; a "# Title" in a
    post right under the page's h1 becomes an h2, under an h2 section an h3)."""
    return Markup(shift_headings(content, base))  # noqa: S704 - sanitised by nh3


@functools.cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = i18n.date_time_formatter(lang)
    env.filters["number"] = lambda value: i18n.format_number(value, lang)
    env.filters["iso"] = i18n.machine_date_time
    env.filters["post_html"] = post_html
    env.filters["filesize"] = lambda value: media_display.file_size(value, lang)
    env.filters["document_kind"] = media_display.document_kind
    env.filters["initials"] = media_display.initials
    env.tests["image_attachment"] = media_display.is_image
    env.globals["image_src"] = media_proxy.image_src  # issue 19: remote images proxied
    env.globals["lang"] = lang
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["csrf_field"] = CSRF_FIELD
    return env


_STATE_DEFAULT_LANGUAGE = "default_language"


def language(request: Request) -> str:
    """The switch (cookie), else the browser's Accept-Language, else the instance's
    default language (/admin/settings; known once :func:`page` has read it)."""
    cookie = request.cookies.get(LANG_COOKIE)
    header = request.headers.get("accept-language")
    if cookie in i18n.LANGUAGES or i18n.parse_accept_language(header):
        return i18n.pick_language(cookie, header)
    default = getattr(request.state, _STATE_DEFAULT_LANGUAGE, None)
    return default if default in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def current_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go on to; anything else (another host, //host) becomes ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


async def page(request: Request, template: str, context: dict[str, Any] | None = None,
               *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Render ``template`` for this request's language and viewer."""
    name = _ctx(request).settings.instance_name
    viewer = await current_viewer(request)
    terms_due = False
    unread_notifications = 0
    if status != 503:  # the 503 page is for when the database cannot be reached
        async with _ctx(request).pool.acquire() as conn:
            # The name and default language an admin gave the instance (/admin/settings).
            own = await instance_settings.current(conn, name)
            await media_proxy.prepare(request, conn)  # image_src signs proxy URLs
            if viewer is not None:
                # New terms to accept: a banner on every page says so
                # (fedi/forum/terms.py).
                terms_due = bool(await terms.due(conn, viewer.account))
                # The bell's count in the header: one small indexed query.
                unread_notifications = await notification_store.unread_count(
                    conn, viewer.account.id)
        name = own.name
        setattr(request.state, _STATE_DEFAULT_LANGUAGE, own.default_language)
    lang = language(request)
    flash = request.cookies.get(FLASH_COOKIE)
    values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "csrf": csrf_token(request),
        "instance_name": name,
        "here": current_path(request),
        "here_quoted": quote(current_path(request), safe=""),
        "flash": flash if flash in FLASH_KEYS else None,
        "terms_due": terms_due,
        "unread_notifications": unread_notifications,
    }
    values.update(context or {})
    body = environment(lang).get_template(template).render(values)
    response = HTMLResponse(body, status_code=status, headers=headers)
    finish(request, response, lang)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def finish(request: Request, response: Response, lang: str | None = None) -> None:
    """Headers every web response carries."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if lang is not None:
        response.headers["Content-Language"] = lang
    # Pages differ by viewer and language: shared caches must not keep them.
    response.headers.setdefault("Cache-Control", "private, no-cache")
    set_csrf_cookie(request, response)


def redirect(request: Request, url: str, *, flash: str | None = None) -> Response:
    """POST-redirect-GET: 303 so the browser follows with a GET."""
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        response.set_cookie(FLASH_COOKIE, flash, max_age=60, httponly=True,
                            secure=_ctx(request).settings.https, samesite="lax", path="/")
    finish(request, response)
    return response


def translate(request: Request, message: str, status: int | None = None) -> str:
    """A service's message in the page's language; one it does not know becomes the
    general sentence for ``status`` (fedi.web.messages), never the raw text."""
    return translate_message(language(request), message, status)
