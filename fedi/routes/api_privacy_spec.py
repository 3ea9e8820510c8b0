"""OpenAPI paths of fedi/routes/api_privacy.py: the data export and account deletion."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_admin_common import ADMINS_ONLY, NAME
from fedi.routes.api_schemas import BOOL, REASON, STR, define, obj, operation, shared

define("DeleteAccountRequest", obj({
    "password": {**STR, "description": "the account's current password"},
    "keep_posts": {**BOOL, "default": False,
                   "description": "keep the posts, shown as by a deleted account (default: "
                                  "delete them too, each federated as a Delete)"},
}, optional=["keep_posts"]))
define("AdminDeleteAccountRequest", obj({
    "keep_posts": {**BOOL, "default": False, "description": "keep the account's posts"},
    "reason": REASON,
}, optional=["keep_posts", "reason"]))
define("AccountDeleted", obj({
    "status": {"type": "string", "enum": ["deleted"]},
    "username": STR,
    "keep_posts": BOOL,
}, description="The account is gone; the Delete of its actor is on its way to every "
               "server that knows it, and its private keys go once that is delivered."))

_ZIP = {"description": "a ZIP archive: README.txt and JSON files (account, posts, likes, "
                       "follows, reports, notifications, sessions)",
        "content": {"application/zip": {"schema": define("DataExport", {
            "type": "string", "contentMediaType": "application/zip",
            "description": "a ZIP archive (README.txt and JSON files)"})}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/me/export": {"get": operation(
        "exportMyData", "Download a copy of the caller's data (DSGVO Art. 15/20)",
        "accounts", auth=True, description="A ZIP, streamed as it is made. At most "
                                           "3 exports per account and hour.",
        responses={"200": _ZIP, "429": shared("RateLimited")})},
    "/api/v1/me": {"delete": operation(
        "deleteMyAccount", "Delete the caller's account (DSGVO Art. 17)", "accounts",
        auth=True, body="DeleteAccountRequest",
        responses={"202": {"description": "deleted; the federation of the Delete goes on",
                           "content": {"application/json": {
                               "schema": {"$ref": "#/components/schemas/AccountDeleted"}}}},
                   "403": "the password is wrong (`wrong_password`)",
                   "422": "password missing or keep_posts not a boolean"})},
    "/api/v1/admin/accounts/{name}": {"delete": operation(
        "deleteAccount", "Delete a local account (admins; written to the modlog)",
        "moderation", auth=True, body="AdminDeleteAccountRequest", body_required=False,
        params=[NAME],
        responses={"202": {"description": "deleted",
                           "content": {"application/json": {
                               "schema": {"$ref": "#/components/schemas/AccountDeleted"}}}},
                   "404": "no such account (`not_found`)",
                   "422": "invalid input, or the admin's own account",
                   **ADMINS_ONLY})},
}
