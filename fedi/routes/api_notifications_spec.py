"""OpenAPI paths of fedi/routes/api_notifications.py (notifications, watching, muting,
unread tracking) and the schemas only they use."""

from __future__ import annotations

from typing import Any

from fedi.forum import notifications as service
from fedi.routes.api_schemas import (
    BOOL,
    INT,
    PAGE_PARAMETERS,
    STR,
    TIME,
    define,
    nullable,
    obj,
    ok,
    operation,
    path_param,
    ref,
)
from storage.notifications import TYPES

_ID = path_param("id", integer=True, description="a post; its thread is meant")
_REF = path_param("ref", description="group name, or name@host for a group on another instance")
_NO_POST = "no such post, or its thread is gone (`not_found`)"

define("Notification", obj({
    "id": INT,
    "type": {"type": "string", "enum": list(TYPES)},
    "actor": {**nullable(ref("Actor")),
              "description": "who did it (for likes: the latest liker); null if unknown"},
    "post_id": {"type": ["integer", "null"]},
    "thread_id": {"type": ["integer", "null"]},
    "group": {"type": ["string", "null"], "description": "the group's handle, name@host"},
    "created_at": TIME,
    "read": BOOL,
    "count": {**INT, "description": "grouped notices: how many people (likes)"},
    "data": {**obj({
        "action": {"type": "string", "enum": ["remove", "restore", "lock", "unlock", "ban"],
                   "description": "moderation: what the moderators did"},
        "reason": {**STR, "description": "moderation and report: why"},
        "report_id": {**INT, "description": "report: the report"},
        "username": {**STR, "description": "signup: who signed up"},
    }, optional=["action", "reason", "report_id", "username"]),
             "description": "what the type needs besides the ids (empty for most)"},
}, description="One notification (fedi.forum.notifications.api_item)."))
define("NotificationPage", obj({
    "items": {"type": "array", "items": ref("Notification")},
    "next": {"type": ["string", "null"],
             "description": "pass as ?cursor= for the next page; null on the last page"},
    "unread": {**INT, "description": "the caller's unread notifications"},
}, description="A page of notifications, newest first, with the unread count."))
define("MarkReadRequest", obj({
    "ids": {"type": "array", "items": INT, "maxItems": 500},
    "all": {"type": "boolean"},
}, optional=["ids", "all"], description='Either {"ids": [...]} or {"all": true}.'))
define("UnreadCount", obj({"unread": INT}))
define("WatchRequest", obj({"level": {"type": "string", "enum": list(service.LEVELS)}},
                           description="none: neither watching nor muted (the default)"))
define("WatchState", obj({
    "thread_id": INT, "level": {"type": "string", "enum": list(service.LEVELS)},
}, description="watching: a notice for every new post; muted: none but mentions"))
define("GroupMute", obj({"group": {**STR, "description": "name@host"}, "muted": BOOL}))
define("ReadThreadRequest", obj({"post_id": {**INT, "description": "read up to this post"}},
                                optional=["post_id"]))
define("ThreadRead", obj({"thread_id": INT, "last_read_post_id": INT,
                          "unread": {**INT, "description": "new posts left in the thread"}}))

_BAD_BODY = "a field is invalid (`validation_failed`, `field`)"


def _watch(operation_id: str, summary: str, *, body: str | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok("the caller's level for the thread", "WatchState"),
                                 "404": _NO_POST}
    if body is not None:
        responses["422"] = _BAD_BODY
    return operation(operation_id, summary, "notifications", auth=True, params=[_ID],
                     body=body, responses=responses)


def _mute(operation_id: str, summary: str) -> dict[str, Any]:
    return operation(operation_id, summary, "notifications", auth=True, params=[_REF],
                     responses={"200": ok("whether the caller mutes the group", "GroupMute"),
                                "404": "no such group (`not_found`)",
                                "422": "not a group name or name@host",
                                "502": "the group's host could not be reached"})


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/notifications": {"get": operation(
        "listNotifications", "The caller's notifications, newest first", "notifications",
        auth=True, params=list(PAGE_PARAMETERS),
        responses={"200": ok("a page of notifications", "NotificationPage"),
                   "422": "bad limit or cursor"})},
    "/api/v1/notifications/read": {"post": operation(
        "markNotificationsRead", "Mark notifications read", "notifications", auth=True,
        body="MarkReadRequest",
        description="Ids of other accounts' notifications are ignored.",
        responses={"200": ok("the unread count now", "UnreadCount"), "422": _BAD_BODY})},
    "/api/v1/posts/{id}/watch": {
        "get": _watch("getThreadWatch", "Whether the caller watches or muted the thread"),
        "post": _watch("watchThread", "Watch or mute the thread (the asker watches their "
                                      "own thread from the start)", body="WatchRequest"),
        "delete": _watch("unwatchThread", "Neither watch nor mute the thread"),
    },
    "/api/v1/posts/{id}/read": {"post": operation(
        "readThread", "Mark the thread read (and its notifications)", "notifications",
        auth=True, params=[_ID], body="ReadThreadRequest", body_required=False,
        description="Up to post_id, or the newest post without a body. Reading never "
                    "goes backwards. A thread never read counts the posts by others "
                    "published since the caller's account was created as new.",
        responses={"200": ok("how far the caller has read", "ThreadRead"), "404": _NO_POST,
                   "422": "post_id is not in this thread (`validation_failed`)"})},
    "/api/v1/groups/{ref}/mute": {
        "get": _mute("getGroupMute", "Whether the caller muted the group"),
        "post": _mute("muteGroup", "No new-thread notifications from this group"),
        "delete": _mute("unmuteGroup", "New-thread notifications from this group again"),
    },
}
