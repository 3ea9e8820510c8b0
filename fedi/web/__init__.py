"""The web forum: German-first, accessible server-rendered pages (Jinja2, gettext).

``routes`` go into the app's route table; ``install(app)`` registers the page renderers
for the URLs shared with ActivityPub, the rate limiters and HTML error pages.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from fedi.web.account_pages import default_limits
from fedi.web.common import html_error_handlers, unavailable_page, wants_html
from fedi.web.event_pages import HTML_PAGES as EVENT_PAGES
from fedi.web.modlog_page import HTML_PAGES as TRANSPARENCY_PAGES
from fedi.web.page_cache import PageCache, PageStore
from fedi.web.pages import HTML_PAGES
from fedi.web.routes import routes

__all__ = ["install", "routes", "unavailable_page", "wants_html"]


def install(app: Any) -> None:
    """Register the forum's pages, limiters and error pages on ``app`` (a Starlette app)."""
    pages = getattr(app.state, "html_pages", None)
    if pages is None:
        pages = app.state.html_pages = {}
    pages.update(HTML_PAGES)
    pages.update(TRANSPARENCY_PAGES)  # kinds "modlog" and "moderators"
    pages.update(EVENT_PAGES)  # kind "event" (fedi/routes/events.py)
    app.state.web_limits = default_limits()
    html_error_handlers(app)
    # Anonymous readers' pages, cached with a version check (fedi/web/page_cache.py);
    # inside the access log, outside the error handlers.
    app.state.page_store = PageStore()
    app.user_middleware.append(Middleware(PageCache))
