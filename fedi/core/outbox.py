"""Enqueueing outgoing activities: the one way domain services send to other servers.

A service calls :func:`enqueue_activity` inside its own transaction, so the activity,
its delivery rows and the service's own writes commit (or vanish) together; the NOTIFY
that wakes the workers is delivered by PostgreSQL at that commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from activitypub.proofs import sign_document
from fedi.core.context import Context
from fedi.core.urls import Urls
from storage import activities as activity_store
from storage import actors as actor_store
from storage import deliveries as delivery_store
from storage import moderation as moderation_store
from storage.actors import Actor

log = logging.getLogger("fedi.core.outbox")


def new_activity_id(ctx: Context) -> str:
    """A fresh id for an outgoing activity: ``{base}/activities/{uuid4 hex}``."""
    return Urls(ctx.settings.base_url).activity(uuid.uuid4().hex)


def inbox_domain(inbox_url: str) -> str | None:
    """The host (with port) a delivery goes to, as actor domains are written; None for
    a URL that cannot be delivered to."""
    parts = urlsplit(inbox_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.netloc.rpartition("@")[2].lower()


def delivery_targets(ctx: Context, inboxes: Iterable[str]) -> list[tuple[str, str]]:
    """Distinct remote inboxes as ``(inbox_url, domain)``, in the order given.

    Inboxes on our own host are left out (the caller handles local recipients in
    process), and so are URLs nobody could deliver to (logged: they come from remote
    actor documents, and one bad follower must not stop a post).
    """
    own = ctx.settings.host.lower()
    seen: set[str] = set()
    targets: list[tuple[str, str]] = []
    for inbox in inboxes:
        if inbox in seen:
            continue
        seen.add(inbox)
        domain = inbox_domain(inbox)
        if domain is None:
            log.warning("not delivering to %r: not an http(s) URL", inbox)
            continue
        if domain == own:
            continue
        targets.append((inbox, domain))
    return targets


async def _one_per_host(conn: Any, targets: list[tuple[str, str]]
                        ) -> list[tuple[str, str]]:
    """One delivery per host where a host has several of the inboxes: a personal inbox
    whose actor names a shared inbox is replaced by it (a moderator's Delete to the
    author's inbox and to the followers' shared inbox of the same server arrives once).
    Hosts with a single inbox cost no query."""
    per_host: dict[str, int] = {}
    for _, domain in targets:
        per_host[domain] = per_host.get(domain, 0) + 1
    crowded = [inbox for inbox, domain in targets if per_host[domain] > 1]
    if not crowded:
        return targets
    shared = await delivery_store.shared_inboxes_of(conn, crowded)
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for inbox, domain in targets:
        url = shared.get(inbox, inbox) if per_host[domain] > 1 else inbox
        if inbox_domain(url) != domain:
            url = inbox  # a "shared" inbox on another host: keep the personal one
        if url not in seen:
            seen.add(url)
            result.append((url, domain))
    return result


async def add_proof(conn: Any, actor: Actor, activity: dict[str, Any]) -> None:
    """Sign ``activity`` in place with the local actor's Ed25519 key: an FEP-8b32
    ``eddsa-jcs-2022`` proof whose ``verificationMethod`` is the ``assertionMethod`` key
    of the actor document, and the data-integrity context in ``@context``. The stored
    activity (served at its id) and every delivery of it carry the same proof; an
    actor without an Ed25519 key sends no proof."""
    keys = await actor_store.keys_for(conn, actor.id)
    if keys is None or not keys.ed25519_private_pem:
        return
    try:
        signed = sign_document(activity, keys.ed25519_private_pem, f"{actor.ap_id}#ed25519-key")
    except ValueError as exc:  # a value JCS cannot write (an integer beyond 2**53, ...)
        log.warning("%s goes without an integrity proof: %s", activity.get("id"), exc)
        return
    activity.update(signed)


async def enqueue_activity(
    conn: Any,
    ctx: Context,
    *,
    actor: Actor,
    activity: dict[str, Any],
    inboxes: Iterable[str],
    post_id: int | None = None,
    public: bool = True,
) -> int:
    """Store ``activity`` (sent by the local ``actor``) and queue one delivery per
    distinct remote inbox (one per host where a shared inbox covers several), in the
    caller's transaction. Returns the activity's row id.

    ``activity["id"]`` must be set (see :func:`new_activity_id`); reusing an id raises
    asyncpg.UniqueViolationError. ``activity`` gets its integrity proof in place
    (:func:`add_proof`), so a caller that embeds it afterwards embeds it signed.
    """
    if not actor.local:
        raise ValueError(f"{actor.ap_id} is not a local actor: we cannot sign for it")
    ap_id = activity.get("id")
    type_ = activity.get("type")
    if not isinstance(ap_id, str) or not isinstance(type_, str):
        raise ValueError("an outgoing activity needs a string 'id' and 'type'")
    obj = activity.get("object")
    object_ap_id = obj if isinstance(obj, str) else obj.get("id") if isinstance(obj, dict) else None
    await add_proof(conn, actor, activity)
    async with conn.transaction():  # a savepoint inside the caller's transaction
        stored = await activity_store.insert(
            conn, ap_id=ap_id, actor_id=actor.id, type_=type_,
            object_ap_id=object_ap_id if isinstance(object_ap_id, str) else None,
            payload=activity, post_id=post_id, public=public,
        )
        targets = await _one_per_host(conn, delivery_targets(ctx, inboxes))
        # Blocked domains (and, in allowlist mode, unlisted ones) get nothing.
        refused = await moderation_store.refused_domains(conn, {d for _, d in targets})
        targets = [t for t in targets if t[1] not in refused]
        await delivery_store.insert_many(conn, stored.id, targets)  # wakes the workers
    return stored.id
