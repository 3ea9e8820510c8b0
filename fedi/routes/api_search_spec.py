"""OpenAPI paths of fedi/routes/api_search.py (search threads and posts)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import (
    BOOL,
    HANDLE,
    INT,
    STR,
    TIME,
    URI,
    define,
    define_page,
    obj,
    ok,
    operation,
    query_param,
)

define("SearchResult", obj({
    "type": {"type": "string", "enum": ["thread", "post"],
             "description": "a thread's opening post, or a reply"},
    "id": INT,
    "thread_id": INT,
    "title": {"type": ["string", "null"], "description": "the thread's title"},
    "snippet": {**STR, "description": "HTML: escaped text, the matching words in <mark>"},
    "group": HANDLE,
    "author": HANDLE,
    "state": {"type": "string", "enum": ["open", "answered", "solved"],
              "description": "the thread's state"},
    "accepted": {**BOOL, "description": "the post is its thread's accepted answer"},
    "published": TIME,
    "url": {**URI, "description": "the thread page here, at the post"},
}, description="fedi.forum.search.item_view"))
define_page("SearchPage", "SearchResult")

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/search": {"get": operation(
        "search", "Search threads and replies of local and followed remote groups", "posts",
        description=(
            "German words match their inflections and compounds: `Glas` finds "
            "`Glasfaserausbau`, `Faser` finds `Glasfaserkabel`, `Förderantrag` finds "
            "`Förderanträge`; several words must all occur. Best matches first (solved "
            "threads and accepted answers are boosted), ranked within windows of the "
            "newest 200 matches; follow `next` to page through every match. A request "
            "ranks at most four windows: when a `state` filter leaves few results in "
            "them, a page holds fewer than `limit` (even none) and `next` goes on with "
            "older matches; only a missing `next` means the end."),
        params=[
            query_param("q", "the search words (1 to 200 characters)", maxLength=200),
            query_param("group", "only this group: name or name@host, as stored here"),
            query_param("author", "only this author: name or name@host, as stored here"),
            query_param("state", "only threads in this state: open (not solved), answered "
                        "(replies, not solved), unanswered (no replies), solved",
                        enum=["open", "answered", "unanswered", "solved"]),
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 50},
             "description": "how many results (default 20, at most 50)"},
            {"name": "cursor", "in": "query", "schema": {"type": "string"},
             "description": "the `next` of the previous page"},
        ],
        responses={"200": ok("a page of results", "SearchPage"),
                   "400": "q missing, empty or too long, or an unknown state "
                          "(`invalid_query`, `field`)",
                   "404": "no such group or author stored here (`not_found`, `field`)",
                   "422": "bad cursor or limit (`validation_failed`)"})},
}
