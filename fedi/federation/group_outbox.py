"""A local group's outbox: every visible thread of the group from its first day, newest
first (FEDERATION.md, "Collections").

The rule, one item per thread:

* the group's own ``Announce`` that embeds the thread's ``Create`` (what its forum
  followers received), when the group sent one;
* otherwise (a thread written before the group had any follower) an ``Announce`` built
  from the thread with the stable id ``https://HOST/posts/ID/announce``, fetchable there:
  its object is the author's ``Create`` as stored (a local author; fetchable at its own
  id), or the thread's id (a remote author's thread: receivers fetch it from its origin).

Likes and their Undo, edits and deletions are not listed; replies are reached through each
thread's context collection (``/posts/ID/context``, FEP-f228).
"""

from __future__ import annotations

from typing import Any

from fedi.core.times import iso
from fedi.core.urls import Urls
from fedi.federation.documents import PUBLIC, activity, strip_context
from storage.activities import OutboxThread
from storage.actors import Actor

__all__ = ["outbox_item", "thread_announce", "thread_announce_id"]


def thread_announce_id(urls: Urls, post_id: int) -> str:
    """The stable id of the Announce built for a thread the group never announced."""
    return f"{urls.post(post_id)}/announce"


def thread_announce(urls: Urls, group: Actor, thread: OutboxThread) -> dict[str, Any]:
    """The group's Announce of ``thread``, built from the thread (no stored one used)."""
    create = thread.create
    if create is None and thread.announce is not None:
        # storage reads the Create only for threads without the group's Announce
        embedded = thread.announce.get("object")
        create = embedded if isinstance(embedded, dict) else None
    obj: Any = strip_context(create) if create is not None else thread.ap_id
    return activity(thread_announce_id(urls, thread.post_id), "Announce", group, obj,
                    to=[PUBLIC], cc=[group.followers_url or group.ap_id],
                    audience=group.ap_id, published=iso(thread.published))


def outbox_item(urls: Urls, group: Actor, thread: OutboxThread) -> dict[str, Any]:
    """The outbox item of ``thread``: the group's stored Announce(Create), else the built
    one."""
    if thread.announce is not None:
        item: dict[str, Any] = strip_context(thread.announce)
        return item
    return thread_announce(urls, group, thread)
