"""``GET /api/v1/instance``: what this instance is, in the shape of Mastodon's v2 instance
entity (the fields Mastodon-style clients read: domain, title, description, contact,
registrations, rules, languages, usage), plus the addresses of the pages a German public
body must publish. Public; the settings are fedi/forum/instance_settings.py's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi import __version__
from fedi.core.context import Context
from fedi.core.errors import NotFound
from fedi.core.i18n import LANGUAGES
from fedi.forum import instance_settings, statistics, terms
from fedi.forum.accounts import get_registration_mode
from fedi.routes.api_instance_spec import LINKS
from fedi.routes.api_instance_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec

RULES_KIND = "rules"  # the Netiquette, a document kind of fedi/forum/terms.py
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_HEADING = re.compile(r"^\s*#")


def rules_of(markdown: str) -> list[dict[str, str]]:
    """The rules of the Netiquette's Markdown: its list items (a continued line joins its
    item), or, without a list, its paragraphs other than headings."""
    items: list[str] = []
    in_item = False
    for line in markdown.splitlines():
        found = _ITEM.match(line)
        if found:
            items.append(found.group(1).strip())
            in_item = True
        elif in_item and line.strip() and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            in_item = False
    if not items:
        paragraphs = re.split(r"\n\s*\n", markdown)
        items = [" ".join(p.split()) for p in paragraphs
                 if p.strip() and not _HEADING.match(p)]
    return [{"id": str(number), "text": text}
            for number, text in enumerate((i for i in items if i), start=1)]


async def _rules(conn: Any) -> list[dict[str, str]]:
    try:
        document = await terms.current(conn, RULES_KIND)
    except NotFound:  # nothing published yet
        return []
    return rules_of(document.source)


async def get_instance(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    async with ctx.pool.acquire() as conn:
        settings = await instance_settings.current(conn, ctx.settings.instance_name)
        mode = await get_registration_mode(conn)
        rules = await _rules(conn)
        counts = await statistics.collect(conn, datetime.now(UTC))
    languages = [settings.default_language] + [
        lang for lang in LANGUAGES if lang != settings.default_language]
    return JSONResponse({
        "domain": ctx.settings.host,
        "title": settings.name,
        "version": __version__,
        "description": settings.description,
        "languages": languages,
        "usage": {"users": {"active_month": counts.active_month}},
        "registrations": {"enabled": mode != "closed",
                          "approval_required": mode == "approval", "mode": mode},
        "contact": {"email": settings.contact_email or None},
        "rules": rules,
        "links": {name: ctx.url(path) for name, path in LINKS.items()},
    })


routes = [Route("/api/v1/instance", get_instance, methods=["GET"])]
