"""OpenAPI paths of fedi/routes/api_polls.py (votes on polls)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import ok, operation, path_param

_ID = path_param("id", integer=True, description="the thread with the poll")

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/posts/{id}/votes": {"post": operation(
        "votePoll", "Vote in a thread's poll (once; for a remote poll the vote is sent to "
                    "its author, and the counts change when its server publishes them)",
        "posts", auth=True, params=[_ID], body="VoteRequest",
        responses={"200": ok("the poll with the caller's vote", "Poll"),
                   "403": "the caller may not reply in this thread (the policy's refusal: "
                          "`banned`, `thread_locked`, `account_suspended` ...)",
                   "404": "no such post, or it has no poll (`not_found`)",
                   "409": "voted already (`already_voted`), the poll ended "
                          "(`poll_closed`), or its author cannot be reached "
                          "(`unreachable`)",
                   "410": "the thread or the group is gone (`thread_gone`, `group_gone`)",
                   "422": "choices are not option indexes, or more than one for a "
                          "single-choice poll (`validation_failed`)"})},
}
