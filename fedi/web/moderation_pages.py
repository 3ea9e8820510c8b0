"""Moderators' pages: remove/restore, lock and pin posts, the reports queue.

Every action calls the service in :mod:`fedi.forum.threads` or :mod:`fedi.forum.reports`
that the admin API calls (``/api/v1/admin/posts/{id}/...``, ``/api/v1/admin/reports``):
the services check who may do what, so a plain user gets the services' 403 here as there.
Bans are in ``ban_pages.py``, the admins' pages in ``admin_pages.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import NotFound, ValidationFailed
from fedi.forum import posts as post_service
from fedi.forum import reports as report_service
from fedi.forum import threads as thread_service
from fedi.forum.staff import check_reason, require_moderator
from fedi.forum.views import actors_for
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    read_form,
    require_staff,
    text,
    web_endpoint,
)
from fedi.web.messages import N_
from fedi.web.pages import excerpt, thread_path
from fedi.web.render import page, redirect, safe_next
from storage import actors as actor_store
from storage import posts as post_store
from storage.actors import Actor
from storage.posts import Post
from storage.reports import Report

REPORTS_PER_PAGE = 25
REPORT_STATES = ("open", "resolved", "all")
# action -> flash key after it; remove and restore ask for a reason on a page first.
POST_ACTIONS = {"remove": "removed", "restore": "restored", "lock": "locked",
                "unlock": "unlocked", "pin": "pinned", "unpin": "unpinned"}
UNKNOWN_ACTION = N_("This action does not exist.")


async def _post(request: Request) -> Post:
    post_id = int_param(str(request.path_params["post_id"]))
    if post_id is None:
        raise NotFound("This post does not exist.")
    return await post_service.get_post(ctx_of(request), post_id)


def _action(value: str | None) -> str:
    if value not in POST_ACTIONS:
        raise ValidationFailed(UNKNOWN_ACTION, field="action")
    return value


async def _after_action(request: Request, post: Post, action: str, next_path: str) -> str:
    """Where to go afterwards: ``next`` if given, else the post in its thread. A removed
    thread is gone for the public, not for its moderators: its page shows them the
    removed state and the way to restore it (its group page no longer lists it)."""
    if next_path:
        return safe_next(next_path)
    return thread_path(post)


# Remove, restore, lock, pin --------------------------------------------------------------

@web_endpoint
async def moderate_form(request: Request) -> Response:
    """GET /posts/{id}/moderate?action=remove|restore: the reason, before it is done."""
    post = await _post(request)
    staff = await require_staff(request)
    action = _action(request.query_params.get("action"))
    if action not in ("remove", "restore"):  # lock and pin are buttons without a page
        raise ValidationFailed(UNKNOWN_ACTION, field="action")
    async with ctx_of(request).pool.acquire() as conn:
        group = await actor_store.get(conn, post.group_id) if post.group_id else None
        await require_moderator(conn, staff, group)
        actors = await actors_for(conn, [post])
    return await page(request, "mod_post.html", {
        "post": post, "actors": actors, "action": action, "values": {}, "errors": {},
        "next": safe_next(request.query_params.get("next"), ""), "may_moderate": True,
    })


@web_endpoint
async def moderate(request: Request) -> Response:
    """POST /posts/{id}/moderate: action and reason (required to remove)."""
    post = await _post(request)
    staff = await require_staff(request, thread_path(post))
    form = await read_form(request)
    action = _action(text(form, "action"))
    reason_text = text(form, "reason")
    next_path = safe_next(text(form, "next"), "")
    ctx = ctx_of(request)
    try:
        reason = check_reason(reason_text, required=action == "remove")
        if action in ("remove", "restore"):
            service = (thread_service.remove_post if action == "remove"
                       else thread_service.restore_post)
            await service(ctx, staff, post.id, reason=reason)
        elif action in ("lock", "unlock"):
            await thread_service.lock_thread(ctx, staff, post.id, locked=action == "lock",
                                             reason=reason)
        else:
            await thread_service.pin_thread(ctx, staff, post.id, pinned=action == "pin",
                                            reason=reason)
    except ValidationFailed as exc:
        if action not in ("remove", "restore"):
            raise
        async with ctx.pool.acquire() as conn:
            actors = await actors_for(conn, [post])
        return await page(request, "mod_post.html", {
            "post": post, "actors": actors, "action": action, "next": next_path,
            "values": {"reason": reason_text}, "errors": field_errors(request, exc),
            "may_moderate": True,
        }, status=exc.status)
    target = await _after_action(request, post, action, next_path)
    return redirect(request, target, flash=POST_ACTIONS[action])


# Reports queue ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportItem:
    report: Report
    posts: list[Post]


async def _actors(conn: Any, ids: set[int | None]) -> dict[int, Actor]:
    found: dict[int, Actor] = {}
    for actor_id in ids:
        if actor_id is not None and actor_id not in found:
            actor = await actor_store.get(conn, actor_id)
            if actor is not None:
                found[actor_id] = actor
    return found


@web_endpoint
async def reports(request: Request) -> Response:
    """GET /mod/reports?state=open|resolved|all&before=<id>: newest first."""
    ctx = ctx_of(request)
    staff = await require_staff(request)
    state = request.query_params.get("state", "open")
    if state not in REPORT_STATES:
        state = "open"
    before = int_param(request.query_params.get("before"))
    rows = await report_service.list_reports(
        ctx, staff, state=None if state == "all" else state, limit=REPORTS_PER_PAGE + 1,
        before_id=before)
    older = None
    if len(rows) > REPORTS_PER_PAGE:
        rows = rows[:REPORTS_PER_PAGE]
        older = f"/mod/reports?state={state}&before={rows[-1].id}"
    async with ctx.pool.acquire() as conn:
        items = []
        for row in rows:
            posts = [p for p in [await post_store.get(conn, i) for i in row.post_ids] if p]
            items.append(ReportItem(row, posts))
        actors = await _actors(conn, {i for r in rows for i in (
            r.reporter_id, r.target_actor_id, r.group_id, r.assigned_to, r.resolved_by)})
        actors.update(await actors_for(conn, [p for item in items for p in item.posts]))
    return await page(request, "mod_reports.html", {
        "items": items, "actors": actors, "state": state, "states": REPORT_STATES,
        "older": older, "newest": f"/mod/reports?state={state}" if before else None,
        "thread_path": thread_path, "excerpt": excerpt, "me": staff.actor.id,
    })


def _report_id(request: Request) -> int:
    report_id = int_param(str(request.path_params["report_id"]))
    if report_id is None:
        raise NotFound("This report does not exist.")
    return report_id


@web_endpoint
async def assign_report(request: Request) -> Response:
    staff = await require_staff(request, "/mod/reports")
    form = await read_form(request)
    await report_service.assign_report(ctx_of(request), staff, _report_id(request),
                                       assignee_ref=None)
    return redirect(request, safe_next(text(form, "next"), "/mod/reports"), flash="assigned")


@web_endpoint
async def resolve_report(request: Request) -> Response:
    staff = await require_staff(request, "/mod/reports")
    form = await read_form(request)
    resolution = check_reason(text(form, "resolution"))
    await report_service.resolve_report(ctx_of(request), staff, _report_id(request),
                                        resolution=resolution)
    return redirect(request, safe_next(text(form, "next"), "/mod/reports"), flash="resolved")
