"""FEP-1b12 outbound: a local group relays its members' activities to its followers.

Which form each follower inbox gets depends on the software its host runs (NodeInfo,
cached in ``instances``), the rule PieFed uses and the one documented in FEDERATION.md:

* forum software (Lemmy, Mbin, PieFed, NodeBB, Discourse, Friendica, dEMiSA ...) gets
  ``Announce(<activity>)`` with the activity embedded, for every activity type;
* microblog software (Mastodon and its kin) gets ``Announce(<object id>)`` for a Create
  (Mastodon re-fetches the object and shows a boost); an Update or Delete goes to it
  directly from the author (Mastodon accepts edits only from the author); Likes are not
  relayed to it (Mastodon shows no group likes);
* a host whose software is unknown gets both forms, so nothing is lost.

What microblog followers are boosted is the group's setting (``groups.microblog_fanout``):
``threads`` (the default) only new threads and events, so that a Mastodon timeline is not
flooded with every comment (Lemmy #2224); ``everything`` every post, replies too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.federation.documents import PUBLIC, activity, strip_context
from storage import follows as follow_store
from storage import groups as group_store
from storage.actors import Actor

Form = Literal["embedded", "microblog", "unknown"]

MICROBLOG_SOFTWARE = frozenset({
    "mastodon", "glitch-soc", "hometown", "pleroma", "akkoma", "misskey", "sharkey",
    "firefish", "iceshrimp", "iceshrimp.net", "calckey", "foundkey", "catodon", "gotosocial",
    "takahe", "snac", "honk", "pixelfed", "bookwyrm", "mitra", "gnusocial", "hubzilla",
    "wordpress", "writefreely", "ktistec", "fedibird", "smithereen",
})


def form_for(software: str | None) -> Form:
    if not software:
        return "unknown"
    return "microblog" if software.lower() in MICROBLOG_SOFTWARE else "embedded"


async def follower_inboxes(conn: Any, group_id: int) -> dict[str, Form]:
    """Distinct delivery inboxes of the group's remote followers, with their form."""
    rows = await follow_store.remote_follower_inboxes(conn, group_id)
    return {r.inbox: form_for(r.software) for r in rows}


async def relay(
    conn: Any, ctx: Context, *, group: Actor, inner: dict[str, Any], author: Actor | None,
    object_id: str | None, post_id: int | None = None,
    skip_inboxes: Iterable[str] = (),
) -> list[str]:
    """Announce ``inner`` (an activity by a group member) to the group's followers.

    Returns the inboxes that should get ``inner`` itself from its author: microblog hosts,
    for an Update or Delete by a local ``author`` (the caller queues that delivery with
    the author's activity).
    """
    inboxes = await follower_inboxes(conn, group.id)
    for skip in skip_inboxes:
        inboxes.pop(skip, None)
    if not inboxes:
        return []
    inner_type = inner.get("type")
    embedded_targets = [i for i, f in inboxes.items() if f in ("embedded", "unknown")]
    microblog_targets = [i for i, f in inboxes.items() if f in ("microblog", "unknown")]
    followers = group.followers_url or ""

    if embedded_targets:
        announce = activity(
            new_activity_id(ctx), "Announce", group, strip_context(inner),
            to=[PUBLIC], cc=[followers], audience=group.ap_id,
        )
        await enqueue_activity(conn, ctx, actor=group, activity=announce,
                               inboxes=embedded_targets, post_id=post_id)

    if microblog_targets:
        if (inner_type == "Create" and object_id is not None
                and await _boosted(conn, group, inner)):
            boost = activity(
                new_activity_id(ctx), "Announce", group, object_id,
                to=[PUBLIC], cc=[followers], audience=group.ap_id,
            )
            await enqueue_activity(conn, ctx, actor=group, activity=boost,
                                   inboxes=microblog_targets, post_id=post_id)
        elif inner_type in ("Update", "Delete") and author is not None and author.local:
            # Mastodon accepts edits and deletions only from the author.
            return microblog_targets
    return []


def is_reply_create(inner: dict[str, Any]) -> bool:
    """A Create whose object answers another post (not a thread nor an event)."""
    obj = inner.get("object")
    return isinstance(obj, dict) and bool(obj.get("inReplyTo"))


async def _boosted(conn: Any, group: Actor, inner: dict[str, Any]) -> bool:
    """Whether the group's microblog followers get the Announce of this Create: threads
    and events always, replies when the group says ``everything``."""
    if not is_reply_create(inner):
        return True
    return await group_store.microblog_fanout(conn, group.id) == "everything"
