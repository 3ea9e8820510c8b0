"""Small builders for tests: accounts with tokens, groups, request headers."""

from __future__ import annotations

from dataclasses import dataclass

from fedi.core.context import Context
from fedi.forum.accounts import create_account, issue_token
from fedi.forum.groups import create_group
from storage import actors as actor_store
from storage.accounts import Account
from storage.actors import Actor


@dataclass
class User:
    account: Account
    actor: Actor
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(ctx: Context, username: str, *, admin: bool = False) -> User:
    async with ctx.pool.acquire() as conn:
        account = await create_account(
            conn, ctx, username=username, email=f"{username}@example.org",
            password="correct horse battery", display_name=username.title(),
            role="admin" if admin else "user",
        )
        token = await issue_token(conn, account, "test")
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None
    return User(account, actor, token)


async def make_group(ctx: Context, name: str = "breitband", *, title: str = "Breitbandausbau",
                     moderators: list[Actor] | None = None, **options: object) -> Actor:
    return await create_group(ctx, None, name=name, title=title,
                              summary="Fragen zum **Glasfaser**ausbau", moderators=moderators,
                              **options)  # type: ignore[arg-type]
