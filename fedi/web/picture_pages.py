"""Pictures of accounts and groups (issue 19): the avatar on the settings page
(``POST /settings/avatar``) and a group's icon and banner in the admin area
(``POST /admin/groups/{name}/pictures``). Plain multipart forms; the same services as
``PATCH /api/v1/me`` and ``PATCH /api/v1/admin/groups/{name}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Forbidden
from fedi.forum import groups as group_service
from fedi.forum import media as media_service
from fedi.forum import profiles as profile_service
from fedi.routes.uploads import read_multipart, read_upload
from fedi.web import admin_group_pages, settings_pages
from fedi.web.common import ctx_of, field_errors, require_staff, require_viewer, web_endpoint
from fedi.web.render import redirect
from fedi.web.session import check_csrf
from storage.actors import Actor

__all__ = ["save_avatar", "save_group_pictures"]


def _field(exc: AppError, name: str) -> AppError:
    """The error shown at the form's own field."""
    exc.field = name
    return exc


async def _picture(request: Request, owner: Actor, item: object, alt: str) -> int | None:
    """Upload one chosen picture (images only); None when no file was chosen."""
    ctx = ctx_of(request)
    found = await read_upload(item, ctx)
    if found is None:
        return None
    media = await media_service.upload(ctx, owner=owner, data=found[0], filename=found[1],
                                       alt=alt, require_alt=False)
    if media.kind != "image":
        await media_service.delete_unused(ctx, [media.id])
        raise media_service.MediaRefused(media_service.NOT_AN_IMAGE, field="file")
    return media.id


@web_endpoint
async def save_avatar(request: Request) -> Response:
    viewer = await require_viewer(request, "/settings")
    ctx = ctx_of(request)
    try:
        form = await read_multipart(request, ctx, max_files=1)
        check_csrf(request, form)
        try:
            if form.get("action") == "remove":
                await profile_service.set_avatar(ctx, viewer.account, None)
                return redirect(request, "/settings", flash="settings_saved")
            name = viewer.actor.name or viewer.actor.username
            media_id = await _picture(request, viewer.actor, form.get("avatar"), name)
        finally:
            await form.close()
        if media_id is None:
            raise media_service.MediaRefused(media_service.NOT_AN_IMAGE, field="avatar")
        await profile_service.set_avatar(ctx, viewer.account, media_id)
    except Forbidden:
        raise
    except AppError as exc:
        return await settings_pages._page(request, viewer,
                                          errors=field_errors(request, _field(exc, "avatar")),
                                          status=exc.status)
    return redirect(request, "/settings", flash="settings_saved")


@web_endpoint
async def save_group_pictures(request: Request) -> Response:
    """Icon and banner of a group; its moderators and the admins (checked first)."""
    staff = await require_staff(request)
    found = await admin_group_pages._own_group(request, staff)
    ctx = ctx_of(request)
    changes: dict[str, Any] = {}
    try:
        form = await read_multipart(request, ctx, max_files=2)
        check_csrf(request, form)
        try:
            title = found.name or found.username
            for field, key in (("icon", "icon_media_id"), ("banner", "banner_media_id")):
                if form.get(f"remove_{field}") == "1":
                    changes[key] = None
                    continue
                try:
                    media_id = await _picture(request, staff.actor, form.get(field), title)
                except AppError as exc:
                    raise _field(exc, field) from None
                if media_id is not None:
                    changes[key] = media_id
        finally:
            await form.close()
        if changes:
            await group_service.update_group(ctx, staff, found.username, changes)
    except Forbidden:
        raise
    except AppError as exc:
        return await admin_group_pages._group_page(
            request, staff, found, errors=field_errors(request, exc), status=exc.status)
    return redirect(request, f"/admin/groups/{found.username}", flash="admin_saved")
