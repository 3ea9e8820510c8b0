"""Flag: a report about actors or posts of ours, or posts in our groups, for our
moderators. Mastodon's shape (the instance actor, ``object`` = accounts and posts,
``content``) and Lemmy's (``to`` the group, one object, ``summary``)."""

from __future__ import annotations

from activitypub import vocab
from fedi.core.context import Context
from fedi.inbound.authority import REASON_MAX
from fedi.inbound.common import sender_of
from fedi.inbound.outcomes import Ignored
from storage import actors as actor_store
from storage import notification_events
from storage import posts as post_store
from storage import reports as report_store
from storage.actors import Actor
from storage.inbox import InboxActivity
from storage.posts import Post


async def handle_flag(ctx: Context, activity: vocab.Activity, row: InboxActivity | None) -> None:
    """A report about actors or posts of ours, or posts in our groups."""
    reporter = await sender_of(ctx, activity)
    reported_actor: Actor | None = None
    posts: list[Post] = []
    async with ctx.pool.acquire() as conn:
        for ref in activity.objects:
            ref_id = vocab.object_id(ref)
            if ref_id is None:
                continue
            post = await post_store.by_ap_id(conn, ref_id)
            if post is not None:
                posts.append(post)
                continue
            actor = await actor_store.by_ap_id(conn, ref_id)
            if actor is not None and reported_actor is None:
                reported_actor = actor
        groups = {p.group_id: await actor_store.get(conn, p.group_id)
                  for p in posts if p.group_id is not None}
        local_groups = {gid for gid, g in groups.items() if g is not None and g.local}
        ours = [p for p in posts if p.local or p.group_id in local_groups]
        if not ours and (reported_actor is None or not reported_actor.local):
            raise Ignored("the Flag names nothing of this instance")
        if reported_actor is None and ours:
            reported_actor = await actor_store.get(conn, ours[0].author_id)
        first_group = ours[0].group_id if ours else None
        group = groups.get(first_group) if first_group is not None else None
        reason = (activity.content or activity.summary or "")[:REASON_MAX]
        async with conn.transaction():
            report = await report_store.insert(
                conn, remote=True, reporter_id=reporter.id,
                target_actor_id=reported_actor.id if reported_actor else None,
                post_ids=[p.id for p in ours] or [p.id for p in posts],
                group_id=group.id if group is not None and group.local else None,
                reason=reason, ap_id=activity.id)
            if report is not None:  # the moderators hear of it (fedi/forum/notify_queue.py)
                await notification_events.enqueue_event(conn, "report",
                                                        {"report_id": report.id})
    if report is None:
        raise Ignored(f"the report {activity.id} is known already")
