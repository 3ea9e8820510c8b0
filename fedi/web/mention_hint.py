"""The hint after a post with mentions that stayed text: the redirect to the thread
carries the handles (``?unbekannt=@name@host``), and the thread page shows them.

Only strings shaped like a handle are shown (at most :data:`MAX_SHOWN`), so a crafted
link cannot put other words on the page; the template escapes them as always.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from fedi.core.mention_markup import HANDLE

PARAM = "unbekannt"
MAX_SHOWN = 10


def with_hint(path: str, warnings: list[dict[str, str]]) -> str:
    """``path`` (maybe with a #fragment) with the unresolved handles as query."""
    handles = [w["handle"] for w in warnings if w.get("code") == "unknown_mention"]
    if not handles:
        return path
    base, hash_, fragment = path.partition("#")
    query = urlencode([(PARAM, h) for h in handles[:MAX_SHOWN]])
    return f"{base}?{query}{hash_}{fragment}"


def unknown_mentions(request: Request) -> list[str]:
    """The handles to name on the page, as written ("@name" or "@name@host")."""
    shown: list[str] = []
    for value in request.query_params.getlist(PARAM)[:MAX_SHOWN]:
        if HANDLE.fullmatch(value) and value not in shown:
            shown.append(value)
    return shown
