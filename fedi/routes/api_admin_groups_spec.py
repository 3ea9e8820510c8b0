"""OpenAPI paths of fedi/routes/api_admin_groups.py (create, edit, delete groups; their
moderators)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import ok, operation, path_param

_NAME = path_param("name", description="the local group's name")
_ACTOR = path_param("actor", description="name@host, or the actor URL (URL-encoded)")
_NOT_MOD = "not a moderator of the group, nor an admin (`forbidden`)"
_INVALID = "invalid input (`validation_failed`, `field`)"


def _moderator(operation_id: str, summary: str) -> dict[str, Any]:
    return operation(operation_id, summary, "moderation", auth=True, params=[_NAME, _ACTOR],
                     responses={"200": ok("the group's moderators now", "ModeratorList"),
                                "403": _NOT_MOD, "404": "no such group or actor",
                                "422": "not a person", "502": "the actor's server failed"})


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/groups": {"post": operation(
        "createGroup", "Create a topic group (admins)", "moderation", auth=True,
        body="NewGroupRequest",
        responses={"201": ok("the group", "GroupDetail"),
                   "403": "not an administrator (`forbidden`)", "409": "name taken",
                   "422": _INVALID})},
    "/api/v1/admin/groups/{name}": {
        "patch": operation(
            "editGroup", "Edit a group (its moderators, admins); sent as Update(Group)",
            "moderation", auth=True, params=[_NAME], body="EditGroupRequest",
            responses={"200": ok("the group", "GroupDetail"), "403": _NOT_MOD,
                       "404": "no such group", "422": _INVALID}),
        "delete": operation(
            "deleteGroup", "Delete a group (admins); sent as Delete(Group)", "moderation",
            auth=True, params=[_NAME], body="ReasonRequest", body_required=False,
            responses={"204": {"description": "deleted"},
                       "403": "not an administrator (`forbidden`)", "404": "no such group",
                       "422": _INVALID}),
    },
    "/api/v1/admin/groups/{name}/moderators/{actor}": {
        "put": _moderator("appointModerator",
                          "Appoint a moderator (local or remote); sent as Add"),
        "delete": _moderator("removeModerator", "Remove a moderator; sent as Remove"),
    },
}
