"""Who acts in moderation, with which role, and the record of it: what every moderator's
and admin's service shares.

Roles: instance admins may do everything; a group's moderators act within their (local)
groups; everyone else gets 403. Each service (fedi/forum/threads.py, bans.py, reports.py,
groups.py, domains.py, accounts_admin.py) checks the role with the gates here, writes its
rows, the modlog entry (:func:`log`) and queues the federated activities
(fedi/federation/moderation_out.py) in one transaction. This module also holds the checks
of what moderators type (:func:`check_reason`) and the lookup of the actor they name
(:func:`find_actor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from activitypub.errors import FetchStatusError, ProtocolError, UnsafeAddress, WebFingerError
from fedi.core.context import Context
from fedi.core.errors import BadGateway, Forbidden, NotFound, ValidationFailed
from fedi.federation import remote
from storage import actors as actor_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage import modlog as modlog_store
from storage import posts as post_store
from storage.accounts import Account
from storage.actors import Actor
from storage.posts import Post

REASON_MAX = 2000


@dataclass(frozen=True)
class Staff:
    """The account acting, with its actor (who appears in the modlog)."""

    account: Account
    actor: Actor

    @property
    def is_admin(self) -> bool:
        return self.account.is_admin


async def staff_of(ctx: Context, account: Account) -> Staff:
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None
    return Staff(account, actor)


# --- roles --------------------------------------------------------------------------------

def require_admin(staff: Staff) -> None:
    if not staff.is_admin:
        raise Forbidden("Only administrators may do this.")


async def require_moderator(conn: Any, staff: Staff, group: Actor | None) -> None:
    """Admins, and the moderators of ``group`` when it is one of ours."""
    if staff.is_admin:
        return
    if group is not None and group.local and await group_store.is_moderator(
            conn, group.id, staff.actor.id):
        return
    if group is None:
        raise Forbidden("Only administrators may do this.")
    raise Forbidden(f"Only moderators of {group.handle} (or administrators) may do this.",
                    code="not_moderator")


async def may_moderate_something(conn: Any, staff: Staff) -> list[int] | None:
    """The groups whose reports and bans ``staff`` sees (None: all, an admin);
    403 for someone who moderates nothing."""
    if staff.is_admin:
        return None
    groups = await moderation_store.moderated_group_ids(conn, staff.actor.id)
    if not groups:
        raise Forbidden("Only moderators and administrators may do this.")
    return groups


# --- modlog -------------------------------------------------------------------------------

async def log(conn: Any, action: str, *, staff: Staff | None, group: Actor | None = None,
              target: Actor | None = None, post: Post | None = None,
              domain: str | None = None, reason: str = "", public: bool = True,
              details: dict[str, Any] | None = None,
              activity: dict[str, Any] | None = None) -> None:
    """One modlog entry (``staff`` None: the instance itself, e.g. a ban that expired)."""
    await modlog_store.insert(
        conn, action=action, public=public, group_id=group.id if group else None,
        moderator_id=staff.actor.id if staff else None,
        target_actor_id=target.id if target else None,
        target_post_id=post.id if post else None, target_domain=domain, reason=reason,
        details=details, ap_id=activity.get("id") if activity else None,
    )


def check_reason(value: Any, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise ValidationFailed("reason is required", field="reason")
        return ""
    if not isinstance(value, str):
        raise ValidationFailed("reason must be text", field="reason")
    if "\x00" in value:
        raise ValidationFailed("reason must not contain NUL characters", field="reason")
    if len(value) > REASON_MAX:
        raise ValidationFailed(f"reason must be at most {REASON_MAX} characters",
                               field="reason")
    if required and not value.strip():
        raise ValidationFailed("reason must not be empty", field="reason")
    return value.strip()


# --- what moderators act on ---------------------------------------------------------------

async def find_actor(ctx: Context, ref: str, *, field: str = "actor") -> Actor:
    """A local or remote actor by ``name@host`` (``name`` for a local one) or actor URL;
    an unknown remote one is looked up."""
    value = ref.strip().lstrip("@!")
    own = ctx.settings.host.lower()
    if not value or "\x00" in value:
        raise ValidationFailed(f"{field} must be a handle name@host or an actor URL",
                               field=field)
    try:
        if value.startswith(("https://", "http://")):
            if urlsplit(value).netloc.lower() == own:
                async with ctx.pool.acquire() as conn:
                    actor = await actor_store.by_ap_id(conn, value)
            else:
                actor = await remote.resolve_actor(ctx, value)
        else:
            name, _, host = value.partition("@")
            host = host.lower() or own
            if host == own:
                async with ctx.pool.acquire() as conn:
                    actor = await actor_store.by_handle(conn, name, host)
            else:
                actor = await remote.resolve_handle(ctx, f"{name}@{host}")
    except (WebFingerError, FetchStatusError) as exc:
        if isinstance(exc, FetchStatusError) and exc.status not in (404, 410):
            raise BadGateway(f"could not look up {ref}: {exc.reason}") from None
        raise NotFound(f"no actor {ref} was found", code="actor_not_found") from None
    except UnsafeAddress as exc:
        raise ValidationFailed(f"{ref} is on a host we do not contact: {exc.reason}",
                               field=field) from None
    except ProtocolError as exc:
        raise BadGateway(f"could not look up {ref}: {exc.reason}") from None
    if actor is None or actor.deleted_at is not None:
        raise NotFound(f"no actor {ref} is known here", code="actor_not_found")
    return actor


async def post_in_group(conn: Any, post_id: int) -> tuple[Post, Actor | None]:
    """A post and its group (None for a post outside groups); 404 for an unknown id."""
    post = await post_store.get(conn, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    group = await actor_store.get(conn, post.group_id) if post.group_id else None
    return post, group
