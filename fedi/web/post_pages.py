"""Writing: new thread, reply, edit, delete, like, follow a group.

Each action is a plain HTML form: GET shows it, POST calls the domain service and
redirects (POST-redirect-GET); a service error shows the form again with the message next
to its field and the input kept.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, NotFound
from fedi.forum import groups as group_service
from fedi.forum import policy, remote_groups
from fedi.forum import posts as post_service
from fedi.forum.policy import Action, Refusal
from fedi.forum.views import actors_for
from fedi.web import poll_pages, search_pages
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    is_refusal,
    read_form,
    refusal_text,
    require_viewer,
    text,
    web_endpoint,
)
from fedi.web.mention_hint import with_hint
from fedi.web.pages import group_path, start_page, thread_path
from fedi.web.render import page, redirect
from fedi.web.upload_forms import (
    attachments_kept,
    form_media,
    read_post_form,
    upload_context,
)
from storage import actors as actor_store
from storage import groups as group_store
from storage.actors import Actor
from storage.posts import Post


async def _writable_group(request: Request) -> Actor:
    """The group of /groups/{name}/new (ours) or /g/{name@host}/new (one we know of
    elsewhere: a page never makes us look up other servers)."""
    ctx = ctx_of(request)
    if "name" in request.path_params:
        group = await group_service.find_group(ctx, request.path_params["name"])
        if not group.local:
            raise NotFound("This group does not exist here.")
        return group
    name, host = group_service.split_ref(request.path_params["ref"], ctx.settings.host)
    async with ctx.pool.acquire() as conn:
        found = await actor_store.by_handle(conn, name, host, "Group")
    if found is None or found.type != "Group" or found.deleted_at is not None:
        raise NotFound("This group does not exist here.")
    return found


async def _post(request: Request) -> Post:
    post_id = int_param(str(request.path_params["post_id"]))
    if post_id is None:
        raise NotFound("This post does not exist.")
    return await post_service.get_post(ctx_of(request), post_id)


async def _reply_refusal(request: Request, parent: Post, author: Actor) -> Refusal | None:
    """The policy's answer to a reply to ``parent``, asked before the form is shown."""
    async with ctx_of(request).pool.acquire() as conn:
        group = await actor_store.get(conn, parent.group_id) if parent.group_id else None
        thread = await policy.thread_of(conn, parent)
        return await policy.refusal(conn, Action.REPLY, author, group=group, thread=thread,
                                    post=parent)


async def _with_author(request: Request, post: Post) -> dict[str, object]:
    async with ctx_of(request).pool.acquire() as conn:
        actors = await actors_for(conn, [post])
    return {"post": post, "actors": actors}


async def _form_again(request: Request, mode: str, context: dict[str, object],
                      values: dict[str, str], exc: AppError) -> Response:
    """The post form once more, with the input kept and the service's error at its field;
    a refusal (locked, banned ...) instead of the form, since no correction would help."""
    if is_refusal(exc):
        return await _refused(request, mode, context, exc)
    return await page(request, "post_form.html", {
        "mode": mode, **context, "values": values, "errors": field_errors(request, exc),
    }, status=exc.status)


async def _refused(request: Request, mode: str, context: dict[str, object],
                   exc: AppError) -> Response:
    """The form's page without the form: the sentence why this cannot be written."""
    return await page(request, "post_form.html", {
        "mode": mode, **context, "values": {}, "errors": {},
        "refusal": refusal_text(request, exc),
    }, status=exc.status)


# New thread -------------------------------------------------------------------------------

@web_endpoint
async def new_thread_form(request: Request) -> Response:
    group = await _writable_group(request)
    viewer = await require_viewer(request)
    context: dict[str, object] = {"group": group, "group_path": group_path(group)}
    async with ctx_of(request).pool.acquire() as conn:
        found = await policy.refusal(conn, Action.START_THREAD, viewer.actor, group=group)
        details = await group_store.get(conn, group.id)
    if found is not None:
        return await _refused(request, "thread", context, found.error())
    return await page(request, "post_form.html", {
        "mode": "thread", **context, "values": {}, "errors": {},
        # Question or discussion: the group's default (migration 0014).
        "default_kind": details.default_kind if details else "question",
        **upload_context(request),
    })


@web_endpoint
async def new_thread(request: Request) -> Response:
    group = await _writable_group(request)
    viewer = await require_viewer(request, group_path(group))
    form = await read_post_form(request)
    media = await form_media(request, viewer.actor, form)
    files = upload_context(request, kept=media.kept, alts=media.alts)
    values = {"title": text(form, "title"), "content": text(form, "content"),
              "kind": text(form, "kind"), **poll_pages.poll_values(form)}
    if text(form, "action") == "check":  # "Prüfen": similar threads, the typed text kept
        return await page(request, "post_form.html", {
            "mode": "thread", "group": group, "group_path": group_path(group),
            "values": values, "errors": {}, **files,
            **await search_pages.similar_context(request, values["title"])})
    warnings: list[dict[str, str]] = []
    try:
        if media.error is not None:
            raise media.error
        post = await post_service.create_thread(ctx_of(request), author=viewer.actor,
                                                group=group, title=values["title"],
                                                content=values["content"], warnings=warnings,
                                                kind=values["kind"] or None,
                                                poll=poll_pages.poll_of(values),
                                                media_ids=media.ids)
    except AppError as exc:
        return await _form_again(request, "thread",
                                 {"group": group, "group_path": group_path(group), **files},
                                 values, exc)
    return redirect(request, with_hint(thread_path(post), warnings), flash="posted")


