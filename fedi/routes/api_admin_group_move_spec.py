"""OpenAPI paths of fedi/routes/api_admin_group_move.py (a group's aliases and its move
to another instance, FEP-7628)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import define, obj, ok, operation, path_param

_NAME = path_param("name", description="the local group's name")
_ACTOR = path_param("actor", description="the alias: name@host or the actor URL "
                                         "(URL-encoded)")
_NOT_ADMIN = "not an administrator (`forbidden`)"
_HANDLE = {"type": "string", "maxLength": 300, "description": "name@host of the group"}

define("GroupAliasRequest", obj({"actor": _HANDLE}))
define("GroupMoveRequest", obj({"target": _HANDLE}))
define("GroupAliases", obj({
    "group": {"type": "string", "description": "the group's actor id"},
    "also_known_as": {"type": "array", "items": {"type": "string"},
                      "description": "earlier addresses of the group (actor ids)"},
    "moved_to": {"type": ["string", "null"],
                 "description": "the group's new address once it moved"},
}))

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/groups/{name}/aliases": {
        "get": operation(
            "listGroupAliases", "A group's aliases (alsoKnownAs) and where it moved",
            "moderation", auth=True, params=[_NAME],
            responses={"200": ok("the aliases", "GroupAliases"), "403": _NOT_ADMIN,
                       "404": "no such group"}),
        "post": operation(
            "addGroupAlias",
            "Name a group on another instance as this group's earlier address (admins)",
            "moderation", auth=True, params=[_NAME], body="GroupAliasRequest",
            description="Sets `alsoKnownAs` in the group's actor document (sent as "
                        "Update(Group)), so that the old group may move here; the old "
                        "group's threads are backfilled into this group.",
            responses={"200": ok("the aliases now", "GroupAliases"), "403": _NOT_ADMIN,
                       "404": "no such group here, or none at that host",
                       "422": "not name@host of another instance's group",
                       "502": "the other instance failed"}),
    },
    "/api/v1/admin/groups/{name}/aliases/{actor}": {"delete": operation(
        "removeGroupAlias", "Remove an alias of a group (admins)", "moderation",
        auth=True, params=[_NAME, _ACTOR],
        responses={"200": ok("the aliases now", "GroupAliases"), "403": _NOT_ADMIN,
                   "404": "no such group or alias"})},
    "/api/v1/admin/groups/{name}/move": {"post": operation(
        "moveGroup", "Move a group to another instance (admins); sent as Move",
        "moderation", auth=True, params=[_NAME], body="GroupMoveRequest",
        description="Refused (`alias_missing`) unless the target group's actor document "
                    "names this group in `alsoKnownAs`. The group then carries `movedTo`, "
                    "sends `Move` to its followers, its pages redirect to the target, and "
                    "it takes no new members, threads or replies.",
        responses={"200": ok("the moved group's aliases and target", "GroupAliases"),
                   "403": _NOT_ADMIN, "404": "no such group here, or none at that host",
                   "409": "moved elsewhere already (`already_moved`)",
                   "422": "no alias at the target (`alias_missing`), or not a group of "
                          "another instance",
                   "502": "the other instance failed"})},
}
