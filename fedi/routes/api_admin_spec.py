"""OpenAPI paths of fedi/routes/api_admin.py (posts, bans, reports, domains, instances,
parked activities, accounts, moderation settings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedi.forum import moderation
from fedi.routes.api_schemas import PAGE_PARAMETERS, Schema, ok, operation, path_param, query_param

_TEXTS = {"403": "not allowed for this account (`forbidden`)",
          "404": "no such thing (`not_found`)", "409": "already in that state",
          "422": "invalid input (`validation_failed`, `field`)",
          "502": "a remote server failed (`remote_error`)"}
_DONE = {"description": "done"}


def _op(operation_id: str, summary: str, *, ok_: Schema, status: str = "200",
        errors: tuple[str, ...] = ("403", "404", "422"), body: str | None = None,
        body_required: bool = True, params: list[Schema] | None = None,
        texts: Mapping[str, str] | None = None) -> dict[str, Any]:
    descriptions = {**_TEXTS, **(texts or {})}
    return operation(operation_id, summary, "moderation", auth=True, body=body,
                     body_required=body_required, params=params or (),
                     responses={status: ok_, **{code: descriptions[code] for code in errors}})


_ID = path_param("id", integer=True)
_DOMAIN = path_param("domain", description="a host name, with its port if it has one")
_NAME = path_param("name", description="a local username")
_POST_SUMMARIES = {
    "remove": "Remove a post (a thread root: the whole thread); the reason is required",
    "restore": "Restore a removed post", "lock": "Lock a thread (no new replies)",
    "unlock": "Unlock a thread", "pin": "Pin a thread", "unpin": "Unpin a thread",
}
_ADMINS_ONLY = {"403": "not an administrator (`forbidden`)"}

OPENAPI_PATHS: dict[str, Any] = {
    **{f"/api/v1/admin/posts/{{id}}/{action}": {"post": _op(
        f"{action}Post", f"{summary} (moderators of its group, admins)",
        ok_=ok("the post as moderators see it", "ModeratedPost"), body="ReasonRequest",
        body_required=False, params=[_ID], errors=("403", "404", "409", "422"))}
       for action, summary in _POST_SUMMARIES.items()},
    "/api/v1/admin/bans": {
        "post": _op("createBan", "Ban an actor from a group (its moderators) or the instance "
                                 "(admins)",
                    ok_=ok("the ban", "Ban"), status="201", body="BanRequest",
                    errors=("403", "404", "409", "422", "502")),
        "get": _op("listBans", "Active bans (?all=true: lifted ones too)",
                   ok_=ok("a page of bans, newest first", "BanPage"),
                   params=[*PAGE_PARAMETERS,
                           query_param("all", "`true` or `1` lists lifted bans too")],
                   errors=("403", "422")),
    },
    "/api/v1/admin/bans/{id}": {"delete": _op(
        "liftBan", "Lift a ban", ok_=ok("the lifted ban", "Ban"), params=[_ID],
        errors=("403", "404", "409"))},
    "/api/v1/admin/reports": {"get": _op(
        "listReports", "Reports the caller moderates (?state=open|resolved|all)",
        ok_=ok("a page of reports, newest first", "ReportPage"), errors=("403", "422"),
        params=[*PAGE_PARAMETERS, query_param("state", "which reports; default open",
                                              enum=["open", "resolved", "all"])])},
    "/api/v1/admin/reports/{id}/assign": {"post": _op(
        "assignReport", "Assign a report (to oneself, or {assignee: username})",
        ok_=ok("the report", "Report"), params=[_ID], body="AssignReportRequest",
        body_required=False)},
    "/api/v1/admin/reports/{id}/resolve": {"post": _op(
        "resolveReport", "Resolve a report (a remote reporter hears of it as Resolve)",
        ok_=ok("the report", "Report"), params=[_ID], errors=("403", "404", "409", "422"),
        body="ResolveReportRequest", body_required=False)},
    "/api/v1/admin/domains": {"get": _op(
        "listDomains", "Blocked and allowed domains (admins)",
        ok_=ok("every domain with a block or allowlist entry", "DomainPolicyList"),
        errors=("403",), texts=_ADMINS_ONLY)},
    "/api/v1/admin/domains/{domain}": {
        "put": _op("setDomainPolicy",
                   "Block/unblock a domain, put it on/off the allowlist (admins)",
                   ok_=ok("the domain's entry now", "DomainPolicy"), params=[_DOMAIN],
                   body="DomainPolicyRequest", texts=_ADMINS_ONLY),
        "delete": _op("forgetDomain", "Forget a domain's block and allowlist entry (admins)",
                      ok_=_DONE, status="204", params=[_DOMAIN], texts=_ADMINS_ONLY),
    },
    "/api/v1/admin/instances": {"get": _op(
        "listInstances", "Known instances: software and delivery health (admins)",
        ok_=ok("a page of instances by name", "InstancePage"), params=PAGE_PARAMETERS,
        errors=("403", "422"), texts=_ADMINS_ONLY)},
    "/api/v1/admin/instances/{domain}/reset": {"post": _op(
        "resetInstance",
        "Forget an instance's delivery failures; its parked deliveries resume (admins)",
        ok_=ok("what changed", "InstanceActionResult"), params=[_DOMAIN],
        texts=_ADMINS_ONLY)},
    "/api/v1/admin/instances/{domain}/retry": {"post": _op(
        "retryInstance", "Queue an instance's failed deliveries again (admins)",
        ok_=ok("what changed", "InstanceActionResult"), params=[_DOMAIN],
        texts=_ADMINS_ONLY)},
    "/api/v1/admin/inbox/parked": {"get": _op(
        "listParkedActivities",
        "Inbound activities the queue gave up on, with their error (admins)",
        ok_=ok("a page of parked activities, newest first", "ParkedActivityPage"),
        params=PAGE_PARAMETERS, errors=("403", "422"), texts=_ADMINS_ONLY)},
    "/api/v1/admin/inbox/parked/{id}/retry": {"post": _op(
        "retryParkedActivity", "Process a parked inbound activity again (admins)",
        ok_=_DONE, status="204", params=[_ID], texts=_ADMINS_ONLY)},
    "/api/v1/admin/inbox/parked/{id}": {"delete": _op(
        "discardParkedActivity", "Discard a parked inbound activity (admins)", ok_=_DONE,
        status="204", params=[_ID], texts=_ADMINS_ONLY)},
    "/api/v1/admin/accounts": {"get": _op(
        "listAccounts", "Local accounts (?status=pending for sign-ups awaiting approval; "
                        "admins)",
        ok_=ok("every matching account, in one page", "AdminAccountList"),
        params=[query_param("status", "only accounts in this state",
                            enum=["active", "pending", "rejected", "suspended"])],
        errors=("403", "422"), texts=_ADMINS_ONLY)},
    **{f"/api/v1/admin/accounts/{{name}}/{action}": {"post": _op(
        f"{action}Account", f"{action.capitalize()} a local account (admins)",
        ok_=ok("the account's new status", "AccountStatus"), body="ReasonRequest",
        body_required=False, params=[_NAME], errors=("403", "404", "409", "422"),
        texts=_ADMINS_ONLY)}
       for action in moderation.ACCOUNT_ACTIONS},
    "/api/v1/admin/settings/moderation": {
        "get": _op("getModerationSettings", "Moderation settings (admins)",
                   ok_=ok("the settings", "ModerationSettings"), errors=("403",),
                   texts=_ADMINS_ONLY),
        "put": _op("setModerationSettings",
                   "Change allowlist_mode and modlog_show_moderators (admins)",
                   ok_=ok("the settings now", "ModerationSettings"),
                   body="ModerationSettingsRequest", errors=("403", "422"),
                   texts=_ADMINS_ONLY),
    },
}
