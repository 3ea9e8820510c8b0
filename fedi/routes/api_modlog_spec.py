"""OpenAPI paths of fedi/routes/api_modlog.py (moderation logs, reports by users)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import PAGE_PARAMETERS, ok, operation, query_param

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/modlog": {"get": operation(
        "listModlog", "Public moderation log, newest first (moderator names per instance "
                      "setting)", "moderation",
        params=[*PAGE_PARAMETERS, query_param("group", "only this group: name or name@host")],
        responses={"200": ok("a page of entries", "ModlogPage"),
                   "404": "no such group (`not_found`)",
                   "422": "bad cursor or limit"})},
    "/api/v1/admin/modlog": {"get": operation(
        "listFullModlog", "Full moderation log with private entries (admins)", "moderation",
        auth=True,
        params=[*PAGE_PARAMETERS, query_param("group", "only this group: name or name@host")],
        responses={"200": ok("a page of entries", "ModlogPage"),
                   "403": "not an administrator (`forbidden`)",
                   "404": "no such group (`not_found`)",
                   "422": "bad cursor or limit"})},
    "/api/v1/reports": {"post": operation(
        "createReport", "Report a post or an actor to the moderators", "moderation",
        auth=True, body="NewReportRequest",
        responses={"201": ok("the report", "Report"),
                   "404": "no such post or actor (`not_found`)",
                   "422": "invalid input (`validation_failed`, `field`)",
                   "502": "the actor's server failed (`remote_error`)"})},
}
