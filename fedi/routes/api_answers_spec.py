"""OpenAPI paths of fedi/routes/api_answers.py (accepted and official answers)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import ok, operation, path_param

_ID = path_param("id", integer=True, description="the reply (not the thread)")
_NOT_ASKER = ("only the person who asked and the group's moderators may choose "
              "(`not_asker`), or another refusal of the policy (`banned`, "
              "`account_suspended` ...)")
_GONE = "the thread or the reply was deleted or removed (`thread_gone`, `post_gone`)"
_NOT_REPLY = "the id is a thread's, not a reply's (`not_a_reply`)"


def _accept(operation_id: str, summary: str, extra: dict[str, str]) -> dict[str, Any]:
    return operation(operation_id, summary, "posts", auth=True, params=[_ID],
                     responses={"200": ok("the thread's accepted answer and state",
                                          "AcceptedAnswer"),
                                "403": _NOT_ASKER, "404": "no such post (`not_found`)",
                                "410": _GONE, "422": _NOT_REPLY, **extra})


def _highlight(operation_id: str, summary: str) -> dict[str, Any]:
    return operation(operation_id, summary, "moderation", auth=True, params=[_ID],
                     responses={"200": ok("the reply", "Post"),
                                "403": "not a moderator of the reply's group (`forbidden`, "
                                       "`not_moderator`)",
                                "404": "no such post (`not_found`)",
                                "409": "highlighted (or not) already (`unchanged`), or the "
                                       "reply is deleted or removed (`not_visible`)",
                                "422": _NOT_REPLY})


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/posts/{id}/accept": {
        "post": _accept("acceptAnswer", "Choose this reply as its thread's accepted answer "
                                        "(replacing another one); the asker or a moderator",
                        {}),
        "delete": _accept("withdrawAnswer", "Withdraw this reply as the accepted answer",
                          {"409": "this reply is not the accepted answer (`not_accepted`)"}),
    },
    "/api/v1/posts/{id}/highlight": {
        "post": _highlight("highlightAnswer", "Highlight a reply as the official answer "
                                              "(moderators)"),
        "delete": _highlight("unhighlightAnswer", "Take back the official-answer highlight"),
    },
}
