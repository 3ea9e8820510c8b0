"""``fedi user``, ``fedi group`` and ``fedi token``: administration from the shell."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from fedi.core.config import Settings
from fedi.core.context import Context
from fedi.core.errors import AppError

T = TypeVar("T")


def register(sub: Any) -> None:
    """Added to the parser by :func:`fedi.cli.build_parser`."""
    user = sub.add_parser("user", help="manage local accounts",
                          description="Create and list local accounts.")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = user_sub.add_parser(
        "create", help="create an account (bypasses the registration mode)",
        description="Create an active account with its Person actor and keys.",
    )
    create.add_argument("username")
    create.add_argument("--email", required=True, help="never published or federated")
    create.add_argument("--password", help="at least 10 characters (asked for when omitted)")
    create.add_argument("--display-name", default=None, help="defaults to the username")
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
    create.set_defaults(handler=_user_create)

    listing = user_sub.add_parser("list", help="list accounts",
                                  description="List local accounts, oldest first.")
    listing.set_defaults(handler=_user_list)

    group = sub.add_parser("group", help="manage topic groups",
                           description="Create and list topic groups.")
    group_sub = group.add_subparsers(dest="group_command", metavar="ACTION", required=True)
    group_create = group_sub.add_parser(
        "create", help="create a topic group",
        description="Create a local topic group (an ActivityPub Group actor with its keys).",
    )
    group_create.add_argument("name", help="a-z, 0-9 and _, with . or - inside; used in "
                                           "@name@host")
    group_create.add_argument("--title", required=True, help="the title people see")
    group_create.add_argument("--summary", default="", help="a description (Markdown)")
    group_create.add_argument("--rules", default="", help="the group's rules (Markdown)")
    group_create.add_argument("--language", default="de", help="language tag (default de)")
    group_create.add_argument("--moderator", action="append", default=[],
                              help="username of a local moderator (repeatable)")
    group_create.add_argument("--restricted", action="store_true",
                              help="only moderators may start threads")
    group_create.set_defaults(handler=_group_create)
    group_list = group_sub.add_parser("list", help="list groups",
                                      description="List the topic groups known here.")
    group_list.set_defaults(handler=_group_list)

    token = sub.add_parser("token", help="manage API tokens",
                           description="Create API tokens for accounts.")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    token_create = token_sub.add_parser(
        "create", help="create an API token and print it",
        description="Print a new API token for the account; it is shown only once.",
    )
    token_create.add_argument("username")
    token_create.add_argument("--name", default="cli", help="a label for the token")
    token_create.set_defaults(handler=_token_create)


def _run(settings: Settings, work: Callable[[Context, Any], Awaitable[T]]) -> T:
    """Migrate, then run ``work(ctx, conn)`` with a small pool and a connection."""
    from fedi.core.runtime import database, migrate_database
    from storage import create_pool

    async def main(dsn: str) -> T:
        await migrate_database(dsn)
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            # Context wants a client; these commands never fetch anything.
            async with httpx.AsyncClient() as http:
                ctx = Context(settings=settings, pool=pool, http=http)
                async with pool.acquire() as conn:
                    return await work(ctx, conn)
        finally:
            await pool.close()

    with database(settings) as dsn:
        return asyncio.run(main(dsn))


def _fail(message: str) -> int:
    print(f"fedi: {message}", file=sys.stderr)
    return 1


def _ask_password() -> str:
    if not sys.stdin.isatty():
        # Piped in: `echo "$PASSWORD" | fedi user create ...` keeps it out of `ps`.
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise AppError("the passwords differ", field="password")
    return first


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    from fedi.forum import accounts as service

    try:
        password = args.password if args.password is not None else _ask_password()

        async def work(ctx: Context, conn: Any) -> service.Account:
            return await service.create_account(
                conn, ctx, username=args.username, email=args.email, password=password,
                display_name=args.display_name, role="admin" if args.admin else "user",
            )

        account = _run(settings, work)
    except AppError as exc:
        return _fail(exc.message)
    role = " (admin)" if account.is_admin else ""
    print(f"created @{account.username}@{settings.host}{role}")
    return 0


def _user_list(args: argparse.Namespace, settings: Settings) -> int:
    from storage import accounts as store

    async def work(ctx: Context, conn: Any) -> list[store.Account]:
        return await store.list_all(conn)

    accounts = _run(settings, work)
    if not accounts:
        print("no accounts yet: create one with `fedi user create`")
        return 0
    rows = [("USERNAME", "ROLE", "STATUS", "EMAIL", "CREATED")] + [
        (a.username, a.role, a.status, a.email, a.created_at.strftime("%Y-%m-%d %H:%M"))
        for a in accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
              + "  " + row[-1])
    return 0


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    from fedi.forum import accounts as service
    from storage import accounts as store

    async def work(ctx: Context, conn: Any) -> str | None:
        account = await store.by_username(conn, args.username.strip().lstrip("@"))
        if account is None:
            return None
        error = service.login_error(account)
        if error is not None:
            raise error
        return await service.issue_token(conn, account, args.name, "api")

    try:
        token = _run(settings, work)
    except AppError as exc:
        return _fail(exc.message)
    if token is None:
        return _fail(f"no account named {args.username!r}")
    print(token)
    return 0


def _group_create(args: argparse.Namespace, settings: Settings) -> int:
    from fedi.forum.groups import create_group
    from storage import actors as actor_store

    async def work(ctx: Context, conn: Any) -> Any:
        moderators = []
        for name in args.moderator:
            actor = await actor_store.local_by_name(conn, name.strip().lstrip("@"), "Person")
            if actor is None:
                raise AppError(f"no local user named {name!r}", field="moderator")
            moderators.append(actor)
        # The operator at the command line: no staff account, no modlog entry.
        return await create_group(
            ctx, None, name=args.name, title=args.title, summary=args.summary, rules=args.rules,
            language=args.language, posting_restricted_to_mods=args.restricted,
            moderators=moderators,
        )

    try:
        group = _run(settings, work)
    except AppError as exc:
        return _fail(exc.message)
    print(f"created group !{group.username}@{settings.host} ({group.ap_id})")
    return 0


def _group_list(args: argparse.Namespace, settings: Settings) -> int:
    from storage import groups as group_store

    async def work(ctx: Context, conn: Any) -> Any:
        groups = await group_store.list_groups(conn)
        return groups, await group_store.stats(conn, [g.id for g in groups])

    groups, stats = _run(settings, work)
    if not groups:
        print("no groups yet: create one with `fedi group create`")
        return 0
    for g in groups:
        threads = stats[g.id].thread_count if g.id in stats else 0
        print(f"{g.handle}  {g.name or ''}  ({threads} threads)")
    return 0