# Reply ------------------------------------------------------------------------------------

@web_endpoint
async def reply_form(request: Request) -> Response:
    parent = await _post(request)
    viewer = await require_viewer(request)
    found = await _reply_refusal(request, parent, viewer.actor)
    if found is not None and not parent.visible:
        raise found.error()  # a gone post is not shown above the refusal
    context = await _with_author(request, parent)
    if found is not None:
        return await _refused(request, "reply", context, found.error())
    return await page(request, "post_form.html", {
        "mode": "reply", **context, "values": {}, "errors": {}, **upload_context(request),
    })


@web_endpoint
async def reply(request: Request) -> Response:
    parent = await _post(request)
    viewer = await require_viewer(request, thread_path(parent))
    form = await read_post_form(request)
    media = await form_media(request, viewer.actor, form)
    values = {"content": text(form, "content")}
    warnings: list[dict[str, str]] = []
    try:
        if media.error is not None:
            raise media.error
        post = await post_service.create_reply(ctx_of(request), author=viewer.actor,
                                               parent=parent, content=values["content"],
                                               warnings=warnings, media_ids=media.ids)
    except AppError as exc:
        return await _form_again(request, "reply", {
            **await _with_author(request, parent),
            **upload_context(request, kept=media.kept, alts=media.alts)}, values, exc)
    return redirect(request, with_hint(thread_path(post), warnings), flash="replied")


# Edit and delete --------------------------------------------------------------------------

@web_endpoint
async def edit_form(request: Request) -> Response:
    post = await _post(request)
    viewer = await require_viewer(request)
    # The submit's rules, before the form shows the title and source to anybody.
    post_service.check_may_change(post, viewer.actor)
    values = {"title": post.title or "", "content": post.source or ""}
    return await page(request, "post_form.html", {
        "mode": "edit", **await _with_author(request, post), "values": values, "errors": {},
        **upload_context(request, kept=attachments_kept(post.attachments)),
    })


@web_endpoint
async def edit(request: Request) -> Response:
    post = await _post(request)
    viewer = await require_viewer(request, thread_path(post))
    form = await read_post_form(request)
    # Only the author's own form uploads (the service checks again before it changes).
    post_service.check_may_change(post, viewer.actor)
    media = await form_media(request, viewer.actor, form)
    values = {"title": text(form, "title"), "content": text(form, "content")}
    warnings: list[dict[str, str]] = []
    try:
        if media.error is not None:
            raise media.error
        updated = await post_service.edit_post(
            ctx_of(request), actor=viewer.actor, post=post,
            title=values["title"] if post.is_thread else None, content=values["content"],
            warnings=warnings, media_ids=media.ids)
    except AppError as exc:
        return await _form_again(request, "edit", {
            **await _with_author(request, post),
            **upload_context(request, kept=media.kept, alts=media.alts)}, values, exc)
    return redirect(request, with_hint(thread_path(updated), warnings), flash="edited")


@web_endpoint
async def delete_form(request: Request) -> Response:
    post = await _post(request)
    viewer = await require_viewer(request)
    post_service.check_may_change(post, viewer.actor)
    return await page(request, "delete.html", await _with_author(request, post))


@web_endpoint
async def delete(request: Request) -> Response:
    post = await _post(request)
    viewer = await require_viewer(request, thread_path(post))
    await read_form(request)
    await post_service.delete_post(ctx_of(request), actor=viewer.actor, post=post)
    if post.is_thread and post.group_id is not None:
        async with ctx_of(request).pool.acquire() as conn:
            group = (await actors_for(conn, [post])).get(post.group_id)
        if group is not None:
            return redirect(request, group_path(group), flash="deleted")
    return redirect(request, thread_path(post), flash="deleted")


# Like -------------------------------------------------------------------------------------

@web_endpoint
async def like(request: Request) -> Response:
    post = await _post(request)
    viewer = await require_viewer(request, thread_path(post))
    form = await read_form(request)
    ctx = ctx_of(request)
    if text(form, "action") == "unlike":
        await post_service.unlike_post(ctx, actor=viewer.actor, post=post)
        return redirect(request, thread_path(post), flash="unliked")
    await post_service.like_post(ctx, actor=viewer.actor, post=post)
    return redirect(request, thread_path(post), flash="liked")


# Follow a group -----------------------------------------------------------------------------

@web_endpoint
async def follow(request: Request) -> Response:
    """Follow or unfollow a group by name or ``name@host``.

    Local groups get an accepted follow row at once; a remote group gets a Follow from
    the person and the follow stays pending until the group accepts it.
    """
    form = await read_form(request)
    ref = text(form, "group").strip()
    viewer = await require_viewer(request, "/")
    ctx = ctx_of(request)
    if text(form, "action") == "unfollow":
        group = await group_service.find_group(ctx, ref)
        await remote_groups.unfollow_group(ctx, user=viewer.actor, group=group)
        return redirect(request, group_path(group), flash="unfollowed")
    try:
        group = await group_service.find_group(ctx, ref)
    except AppError as exc:
        if text(form, "origin") != "start":
            raise
        # The "follow a group elsewhere" field on the start page: show it again there.
        exc.field = "group"
        return await start_page(request, values={"group": ref},
                                errors=field_errors(request, exc), status=exc.status)
    row = await remote_groups.follow_group(ctx, user=viewer.actor, group=group)
    return redirect(request, group_path(group),
                    flash="followed" if row.state == "accepted" else "follow_pending")
