"""The notifications page (``/notifications``: newest first, paged, mark one or all
read) and the forms that watch or mute a thread and mute a group. Every form works
without script (POST, CSRF, redirect back)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.forum import groups as group_service
from fedi.forum import notifications as service
from fedi.forum import posts as post_service
from fedi.forum.notifications import NoticeView
from fedi.web.common import (
    ctx_of,
    int_param,
    read_form,
    require_viewer,
    text,
    time_id_cursor,
    web_endpoint,
)
from fedi.web.pages import group_path
from fedi.web.render import page, redirect

PER_PAGE = 30



def link_of(view: NoticeView) -> str | None:
    """Where a notice leads: the post in its thread, the reports, the sign-ups."""
    notice = view.notice
    if notice.type == "report":
        return "/mod/reports"
    if notice.type == "signup":
        return "/admin/signups"
    if notice.thread_id is not None:
        anchor = (f"#post-{notice.post_id}" if notice.post_id and notice.post_id !=
                  notice.thread_id else "")
        return f"/posts/{notice.thread_id}{anchor}"
    if view.group is not None:
        return group_path(view.group)
    return None


@web_endpoint
async def notifications(request: Request) -> Response:
    viewer = await require_viewer(request)
    before = time_id_cursor(request.query_params.get("before"))
    views, unread = await service.list_notices(ctx_of(request), viewer.account,
                                               limit=PER_PAGE + 1, before=before)
    next_before = None
    if len(views) > PER_PAGE:
        views = views[:PER_PAGE]
        last = views[-1].notice
        next_before = f"{last.created_at.isoformat()}~{last.id}"
    return await page(request, "notifications.html", {
        "views": views, "unread": unread, "link_of": link_of,
        "first_page": before is None, "next_before": next_before,
    })


@web_endpoint
async def mark_read(request: Request) -> Response:
    """One notice (``id``) or all of them (``all``) read."""
    viewer = await require_viewer(request, "/notifications")
    form = await read_form(request)
    notice_id = int_param(text(form, "id") or None)
    ids = None if text(form, "all") else [notice_id] if notice_id else []
    await service.mark_read(ctx_of(request), viewer.account, ids)
    return redirect(request, "/notifications", flash="notifications_read")


@web_endpoint
async def watch(request: Request) -> Response:
    """Watch, mute or neither (``level``) the thread."""
    ctx = ctx_of(request)
    post = await post_service.get_post(ctx, int(request.path_params["post_id"]))
    path = f"/posts/{post.thread_id or post.id}"
    viewer = await require_viewer(request, path)
    form = await read_form(request)
    level = service.check_level(text(form, "level"))
    await service.watch_thread(ctx, viewer.account, post, level)
    flash = {"watching": "watching", "muted": "muted"}.get(level or "", "unwatched")
    return redirect(request, path, flash=flash)


@web_endpoint
async def group_mute(request: Request) -> Response:
    """No new-thread notices from the group (``action=mute``), or again (``unmute``)."""
    viewer = await require_viewer(request, "/")
    form = await read_form(request)
    ctx = ctx_of(request)
    group = await group_service.find_group(ctx, text(form, "group").strip())
    muted = text(form, "action") != "unmute"
    await service.mute_group(ctx, viewer.account, group, muted)
    return redirect(request, group_path(group),
                    flash="group_muted" if muted else "group_unmuted")
