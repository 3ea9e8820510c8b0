"""Who may call each moderation and admin endpoint: a matrix over admin, a moderator of
the group concerned, a moderator of another group, a plain user and an anonymous caller.
Each role acts on a target of its own, so an allowed call always has something to do."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fedi.app import create_app
from fedi.core.context import Context
from fedi.forum import bans, domains, groups, reports, threads
from fedi.forum.accounts import create_account
from fedi.forum.posts import create_thread
from fedi.forum.staff import Staff
from storage import actors as actor_store
from storage.posts import Post
from tests.conftest import _fresh_database, make_settings
from tests.support.helpers import User, make_group, make_user

ROLES = ("anonymous", "user", "mod_other", "mod_this", "admin")
_names = itertools.count(1)


@dataclass
class World:
    ctx: Context
    users: dict[str, User]

    def staff(self, role: str = "admin") -> Staff:
        user = self.users[role]
        return Staff(user.account, user.actor)

    async def thread(self, author: str = "user") -> Post:
        async with self.ctx.pool.acquire() as conn:
            group = await actor_store.local_by_name(conn, "breitband")
        assert group is not None
        return await create_thread(self.ctx, author=self.users[author].actor, group=group,
                                   title=f"Thema {next(_names)}", content="Text")

    async def person(self) -> User:
        return await make_user(self.ctx, f"p{next(_names)}")


Call = tuple[str, str, dict[str, Any] | None]
Prepare = Callable[[World, str], Awaitable[Call]]


def post_action(action: str, setup: str | None = None) -> Prepare:
    async def prepare(w: World, role: str) -> Call:
        post = await w.thread()
        if setup == "remove":
            await threads.remove_post(w.ctx, w.staff(), post.id, reason="x")
        elif setup == "lock":
            await threads.lock_thread(w.ctx, w.staff(), post.id, locked=True, reason="")
        elif setup == "pin":
            await threads.pin_thread(w.ctx, w.staff(), post.id, pinned=True, reason="")
        return "POST", f"/api/v1/admin/posts/{post.id}/{action}", {"reason": "weil"}

    return prepare


async def ban_in_group(w: World, role: str) -> Call:
    target = await w.person()
    return "POST", "/api/v1/admin/bans", {"actor": target.actor.handle, "group": "breitband",
                                          "reason": "x"}


async def ban_instance(w: World, role: str) -> Call:
    target = await w.person()
    return "POST", "/api/v1/admin/bans", {"actor": target.actor.handle, "reason": "x"}


async def lift_ban(w: World, role: str) -> Call:
    target = await w.person()
    ban = await bans.ban(w.ctx, w.staff(), actor_ref=target.actor.handle,
                               group_ref="breitband", reason="", expires_at=None,
                               remove_content=False)
    return "DELETE", f"/api/v1/admin/bans/{ban.id}", None


async def report_action(action: str, w: World) -> Call:
    post = await w.thread()
    report = await reports.report(w.ctx, w.users["admin"].actor, post_id=post.id,
                                     actor_ref=None, reason="Spam")
    return "POST", f"/api/v1/admin/reports/{report.id}/{action}", {}


def fixed(method: str, path: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(w: World, role: str) -> Call:
        return method, path, body

    return prepare


async def parked(w: World, action: str) -> Call:
    async with w.ctx.pool.acquire() as conn:
        row_id = await conn.fetchval(
            "INSERT INTO inbox_activities (ap_id, type, actor_ap_id, payload, state)"
            " VALUES ($1, 'Create', 'https://x.example/u', '{}', 'parked') RETURNING id",
            f"https://x.example/{next(_names)}")
    if action == "retry":
        return "POST", f"/api/v1/admin/inbox/parked/{row_id}/retry", None
    return "DELETE", f"/api/v1/admin/inbox/parked/{row_id}", None


async def account(w: World, action: str) -> Call:
    name = f"a{next(_names)}"
    status = {"approve": "pending", "reject": "pending", "suspend": "active",
              "unsuspend": "suspended"}[action]
    async with w.ctx.pool.acquire() as conn:
        await create_account(conn, w.ctx, username=name, email=f"{name}@example.org",
                             password="correct horse battery", status=status)
    return "POST", f"/api/v1/admin/accounts/{name}/{action}", {"reason": "x"}


async def new_group(w: World, role: str) -> Call:
    name = f"g{next(_names)}"
    await make_group(w.ctx, name, title="Neu", moderators=[w.users["mod_this"].actor])
    return "DELETE", f"/api/v1/admin/groups/{name}", None


async def appoint(w: World, role: str) -> Call:
    person = await w.person()
    return "PUT", f"/api/v1/admin/groups/breitband/moderators/{person.actor.handle}", None


async def dismiss(w: World, role: str) -> Call:
    person = await w.person()
    await groups.set_moderator(w.ctx, w.staff(), "breitband", person.actor.handle,
                                   appoint=True)
    return "DELETE", f"/api/v1/admin/groups/breitband/moderators/{person.actor.handle}", None


async def instance_reset(w: World, role: str) -> Call:
    async with w.ctx.pool.acquire() as conn:
        await conn.execute("INSERT INTO instances (domain) VALUES ('peer.example')"
                           " ON CONFLICT DO NOTHING")
    return "POST", "/api/v1/admin/instances/peer.example/reset", None


async def domain(w: World, role: str) -> Call:
    return "PUT", f"/api/v1/admin/domains/{role}.example", {"blocked": True, "reason": "x"}


async def forget_domain(w: World, role: str) -> Call:
    name = f"d{next(_names)}.example"
    await domains.set_domain(w.ctx, w.staff(), name, blocked=True, allowed=None, reason="")
    return "DELETE", f"/api/v1/admin/domains/{name}", None


async def user_report(w: World, role: str) -> Call:
    # Someone else's post: nobody may report themselves.
    post = await w.thread("admin" if role == "user" else "user")
    return "POST", "/api/v1/reports", {"post_id": post.id, "reason": "Spam"}


async def create_group(w: World, role: str) -> Call:
    return "POST", "/api/v1/admin/groups", {"name": f"n{next(_names)}", "title": "Neu"}


ADMIN = frozenset({"admin"})
GROUP_MODS = frozenset({"admin", "mod_this"})
ANY_MOD = frozenset({"admin", "mod_this", "mod_other"})
LOGGED_IN = frozenset({"user", "admin", "mod_this", "mod_other"})
EVERYONE = frozenset(ROLES)

# name -> (roles allowed, success status, prepare)
MATRIX: dict[str, tuple[frozenset[str], int, Prepare]] = {
    "remove": (GROUP_MODS, 200, post_action("remove")),
    "restore": (GROUP_MODS, 200, post_action("restore", "remove")),
    "lock": (GROUP_MODS, 200, post_action("lock")),
    "unlock": (GROUP_MODS, 200, post_action("unlock", "lock")),
    "pin": (GROUP_MODS, 200, post_action("pin")),
    "unpin": (GROUP_MODS, 200, post_action("unpin", "pin")),
    "ban in group": (GROUP_MODS, 201, ban_in_group),
    "ban from instance": (ADMIN, 201, ban_instance),
    "lift ban": (GROUP_MODS, 200, lift_ban),
    "list bans": (ANY_MOD, 200, fixed("GET", "/api/v1/admin/bans")),
    "report": (LOGGED_IN, 201, user_report),
    "list reports": (ANY_MOD, 200, fixed("GET", "/api/v1/admin/reports")),
    "assign report": (GROUP_MODS, 200, lambda w, r: report_action("assign", w)),
    "resolve report": (GROUP_MODS, 200, lambda w, r: report_action("resolve", w)),
    "create group": (ADMIN, 201, create_group),
    "edit group": (GROUP_MODS, 200, fixed("PATCH", "/api/v1/admin/groups/breitband",
                                          {"title": "Neuer Titel"})),
    "delete group": (ADMIN, 204, new_group),
    "appoint moderator": (GROUP_MODS, 200, appoint),
    "dismiss moderator": (GROUP_MODS, 200, dismiss),
    "block domain": (ADMIN, 200, domain),
    "forget domain": (ADMIN, 204, forget_domain),
    "list domains": (ADMIN, 200, fixed("GET", "/api/v1/admin/domains")),
    "instances": (ADMIN, 200, fixed("GET", "/api/v1/admin/instances")),
    "reset instance": (ADMIN, 200, instance_reset),
    "retry instance": (ADMIN, 200, fixed("POST", "/api/v1/admin/instances/peer.example/retry")),
    "parked": (ADMIN, 200, fixed("GET", "/api/v1/admin/inbox/parked")),
    "retry parked": (ADMIN, 204, lambda w, r: parked(w, "retry")),
    "discard parked": (ADMIN, 204, lambda w, r: parked(w, "discard")),
    "accounts": (ADMIN, 200, fixed("GET", "/api/v1/admin/accounts")),
    **{f"{action} account": (ADMIN, 200, (lambda a: lambda w, r: account(w, a))(action))
       for action in ("approve", "reject", "suspend", "unsuspend")},
    "settings": (ADMIN, 200, fixed("PUT", "/api/v1/admin/settings/moderation",
                                   {"modlog_show_moderators": True})),
    "admin modlog": (ADMIN, 200, fixed("GET", "/api/v1/admin/modlog")),
    "public modlog": (EVERYONE, 200, fixed("GET", "/api/v1/modlog")),
}


@pytest.fixture(scope="module")
async def world(postgres_server: str, template_dsn: str
                ) -> AsyncIterator[tuple[World, httpx.AsyncClient]]:
    """One instance for the whole matrix (every case makes its own targets)."""
    settings = make_settings()
    app = create_app(settings, await _fresh_database(postgres_server), run_workers=False)
    async with app.router.lifespan_context(app):
        ctx: Context = app.state.ctx
        users = {
            "admin": await make_user(ctx, "chefin", admin=True),
            "mod_this": await make_user(ctx, "mod"),
            "mod_other": await make_user(ctx, "other"),
            "user": await make_user(ctx, "user"),
        }
        await make_group(ctx, "breitband", moderators=[users["mod_this"].actor])
        await make_group(ctx, "verkehr", title="Verkehr",
                         moderators=[users["mod_other"].actor])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            yield World(ctx, users), client


@pytest.mark.parametrize("name", list(MATRIX))
async def test_permissions(world: tuple[World, httpx.AsyncClient], name: str) -> None:
    w, client = world
    allowed, ok, prepare = MATRIX[name]
    for role in ROLES:
        method, path, body = await prepare(w, role)
        headers = w.users[role].headers if role in w.users else None
        r = await client.request(method, path, headers=headers, json=body)
        if role in allowed:
            expected = ok
        else:
            expected = 401 if role == "anonymous" else 403
        assert r.status_code == expected, (name, role, r.text)
        if expected >= 400:
            assert r.json()["message"], r.text
