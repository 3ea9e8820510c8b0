"""OpenAPI paths of fedi/routes/api_forum.py (groups, threads, replies, likes)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import PAGE_PARAMETERS, ok, operation, path_param, query_param

_REF = path_param("ref", description="group name, or name@host for a group on another instance")
_ID = path_param("id", integer=True)
_NO_GROUP = "no such group (`not_found`)"
_NO_POST = "no such post, or its thread was removed (`not_found`)"
_BAD_REF = "not a group name or name@host, or not a group (`validation_failed`)"
_REMOTE = "the group's host could not be reached (`remote_error`)"
_NOT_ALLOWED = "only the author may change a post (`forbidden`)"
_GONE = "the post was deleted or removed (`gone`)"
# fedi.forum.policy's refusals: `error` is the refusal's code, `message` its sentence.
_REFUSED = ("refused: `banned` (from the instance or the group; the message says which), "
            "`moderators_only`, `thread_locked`, `account_suspended` or `account_inactive`")
_REFUSED_GONE = "the group, the thread or the post is gone (`group_gone`, `thread_gone`, " \
    "`post_gone`)"


def _like(operation_id: str, summary: str, errors: dict[str, str]) -> dict[str, Any]:
    return operation(operation_id, summary, "posts", auth=True, params=[_ID],
                     responses={"200": ok("the post's like state", "LikeState"),
                                "404": _NO_POST, **errors})


def _follow(operation_id: str, summary: str, errors: dict[str, str]) -> dict[str, Any]:
    return operation(operation_id, summary, "groups", auth=True, params=[_REF],
                     responses={"200": ok("the group with follow_state", "GroupDetail"),
                                "404": _NO_GROUP,
                                "422": _BAD_REF, "502": _REMOTE, **errors})


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/groups": {"get": operation(
        "listGroups", "List topic groups (local and followed remote ones)", "groups",
        responses={"200": ok("every group, in one page", "GroupList")})},
    "/api/v1/groups/{ref}": {"get": operation(
        "getGroup", "A group, with the caller's follow_state", "groups", params=[_REF],
        responses={"200": ok("the group", "GroupDetail"), "404": _NO_GROUP, "422": _BAD_REF,
                   "502": _REMOTE})},
    "/api/v1/groups/{ref}/threads": {
        "get": operation(
            "listThreads", "Threads of a group: pinned first, then newest activity", "groups",
            params=[_REF, *PAGE_PARAMETERS, query_param(
                "state", "only threads in this state: `open` (no accepted answer), "
                         "`unanswered` (no accepted answer and no replies), `solved` "
                         "(an accepted answer)", enum=["open", "unanswered", "solved"])],
            responses={"200": ok("a page of threads", "PostPage"), "404": _NO_GROUP,
                       "422": "bad group name, limit, cursor or state", "502": _REMOTE}),
        "post": operation(
            "createThread", "Start a thread", "posts", auth=True, params=[_REF],
            body="NewThreadRequest",
            responses={"201": ok("the new thread", "PostWithReplies"), "403": _REFUSED,
                       "404": _NO_GROUP, "422": "a field is invalid (`field` says which)",
                       "502": _REMOTE}),
    },
    "/api/v1/posts/{id}": {
        "get": operation(
            "getPost", "A post with its reply tree", "posts", params=[_ID, query_param(
                "sort", "order of a thread's answers: `best` (accepted answer, official "
                        "answers, most liked, oldest), `oldest`, `newest`; default `best` "
                        "for questions, `oldest` for discussions",
                enum=["best", "oldest", "newest"])],
            responses={"200": ok("the post", "PostWithReplies"), "404": _NO_POST,
                       "422": "sort is not best, oldest or newest"}),
        "patch": operation(
            "editPost", "Edit your post", "posts", auth=True, params=[_ID],
            body="EditPostRequest",
            responses={"200": ok("the edited post", "PostWithReplies"), "403": _NOT_ALLOWED,
                       "404": _NO_POST, "410": _GONE,
                       "422": "a field is invalid (`field` says which)"}),
        "delete": operation(
            "deletePost", "Delete your post", "posts", auth=True, params=[_ID],
            responses={"204": {"description": "deleted"}, "403": _NOT_ALLOWED,
                       "404": _NO_POST, "410": _GONE}),
    },
    "/api/v1/posts/{id}/replies": {"post": operation(
        "createReply", "Reply to a post", "posts", auth=True, params=[_ID],
        body="NewReplyRequest",
        responses={"201": ok("the reply", "PostWithReplies"), "403": _REFUSED,
                   "404": _NO_POST, "410": _REFUSED_GONE,
                   "422": "a field is invalid (`field` says which)"})},
    "/api/v1/posts/{id}/like": {
        "post": _like("likePost", "Like a post",
                      {"403": _REFUSED, "410": _REFUSED_GONE}),
        "delete": _like("unlikePost", "Take back a like", {}),
    },
    "/api/v1/groups/{ref}/follow": {
        "post": _follow("followGroup", "Follow (join) a group; a remote one by name@host gets "
                                       "a Follow and is pending until it accepts",
                          {"403": _REFUSED}),
        "delete": _follow("unfollowGroup", "Unfollow (leave) a group", {}),
    },
}
