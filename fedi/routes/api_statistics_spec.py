"""OpenAPI paths and schemas of fedi/routes/api_statistics.py (the instance's statistics)."""

from __future__ import annotations

from typing import Any

from fedi.forum.statistics import ACTIVE_DAYS, COUNT_COLUMNS
from fedi.routes.api_schemas import INT, STR, TIME, URI, define, obj, ok, operation, ref

_COUNT = {**INT, "minimum": 0}
_DESCRIPTIONS = {
    "threads": "visible threads (not deleted or removed)",
    "replies": "visible replies",
    "questions": "visible threads asked as questions",
    "questions_solved": "questions with an accepted answer",
    "events_upcoming": "events not deleted that have not ended",
    "events_past": "events not deleted that have ended",
    "remote_followers": "accepted followers from other servers (in the totals: different "
                        "accounts, one may follow several groups)",
}
_COUNTS = {name: {**_COUNT, "description": _DESCRIPTIONS[name]} for name in COUNT_COLUMNS}

define("StatisticsCounts", obj(_COUNTS, description="Counts of the local groups, summed."))
define("GroupStatistics", obj({
    "name": {**STR, "description": "the group's name (its handle without the host)"},
    "title": STR,
    "url": URI,
    **_COUNTS,
}, description="The counts of one local group."))
define("Statistics", obj({
    "generated_at": TIME,
    "accounts": obj({
        "total": {**_COUNT, "description": "local accounts, active and not deleted"},
        "active_month": {**_COUNT, "description": f"of those, the ones that wrote a thread or "
                                                  f"reply, liked a post or logged in (used a "
                                                  f"session or token) in the last "
                                                  f"{ACTIVE_DAYS} days"},
        "active_halfyear": {**_COUNT, "description": "the same over 180 days"},
    }),
    "local_posts": {**_COUNT, "description": "visible posts written by local accounts "
                                             "(NodeInfo's localPosts)"},
    "totals": ref("StatisticsCounts"),
    "groups": {"type": "array", "items": ref("GroupStatistics")},
}, description="The instance's statistics (api_statistics.statistics_view); NodeInfo "
               "reports the same numbers."))

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/statistics": {"get": operation(
        "getStatistics", "The instance's statistics, per group and in total", "meta",
        description="Public, like the page /statistik and its CSV export /statistik.csv.",
        responses={"200": ok("the statistics", "Statistics")})},
}
