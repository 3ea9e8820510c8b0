"""Account deletion (DSGVO Art. 17): by the person (with their password) or by an admin.

What happens, in order:

1. Unless the posts are kept, each of the account's posts is deleted as its author would
   delete it (a tombstone stays, a ``Delete`` goes out: fedi.forum.posts.delete_post).
2. In one transaction: a ``Delete`` of the actor is queued to every inbox that knows it
   (its followers', every inbox its activities went to, every server whose activities
   named it: storage.erasure.known_inboxes); the account row goes with everything that
   hangs on it (tokens, sessions, profile, mail tokens), and rows elsewhere carrying its
   address; the actor row is kept as a nameless tombstone (410 at its id; kept posts
   show "gelöschtes Konto"; the username cannot be taken again); an admin's deletion
   writes its modlog entry; an erasure job is queued.
3. The job (:class:`ErasureQueue`, run by the workers) drops the private keys once no
   delivery signed with them is left queued: until then they sign the Deletes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fedi.core.context import Context
from fedi.core.errors import Forbidden, NotFound, ValidationFailed
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.queue import LEASE
from fedi.federation.documents import activity
from fedi.forum import media as media_service
from fedi.forum.accounts import verify_password
from fedi.forum.posts import delete_post
from fedi.forum.staff import Staff, log, require_admin
from storage import accounts as account_store
from storage import actors as actor_store
from storage import erasure as store
from storage import posts as post_store
from storage.accounts import Account
from storage.actors import Actor
from storage.erasure import ErasureJob

__all__ = ["ErasureQueue", "admin_delete_account", "delete_own_account", "erase_account"]

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# How soon the erasure job looks again while Deletes signed with the key are still queued.
KEY_CHECK_SECONDS = 2.0
WRONG_PASSWORD = "The password is wrong: the account was not deleted."  # noqa: S105

class WrongPassword(Forbidden):
    code = "wrong_password"


def check_keep_posts(value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationFailed("keep_posts must be true or false", field="keep_posts")
    return value


async def delete_own_account(ctx: Context, account: Account, *, password: object,
                             keep_posts: bool) -> None:
    """The person deletes their account: their current password confirms it."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("password is required to delete the account", field="password")
    if not await verify_password(account, password):
        raise WrongPassword(WRONG_PASSWORD, field="password")
    await erase_account(ctx, account, keep_posts=keep_posts, staff=None)


async def admin_delete_account(ctx: Context, staff: Staff, username: str, *,
                               keep_posts: bool, reason: str) -> Account:
    """An administrator deletes a local account (not their own: that is DELETE /me)."""
    require_admin(staff)
    async with ctx.pool.acquire() as conn:
        account = await account_store.by_username(conn, username.strip().lstrip("@"))
    if account is None:
        raise NotFound(f"no account {username!r}")
    if account.id == staff.account.id:
        raise ValidationFailed("administrators delete their own account with DELETE "
                               "/api/v1/me, which asks for the password", field="username")
    await erase_account(ctx, account, keep_posts=keep_posts, staff=staff, reason=reason)
    return account


async def _delete_posts(ctx: Context, actor: Actor) -> int:
    """Each live post as its author would delete it (one transaction each, so a big
    account does not hold one long transaction); removed ones only lose their text."""
    async with ctx.pool.acquire() as conn:
        ids = await store.live_post_ids(conn, actor.id)
    for post_id in ids:
        async with ctx.pool.acquire() as conn:
            post = await post_store.get(conn, post_id)
            if post is not None and post.removed_at is not None:
                await post_store.mark_deleted(conn, post_id)
                continue
        if post is not None and post.deleted_at is None:
            await delete_post(ctx, actor=actor, post=post)
    return len(ids)


async def erase_account(ctx: Context, account: Account, *, keep_posts: bool,
                        staff: Staff | None, reason: str = "") -> None:
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None, "every account has its actor (ON DELETE CASCADE)"
    if not keep_posts:
        await _delete_posts(ctx, actor)
    async with ctx.pool.acquire() as conn, conn.transaction():
        inboxes = await store.known_inboxes(conn, actor.id)
        delete = activity(new_activity_id(ctx), "Delete", actor, actor.ap_id,
                          to=[PUBLIC], cc=[])
        await enqueue_activity(conn, ctx, actor=actor, activity=delete, inboxes=inboxes)
        if staff is not None:
            # For the admins only (like sign-up decisions): a public entry would go on
            # naming the person who asked to be forgotten.
            await log(conn, "account_delete", staff=staff, target=actor, reason=reason,
                      public=False, details={"keep_posts": keep_posts})
        await store.wipe_account(conn, account_id=account.id, actor_id=actor.id,
                                 email=account.email)
        await store.enqueue(conn, actor.id)
    # The uploads nothing else shows any more go at once (with keep_posts, the kept posts'
    # files stay); issue 19.
    await media_service.erase_owner(ctx, actor.id)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ErasureQueue:
    """The :class:`fedi.core.queue.LeasedQueue` over ``account_erasures``: drop an erased
    actor's private keys once nothing signed with them is left to deliver."""

    table = store.TABLE

    def __init__(self, ctx: Context, *, clock: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or _utc_now
        self.lease = LEASE

    async def claim(self, conn: object, worker: uuid.UUID, limit: int) -> list[ErasureJob]:
        return await store.claim(conn, worker=worker, now=self.clock(), limit=limit,
                                 lease=self.lease)

    async def process(self, job: ErasureJob, stopping: asyncio.Event) -> bool:
        if stopping.is_set():
            return False
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            pending = await store.deliveries_pending(conn, job.actor_id)
            if pending:
                await store.reschedule(
                    conn, job.id, at=self.clock() + timedelta(seconds=KEY_CHECK_SECONDS),
                    note=f"{pending} deliveries signed with the key are still queued")
                return True
            await store.drop_keys(conn, job.actor_id)
            await store.mark_done(conn, job.id)
        return True
