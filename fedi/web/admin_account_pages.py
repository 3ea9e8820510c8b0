"""The admin area's account pages (``/admin/accounts``, admins only): find accounts by
name or e-mail address, page by page; suspend and unsuspend, make official or withdraw
it, log out everywhere, delete (with a confirmation page).

Each action calls the service the admin API calls (:mod:`fedi.forum.accounts_admin`,
:mod:`fedi.forum.officials`, :mod:`fedi.forum.erasure`) after the same role check; the
services write the modlog entries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from fedi.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from fedi.forum import accounts_admin, officials
from fedi.forum.erasure import admin_delete_account
from fedi.forum.staff import Staff, check_reason
from fedi.web.admin_area_pages import require_admin_viewer
from fedi.web.admin_pages import UNKNOWN_ACTION
from fedi.web.common import (
    ctx_of,
    field_errors,
    int_param,
    read_form,
    text,
    web_endpoint,
)
from fedi.web.render import page, redirect
from storage import accounts as account_store
from storage import actors as actor_store
from storage.accounts import Account

PER_PAGE = 25
ACTIONS = ("suspend", "unsuspend", "official", "unofficial", "sessions")


def _list_url(query: str, page_number: int) -> str:
    params = {k: v for k, v in (("q", query), ("page", str(page_number))) if v and v != "1"}
    return "/admin/accounts" + ("?" + urlencode(params) if params else "")


async def _list_page(request: Request, staff: Staff, *, query: str, page_number: int,
                     errors: dict[str, str] | None = None, error_account: str = "",
                     status: int = 200) -> Response:
    ctx = ctx_of(request)
    found = await accounts_admin.search_accounts(
        ctx, staff, query, limit=PER_PAGE + 1, offset=(page_number - 1) * PER_PAGE)
    async with ctx.pool.acquire() as conn:
        actors = {a.actor_id: await actor_store.get(conn, a.actor_id)
                  for a in found[:PER_PAGE]}
    return await page(request, "admin_accounts.html", {
        "accounts": found[:PER_PAGE], "actors": actors, "query": query,
        "page_number": page_number, "errors": errors or {}, "error_account": error_account,
        "older": _list_url(query, page_number + 1) if len(found) > PER_PAGE else None,
        "newest": _list_url(query, 1) if page_number > 1 else None,
        "back": _list_url(query, page_number),
    }, status=status)


def _page_number(request: Request) -> int:
    number = int_param(request.query_params.get("page")) or 1
    return max(1, min(number, 10_000))


@web_endpoint
async def accounts(request: Request) -> Response:
    """GET /admin/accounts?q=&page=: the accounts whose name or address contains q."""
    staff = await require_admin_viewer(request)
    query = request.query_params.get("q", "").replace("\x00", "")
    try:
        return await _list_page(request, staff, query=query, page_number=_page_number(request))
    except ValidationFailed as exc:
        return await _list_page(request, staff, query="", page_number=1,
                                errors=field_errors(request, exc), status=exc.status)


def _back(value: str) -> str:
    return value if value.startswith("/admin/accounts") and "//" not in value \
        else "/admin/accounts"


@web_endpoint
async def account_action(request: Request) -> Response:
    """POST /admin/accounts/{name}: ``action`` suspend, unsuspend, official (with
    ``position``), unofficial or sessions (log out everywhere); ``reason`` optional."""
    staff = await require_admin_viewer(request, "/admin/accounts")
    form = await read_form(request)
    name = request.path_params["name"]
    action = text(form, "action")
    back = _back(text(form, "back"))
    ctx = ctx_of(request)
    try:
        reason = check_reason(text(form, "reason"))
        if action in ("suspend", "unsuspend"):
            await accounts_admin.account_action(ctx, staff, name, action, reason=reason)
        elif action == "official":
            await officials.set_official(ctx, staff, name, text(form, "position"),
                                         reason=reason)
        elif action == "unofficial":
            await officials.withdraw_official(ctx, staff, name, reason=reason)
        elif action == "sessions":
            await accounts_admin.reset_sessions(ctx, staff, name, reason=reason)
        else:
            raise ValidationFailed(UNKNOWN_ACTION, field="action")
    except Forbidden:
        raise
    except AppError as exc:
        return await _list_page(request, staff, query=name, page_number=1,
                                errors=field_errors(request, exc), error_account=name,
                                status=exc.status)
    return redirect(request, back, flash="admin_saved")


async def _account(request: Request) -> Account:
    async with ctx_of(request).pool.acquire() as conn:
        account = await account_store.by_username(conn, request.path_params["name"])
    if account is None:
        raise NotFound("This account does not exist.")
    return account


async def _delete_page(request: Request, account: Account, values: dict[str, Any],
                       errors: dict[str, str], status: int = 200) -> Response:
    return await page(request, "admin_account_delete.html", {
        "account": account, "values": values, "errors": errors}, status=status)


@web_endpoint
async def delete_form(request: Request) -> Response:
    await require_admin_viewer(request)
    return await _delete_page(request, await _account(request), {}, {})


@web_endpoint
async def delete(request: Request) -> Response:
    """POST /admin/accounts/{name}/delete (fedi.forum.erasure.admin_delete_account)."""
    staff = await require_admin_viewer(request)
    account = await _account(request)
    form = await read_form(request)
    keep_posts = text(form, "keep_posts") == "yes"
    values: dict[str, Any] = {"reason": text(form, "reason"), "keep_posts": keep_posts}
    try:
        await admin_delete_account(ctx_of(request), staff, account.username,
                                   keep_posts=keep_posts,
                                   reason=check_reason(values["reason"]))
    except Forbidden:
        raise
    except AppError as exc:
        return await _delete_page(request, account, values, field_errors(request, exc),
                                  exc.status)
    return redirect(request, "/admin/accounts", flash="account_deleted_by_admin")
