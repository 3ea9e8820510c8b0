"""The named parts of the OpenAPI document: every JSON shape the API sends or reads, as
``components/schemas``, the shared error responses, and builders for operations.

Each schema mirrors the function that builds the JSON (named beside it), so a client
generator gets real types; tests/test_openapi.py checks real answers against them, strictly
(no undocumented fields), so the document cannot drift from the code. The route modules'
specs (``api_*_spec.py``) only name these schemas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fedi.forum import accounts as account_service
from fedi.forum import groups as group_service
from fedi.forum import posts as post_service
from fedi.forum import profiles as profile_service
from fedi.forum.staff import REASON_MAX

Schema = dict[str, Any]

SCHEMAS: dict[str, Schema] = {}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or JSON null (for a $ref; plain types use ``["string", "null"]``)."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: Mapping[str, Schema], *, optional: Sequence[str] = (),
        description: str | None = None) -> Schema:
    """An object whose fields are all present except those named ``optional``."""
    schema: Schema = {"type": "object", "required": [p for p in properties if p not in optional],
                      "properties": dict(properties)}
    if description:
        schema["description"] = description
    return schema


def define(name: str, schema: Schema) -> Schema:
    """Register ``schema`` under ``name`` and return a reference to it."""
    assert name not in SCHEMAS, name
    SCHEMAS[name] = schema
    return ref(name)


def define_page(name: str, item: str, *, one_page: bool = False) -> Schema:
    """``{"items": [...], "next": cursor | null}`` as answered by ``page_response``."""
    next_doc = ("always null: the whole list comes in one answer" if one_page
                else "pass as ?cursor= for the next page; null on the last page")
    return define(name, obj({
        "items": {"type": "array", "items": ref(item)},
        "next": {"type": ["string", "null"], "description": next_doc},
    }, description=f"A page of {item} items."))


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
URI: Schema = {"type": "string", "format": "uri"}
TIME: Schema = {"type": "string", "format": "date-time"}
OPT_STR: Schema = {"type": ["string", "null"]}
OPT_INT: Schema = {"type": ["integer", "null"]}
OPT_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
HANDLE: Schema = {"type": ["string", "null"], "description": "an actor's handle, name@host"}
# "unconfirmed": active, but the e-mail address is not confirmed yet (forum/confirmation.py).
ACCOUNT_STATUS: Schema = {"type": "string",
                          "enum": ["active", "unconfirmed", "pending", "rejected",
                                   "suspended"]}
ROLE: Schema = {"type": "string", "enum": ["admin", "user"]}
REASON: Schema = {"type": "string", "maxLength": REASON_MAX,
                  "description": "why, for the moderation log"}

# --- errors -----------------------------------------------------------------------------------

define("Error", obj({
    "error": {"type": "string", "description": "stable machine-readable code"},
    "message": {"type": "string", "description": "explanation for people"},
    "field": {"type": "string", "description": "the request field at fault"},
}, optional=["field"], description="Every error answer (fedi.core.errors.AppError.to_json)."))


def error(description: str) -> Schema:
    """An error response with its own description, in the shared Error shape."""
    return {"description": description,
            "content": {"application/json": {"schema": ref("Error")}}}


RESPONSES: dict[str, Schema] = {
    "Unauthorized": error("no valid token (`unauthorized`)"),
    "InvalidJson": error("the body is not a JSON object (`invalid_json`)"),
    "PayloadTooLarge": error("the body is larger than 1 MiB (`payload_too_large`)"),
    "RateLimited": {
        **error("too many attempts from this address; wait (`rate_limited`)"),
        "headers": {"Retry-After": {"description": "seconds to wait before trying again",
                                    "schema": {"type": "integer", "minimum": 1}}},
    },
}


def shared(name: str) -> Schema:
    assert name in RESPONSES, name
    return {"$ref": f"#/components/responses/{name}"}


# --- accounts and tokens (fedi/routes/api_accounts.py) ---------------------------------------

define("OfficialPosition", obj({
    "position": {**STR, "description": "the office the account speaks in"},
}, description="An official account's badge (fedi/forum/officials.py)."))
_ACCOUNT: dict[str, Schema] = {
    "id": INT, "username": STR, "display_name": STR,
    "ap_id": {**URI, "description": "the Person actor's id"}, "url": URI, "role": ROLE,
    "status": ACCOUNT_STATUS, "created_at": TIME,
}
define("Account", obj(_ACCOUNT, description="What anyone may see of an account (public_view)."))
_MAIL_MODE: Schema = {"type": "string", "enum": ["immediate", "daily", "weekly", "off"]}
define("EmailNotifications", obj({
    "default": {**_MAIL_MODE, "description": "the mode of every type without its own; "
                                             "new accounts: daily"},
    **{name: _MAIL_MODE for name in ("reply", "mention", "like", "accepted_answer",
                                     "moderation", "report", "signup", "new_thread",
                                     "watched_post")},
}, description="How notifications are mailed: immediate (grouped per minute), a daily or "
               "weekly digest (07:00 in the account's time zone), or off; each type's "
               "effective mode (reports and sign-ups immediately unless set or all off)."))
define("OwnAccount", obj({
    **_ACCOUNT, "email": {"type": "string", "format": "email"},
    # The profile (fedi/forum/profiles.py, api_me.me_view).
    "bio": {**STR, "description": "Markdown"},
    "bio_html": {**STR, "description": "the bio rendered and sanitised"},
    "organisation": STR, "municipality": STR,
    "affiliation": {"type": ["string", "null"], "enum": [*profile_service.AFFILIATIONS, None],
                    "description": "the capacity in which the person speaks"},
    "language": {"type": ["string", "null"], "enum": ["de", "en", None],
                 "description": "for pages and mails; null: the browser's"},
    "official": nullable(ref("OfficialPosition")),
    # Notification e-mail (fedi/forum/notification_mail.py).
    "email_notifications": ref("EmailNotifications"),
    "timezone": {**STR, "description": "IANA time zone of the digests' morning (07:00)"},
}, description="The caller's own account, with its e-mail address and profile."))
define("TokenCreated", obj({"token": {**STR, "description": "shown only this once"},
                            "token_id": INT}))
define("Token", obj({
    "id": INT, "name": STR, "kind": {"type": "string", "enum": list(account_service.TOKEN_KINDS)},
    "created_at": TIME, "last_used_at": OPT_TIME, "expires_at": OPT_TIME,
    "current": {**BOOL, "description": "the token of this request"},
}, description="A token, never its value (token_view)."))
define_page("TokenPage", "Token")
define("RegistrationMode", obj({
    "mode": {"type": "string", "enum": list(account_service.REGISTRATION_MODES)}}))
define("SignUpRequest", obj({
    "username": {"type": "string", "maxLength": 30,
                 "pattern": "^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$"},
    "email": {"type": "string", "format": "email", "maxLength": account_service.EMAIL_MAX,
              "description": "never published or federated"},
    "password": {"type": "string", "minLength": account_service.PASSWORD_MIN,
                 "maxLength": account_service.PASSWORD_MAX},
    "display_name": {"type": "string", "maxLength": account_service.DISPLAY_NAME_MAX},
    "accept_terms": {"type": "boolean", "const": True,
                     "description": "the current terms of use and privacy policy are "
                                    "accepted (GET /api/v1/terms); required"},
}, optional=["display_name"]))
define("LogInRequest", obj({
    "username": STR, "password": STR,
    "name": {"type": "string", "maxLength": account_service.TOKEN_NAME_MAX,
             "description": "a label to recognise the token by"},
}, optional=["name"]))

# --- actors, groups, posts (fedi/forum/views.py, fedi/routes/api_forum.py) -------------------

define("Actor", obj({
    "ap_id": URI, "handle": {**STR, "description": "name@host"}, "username": STR,
    "domain": STR, "display_name": STR, "url": URI, "local": BOOL,
    "type": {**STR, "description": "ActivityStreams actor type: Person, Group, Service ..."},
    "official": nullable(ref("OfficialPosition")),
}, description="A person or group, local or remote (actor_view)."))
_GROUP_REF: dict[str, Schema] = {
    "name": STR, "handle": STR, "title": STR,
    "summary": {**STR, "description": "sanitised HTML"},
    "ap_id": URI, "url": URI, "local": BOOL, "posting_restricted_to_mods": BOOL,
}
define("GroupRef", obj(_GROUP_REF, description="A group as named in a post (group_view)."))
_GROUP: dict[str, Schema] = {
    **_GROUP_REF, "thread_count": INT, "post_count": INT,
    "follower_count": {**INT, "description": "accepted followers"},
    "last_activity_at": OPT_TIME,
}
define("Group", obj(_GROUP, description="A group with its counts (group_view with stats)."))
define_page("GroupList", "Group", one_page=True)
define("GroupDetail", obj({
    **_GROUP,
    "summary_source": {**STR, "description": "the summary as Markdown"},
    "rules": {**STR, "description": "the rules as Markdown"},
    "language": OPT_STR,
    "moderators": {"type": "array", "items": STR, "description": "handles, name@host"},
    "follow_state": {"type": "string", "enum": ["none", "pending", "accepted"],
                     "description": "the caller's membership; only for logged-in callers"},
    "microblog_fanout": {"type": "string", "enum": ["threads", "everything"],
                         "description": "what the group's followers on microblog software "
                                        "(Mastodon and kin) get boosted: new threads and "
                                        "events only, or every post"},
}, optional=["follow_state", "microblog_fanout"],
   description="One group (api_forum.group_detail)."))
# Issue 19 (posts.attachments, docs/media contract): local uploads add media_id,
# preview_url, size and filename; readers tolerate missing keys.
define("Attachment", obj({
    "url": URI, "media_type": OPT_STR, "name": {**OPT_STR, "description": "alt text or "
                                                "file name"},
    "type": {**STR, "description": "Image, Document, Video ..."},
    "width": OPT_INT, "height": OPT_INT, "blurhash": OPT_STR,
    "media_id": {**INT, "description": "local uploads: the upload's id"},
    "preview_url": {"type": ["string", "null"], "format": "uri",
                    "description": "local images: a small rendition"},
    "size": {**INT, "description": "local uploads: bytes"},
    "filename": OPT_STR,
}, optional=["type", "width", "height", "blurhash", "media_id", "preview_url", "size",
             "filename"], description="A file attached to a post (an upload here, or media "
                                      "of a post from another server)."))
_MEDIA_IDS: Schema = {"type": "array", "items": {"type": "integer"}, "maxItems": 10,
                      "description": "your uploads (POST /api/v1/media) to attach, in order; "
                                     "when editing, the new list (omit to keep them)"}
_POST: dict[str, Schema] = {
    "id": INT, "ap_id": URI, "url": URI,
    "thread_id": {**OPT_INT, "description": "the thread's root post"},
    "in_reply_to": {**OPT_INT, "description": "the parent post; null for a thread"},
    "title": {**OPT_STR, "description": "threads only"},
    "content": {**STR, "description": "sanitised HTML; empty when deleted or removed"},
    "summary": {**OPT_STR, "description": "content warning"},
    "sensitive": BOOL, "language": OPT_STR,
    "author": nullable(ref("Actor")), "group": nullable(ref("GroupRef")),
    "published": TIME, "updated": OPT_TIME,
    "like_count": INT, "dislike_count": INT, "reply_count": INT,
    "locked": BOOL, "pinned": BOOL, "deleted": BOOL, "removed": BOOL,
    "hashtags": {"type": "array", "items": STR},
    "attachments": {"type": "array", "items": ref("Attachment")},
    "last_activity_at": {**OPT_TIME, "description": "threads only"},
    "source": {**STR, "description": "Markdown; only for the author"},
    "liked": {**BOOL, "description": "whether the caller likes it; for logged-in callers"},
    "unread": {**INT, "description": "new posts in the thread for the caller; thread lists "
                                     "for logged-in callers (fedi/forum/notifications.py)"},
    "official_answer": {**BOOL, "description": "a reply by an official account or "
                                               "highlighted by a moderator"},
    "highlighted": {**BOOL, "description": "a moderator highlighted it as the official answer"},
    "kind": {"type": "string", "enum": ["question", "discussion"],
             "description": "threads only"},
    "state": {"type": "string", "enum": ["open", "answered", "solved"],
              "description": "threads only: solved (accepted answer), answered (replies), "
                             "open"},
    "accepted_answer_id": {**OPT_INT, "description": "threads only: the accepted answer"},
    "sort": {"type": "string", "enum": ["best", "oldest", "newest"],
             "description": "threads with their replies only: the order of the answers"},
}
_POST_OPTIONAL = ("source", "liked", "unread", "kind", "state", "accepted_answer_id", "sort")
define("Post", obj(_POST, optional=_POST_OPTIONAL, description="A thread or reply (post_view)."))
define("PostWarning", obj({
    "code": {"type": "string", "enum": ["unknown_mention", "too_many_mentions"]},
    "message": STR,
    "handle": {**STR, "description": "the mention as written, e.g. @name@host"},
}, description="Something the author should know about a post that was written anyway "
               "(a mention that could not be resolved stays plain text)."))
# Polls (fedi/forum/polls.py, issue 20).
define("PollOption", obj({"title": STR, "votes": {
    **INT, "description": "votes counted here (a local poll) or as the poll's server "
                          "published them (a remote poll)"}}))
define("Poll", obj({
    "options": {"type": "array", "items": ref("PollOption")},
    "multiple": {**BOOL, "description": "multiple choice (else one option per voter)"},
    "ends_at": {"type": ["string", "null"], "format": "date-time"},
    "closed": {**BOOL, "description": "ended: no more votes"},
    "voters_count": INT,
    "voted": {"type": ["boolean", "null"],
              "description": "whether the caller voted; null for anonymous callers"},
    "own_choices": {"type": "array", "items": INT,
                    "description": "the caller's choices (option indexes)"},
}, description="A thread's poll with its counts (polls.poll_view)."))
define("NewPoll", obj({
    "options": {"type": "array", "minItems": 2, "maxItems": 10,
                "items": {"type": "string", "maxLength": 100}},
    "multiple": {**BOOL, "description": "default false"},
    "ends_at": {"type": "string", "format": "date-time",
                "description": "5 minutes to 90 days from now; default: in 7 days"},
}, optional=["multiple", "ends_at"]))
define("VoteRequest", obj({"choices": {
    "type": "array", "items": INT, "minItems": 1,
    "description": "option indexes (from 0); exactly one unless the poll is multiple"}}))
define("PostWithReplies", obj({
    **_POST, "replies": {"type": "array", "items": ref("PostWithReplies"),
                         "description": "direct replies, each with its own replies"},
    "warnings": {"type": "array", "items": ref("PostWarning"),
                 "description": "only in the answer to creating or editing a post"},
    "poll": {**nullable(ref("Poll")), "description": "threads only: the poll, or null"},
}, optional=(*_POST_OPTIONAL, "warnings", "poll"), description="A post and the replies "
                                        "below it (post_with_replies)."))
define_page("PostPage", "Post")
define("LikeState", obj({"id": INT, "like_count": INT, "liked": BOOL}))
define("NewThreadRequest", obj({
    "title": {"type": "string", "maxLength": post_service.THREAD_TITLE_MAX},
    "content": {"type": "string", "maxLength": post_service.BODY_MAX,
                "description": "Markdown"},
    "kind": {"type": "string", "enum": list(post_service.KINDS),
             "description": "question or discussion; default: the group's default_kind"},
    "poll": {**ref("NewPoll"), "description": "makes the thread a poll"},
    "media_ids": _MEDIA_IDS,
}, optional=["kind", "poll", "media_ids"]))
define("AcceptedAnswer", obj({
    "thread_id": INT, "accepted_answer_id": OPT_INT,
    "state": {"type": "string", "enum": ["open", "answered", "solved"]},
}, description="A thread's accepted answer after a choice (api_answers.py)."))
define("NewReplyRequest", obj({
    "content": {"type": "string", "maxLength": post_service.BODY_MAX, "description": "Markdown"},
    "media_ids": _MEDIA_IDS,
}, optional=["media_ids"]))
define("EditPostRequest", obj({
    "title": {"type": "string", "maxLength": post_service.THREAD_TITLE_MAX,
              "description": "threads only"},
    "content": {"type": "string", "maxLength": post_service.BODY_MAX, "description": "Markdown"},
    "media_ids": _MEDIA_IDS,
}, optional=["title", "content", "media_ids"]))

# --- groups administration (fedi/routes/api_admin_groups.py) ---------------------------------

_GROUP_FIELDS: dict[str, Schema] = {
    "title": {"type": "string", "maxLength": group_service.TITLE_MAX},
    "summary": {"type": "string", "maxLength": group_service.SUMMARY_MAX,
                "description": "Markdown"},
    "rules": {"type": "string", "maxLength": group_service.SUMMARY_MAX,
              "description": "Markdown"},
    "language": {"type": "string", "maxLength": group_service.LANGUAGE_MAX},
    "posting_restricted_to_mods": BOOL,
    "default_kind": {"type": "string", "enum": ["question", "discussion"],
                     "description": "what new threads are unless their author says"},
}
define("NewGroupRequest", obj({
    "name": {"type": "string", "maxLength": 30, "pattern": "^[a-z0-9_.-]+$"}, **_GROUP_FIELDS,
}, optional=["summary", "rules", "language", "posting_restricted_to_mods", "default_kind"]))
define("EditGroupRequest", obj({**_GROUP_FIELDS, "microblog_fanout": {
    "type": "string", "enum": ["threads", "everything"],
    "description": "what followers on microblog software get boosted (default threads: new "
                   "threads and events; everything: replies too)"}, "reason": REASON,
    "icon_media_id": {**OPT_INT, "description": "your uploaded image as the group's icon; "
                                               "null removes it"},
    "banner_media_id": {**OPT_INT, "description": "your uploaded image as the group's "
                                                 "banner; null removes it"}},
                               optional=[*_GROUP_FIELDS, "microblog_fanout", "reason",
                                         "icon_media_id", "banner_media_id"],
                               description="At least one field besides reason."))
define("ModeratorList", obj({"moderators": {"type": "array", "items": ref("Actor")}}))

# --- moderation (fedi/routes/api_admin_*.py, fedi/routes/api_modlog.py) ----------------------

define("ReasonRequest", obj({"reason": REASON}, optional=["reason"]))
define("ModeratedPost", obj({
    **_POST, "content": {**STR, "description": "sanitised HTML, also when removed"},
    "removed_reason": OPT_STR,
}, optional=_POST_OPTIONAL,
   description="A post as moderators see it (api_admin_posts.post_answer)."))
define("Ban", obj({
    "id": INT, "actor": HANDLE, "actor_ap_id": {**OPT_STR, "format": "uri"},
    "group": {**HANDLE, "description": "the group's handle; null for an instance ban"},
    "reason": STR, "expires_at": OPT_TIME, "remove_content": BOOL, "created_by": HANDLE,
    "created_at": TIME, "lifted_at": OPT_TIME,
    "ap_id": {**OPT_STR, "description": "the Block activity sent for it"},
}, description="api_admin_bans.ban_view"))
define_page("BanPage", "Ban")
define("BanRequest", obj({
    "actor": {"type": "string", "description": "name@host or actor URL"},
    "group": {"type": "string", "description": "a group name; none bans from the instance"},
    "reason": REASON,
    "expires_at": {"type": "string", "format": "date-time",
                   "description": "with a time zone; none bans for good"},
    "remove_content": BOOL,
}, optional=["group", "reason", "expires_at", "remove_content"]))
define("Report", obj({
    "id": INT, "state": {"type": "string", "enum": ["open", "resolved"]},
    "remote": {**BOOL, "description": "sent by another server (Flag)"},
    "reporter": HANDLE, "actor": {**HANDLE, "description": "the reported actor"},
    "post_ids": {"type": "array", "items": INT}, "group": HANDLE, "reason": STR,
    "assigned_to": HANDLE, "resolved_by": HANDLE, "resolved_at": OPT_TIME,
    "resolution": OPT_STR, "forwarded_to": OPT_STR, "ap_id": OPT_STR, "created_at": TIME,
}, description="api_admin_reports.report_view"))
define_page("ReportPage", "Report")
define("NewReportRequest", {
    **obj({"post_id": {"type": "integer", "minimum": 1},
           "actor": {"type": "string", "description": "name@host or actor URL"},
           "reason": {**REASON, "description": "what is wrong"}},
          optional=["post_id", "actor"]),
    "anyOf": [{"required": ["post_id"]}, {"required": ["actor"]}],
})
define("AssignReportRequest", obj({
    "assignee": {"type": "string", "description": "a username; none assigns the caller"},
}, optional=["assignee"]))
define("ResolveReportRequest", obj({
    "resolution": {"type": "string", "maxLength": REASON_MAX},
    "reason": {**REASON, "description": "used when resolution is missing"},
}, optional=["resolution", "reason"]))
define("ForwardReportRequest", obj({
    "comment": {**REASON, "description": "what the author's server reads (the Flag's "
                                         "content); default: the report's reason"},
}, optional=["comment"]))
define("DomainPolicy", obj({
    "domain": STR, "blocked": BOOL, "allowed": {**BOOL, "description": "on the allowlist"},
    "reason": STR,
}, description="A domain's block and allowlist entry (domains._domain_state)."))
define_page("DomainPolicyList", "DomainPolicy", one_page=True)
define("DomainPolicyRequest", {
    **obj({"blocked": BOOL, "allowed": BOOL, "reason": REASON},
          optional=["blocked", "allowed", "reason"]),
    "anyOf": [{"required": ["blocked"]}, {"required": ["allowed"]}],
})
define("Instance", obj({
    "domain": STR, "software": OPT_STR, "software_version": OPT_STR, "blocked": BOOL,
    "actors": {**INT, "description": "known actors on the host"},
    "deliveries": obj({"queued": INT, "failed": INT, "delivered": INT, "cancelled": INT}),
    "failing_since": OPT_TIME, "last_success_at": OPT_TIME, "unavailable": BOOL,
}, description="A known server and its delivery health "
                "(api_admin_instances.list_instances)."))
define_page("InstancePage", "Instance")
define("InstanceActionResult", obj({
    "domain": STR, "action": {"type": "string", "enum": ["reset", "retry"]},
    "changed": {**INT, "description": "rows changed"},
}))
define("ParkedActivity", obj({
    "id": INT, "ap_id": STR, "type": STR, "actor": STR, "attempts": INT, "error": OPT_STR,
    "received_at": TIME,
    "activity": {"type": "object", "additionalProperties": True,
                 "description": "the activity as received"},
}, description="An inbound activity the queue gave up on "
                "(api_admin_instances.list_parked)."))
define_page("ParkedActivityPage", "ParkedActivity")
define("AccountStatus", obj({"id": INT, "username": STR, "status": ACCOUNT_STATUS,
                             "role": ROLE}))
define("AdminAccount", obj({
    "id": INT, "username": STR, "status": ACCOUNT_STATUS, "role": ROLE,
    "registration_reason": OPT_STR, "created_at": TIME,
}))
define_page("AdminAccountList", "AdminAccount", one_page=True)
define("ModerationSettings", obj({
    "allowlist_mode": {**BOOL, "description": "federate only with allowed domains"},
    "modlog_show_moderators": {**BOOL, "description": "the public modlog names moderators"},
}))
define("ModerationSettingsRequest", {
    **obj({"allowlist_mode": BOOL, "modlog_show_moderators": BOOL},
          optional=["allowlist_mode", "modlog_show_moderators"]),
    "anyOf": [{"required": ["allowlist_mode"]}, {"required": ["modlog_show_moderators"]}],
})
define("InstanceSettings", obj({
    "name": STR, "description": STR,
    "lead_markdown": {**STR, "description": "the start page's lead text (Markdown); "
                                            "empty: the built-in text"},
    "contact_email": STR, "default_language": {"type": "string", "enum": ["de", "en"]},
    "registration_mode": {"type": "string", "enum": ["open", "approval", "closed"]},
    "email_confirmation": {"type": "string", "enum": ["required", "off"]},
}, description="fedi/forum/instance_settings.py view"))
define("InstanceSettingsRequest", {
    **obj({"name": STR, "description": STR, "lead_markdown": STR, "contact_email": STR,
           "default_language": {"type": "string", "enum": ["de", "en"]},
           "registration_mode": {"type": "string", "enum": ["open", "approval", "closed"]},
           "email_confirmation": {"type": "string", "enum": ["required", "off"]}},
          optional=["name", "description", "lead_markdown", "contact_email",
                    "default_language", "registration_mode", "email_confirmation"]),
    "minProperties": 1,
})
define("SessionsReset", obj({"ended": {**INT, "description": "sessions and tokens ended"}}))
define("ModlogEntry", obj({
    "id": INT, "action": {**STR, "description": "e.g. post_remove, ban, group_update"},
    "created_at": TIME, "reason": STR, "group": HANDLE,
    "moderator": {**HANDLE, "description": "null unless moderators are shown"},
    "remote": {**BOOL, "description": "done on another server"},
    "target": obj({"actor": HANDLE, "post_id": OPT_INT, "post_title": OPT_STR,
                   "domain": OPT_STR}),
    "details": {"type": "object", "additionalProperties": True,
                "description": "action-specific facts"},
    "ap_id": {**OPT_STR, "description": "the activity that was sent for it"},
}, description="api_modlog.entry_view"))
define_page("ModlogPage", "ModlogEntry")
define("OpenApiDocument", {
    **obj({"openapi": STR, "info": {"type": "object", "additionalProperties": True},
           "servers": {"type": "array", "items": {"type": "object",
                                                   "additionalProperties": True}},
           "tags": {"type": "array", "items": {"type": "object",
                                               "additionalProperties": True}},
           "components": {"type": "object", "additionalProperties": True},
           "paths": {"type": "object", "additionalProperties": True}}),
    "description": "This document (OpenAPI 3.1).",
})

# --- operations -------------------------------------------------------------------------------

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A token from POST /api/v1/auth/token."},
}
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
PAGE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1},
     "description": "how many items (default and maximum depend on the list)"},
    {"name": "cursor", "in": "query", "schema": {"type": "string"},
     "description": "the `next` of the previous page"},
]


def path_param(name: str, *, integer: bool = False, description: str | None = None) -> Schema:
    param: Schema = {"name": name, "in": "path", "required": True,
                     "schema": {"type": "integer" if integer else "string"}}
    if description:
        param["description"] = description
    return param


def query_param(name: str, description: str, **schema: Any) -> Schema:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "string", **schema}}


def ok(description: str, schema: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def operation(
    operation_id: str, summary: str, tag: str, *, responses: Mapping[str, Schema | str],
    body: str | None = None, body_required: bool = True, auth: bool = False,
    params: Sequence[Schema] = (), description: str | None = None,
) -> dict[str, Any]:
    """One operation. ``responses`` maps a status to a response, or to the description of
    an error in the shared Error shape. A bearer-token operation can always answer 401,
    one with a JSON body 400 and 413: those are added."""
    answers: dict[str, Schema] = {
        status: error(value) if isinstance(value, str) else value
        for status, value in responses.items()}
    if auth:
        answers.setdefault("401", shared("Unauthorized"))
    if body is not None:
        answers.setdefault("400", shared("InvalidJson"))
        answers.setdefault("413", shared("PayloadTooLarge"))
    doc: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        doc["description"] = description
    if auth:
        doc["security"] = BEARER
    if params:
        doc["parameters"] = list(params)
    if body is not None:
        doc["requestBody"] = {"required": body_required,
                              "content": {"application/json": {"schema": ref(body)}}}
    doc["responses"] = dict(sorted(answers.items()))
    return doc


def components() -> dict[str, Any]:
    return {"schemas": dict(SCHEMAS), "responses": dict(RESPONSES),
            "securitySchemes": SECURITY_SCHEMES}
