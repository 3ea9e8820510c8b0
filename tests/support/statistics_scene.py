"""A forum with known counts for the statistics tests (tests/forum/test_statistics.py,
tests/web/test_statistics_pages.py): accounts active in different ways, two groups with
threads, replies, a solved question, events and followers from other servers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fedi.core.context import Context
from fedi.forum import answers as answer_service
from fedi.forum import events as event_service
from fedi.forum import posts as post_service
from storage import actors as actor_store
from storage import follows as follow_store
from tests.support.helpers import User, make_group, make_user


@dataclass
class Scene:
    ctx: Context
    users: dict[str, User]
    # What fedi.forum.statistics must report, worked out by hand from what was created.
    expected_groups: dict[str, dict[str, int]]
    expected_totals: dict[str, int]
    accounts: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def _backdate_tokens(ctx: Context, user: User, days: int) -> None:
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "UPDATE api_tokens SET created_at = now() - make_interval(days => $2),"
            " last_used_at = NULL WHERE account_id = $1", user.account.id, days)


async def _remote(ctx: Context, name: str) -> int:
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.upsert_remote(conn, f"https://social.example/users/{name}", {
            "type": "Person", "username": name, "domain": "social.example",
            "inbox": f"https://social.example/users/{name}/inbox"})
    return actor.id


async def build_scene(ctx: Context) -> Scene:
    anna = await make_user(ctx, "anna")      # moderator, writes: active
    bert = await make_user(ctx, "bert")      # writes: active
    carla = await make_user(ctx, "carla")    # nothing for 200 days: not active
    erik = await make_user(ctx, "erik")      # logged in 100 days ago: half a year only
    frieda = await make_user(ctx, "frieda")  # only liked a post: active
    dora = await make_user(ctx, "dora")      # suspended: not an account that counts
    await _backdate_tokens(ctx, carla, 200)
    await _backdate_tokens(ctx, erik, 100)
    await _backdate_tokens(ctx, frieda, 200)
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE accounts SET status = 'suspended' WHERE id = $1",
                           dora.account.id)

    breitband = await make_group(ctx, "breitband", moderators=[anna.actor])
    schule = await make_group(ctx, "schule", title="Schulen", moderators=[anna.actor])

    # breitband: a solved question (2 replies), an open question, a discussion (1 reply),
    # a removed thread (not counted).
    solved = await post_service.create_thread(ctx, author=bert.actor, group=breitband,
                                              title="Wann kommt Glasfaser?",
                                              content="Weiß das jemand?", kind="question")
    answer = await post_service.create_reply(ctx, author=anna.actor, parent=solved,
                                             content="Im Frühjahr.")
    await post_service.create_reply(ctx, author=bert.actor, parent=answer, content="Danke!")
    await answer_service.accept(ctx, actor=bert.actor, reply_id=answer.id)
    await post_service.create_thread(ctx, author=bert.actor, group=breitband,
                                     title="Wer verlegt die Leitungen?", content="Welche Firma?",
                                     kind="question")
    talk = await post_service.create_thread(ctx, author=anna.actor, group=breitband,
                                            title="Baustellen im Ort", content="Hier sammeln.",
                                            kind="discussion")
    await post_service.create_reply(ctx, author=bert.actor, parent=talk, content="Hauptstraße")
    removed = await post_service.create_thread(ctx, author=bert.actor, group=breitband,
                                               title="Werbung", content="Kaufen Sie!",
                                               kind="discussion")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET removed_at = now(), removed_reason = 'Spam'"
                           " WHERE id = $1", removed.id)
    await post_service.like_post(ctx, actor=frieda.actor, post=talk)

    # schule: one discussion without replies; an upcoming and a past event (each event
    # opens its own thread, of the group's default kind: a question).
    await post_service.create_thread(ctx, author=bert.actor, group=schule,
                                     title="Neue Turnhalle", content="Was ist geplant?",
                                     kind="discussion")
    soon = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    await event_service.create_event(ctx, organiser=anna.actor, group=schule,
                                     data={"title": "Elternabend", "starts_at": soon})
    past = await event_service.create_event(ctx, organiser=anna.actor, group=schule,
                                            data={"title": "Schulfest", "starts_at": soon})
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE events SET starts_at = now() - interval '10 days',"
                           " ends_at = now() - interval '9 days' WHERE id = $1", past.id)

    # Followers: eve follows both groups, fritz breitband, gus asked schule (pending);
    # anna (local) follows breitband and is no follower from another server.
    eve, fritz, gus = [await _remote(ctx, name) for name in ("eve", "fritz", "gus")]
    async with ctx.pool.acquire() as conn:
        for follower, target, state in ((eve, breitband.id, "accepted"),
                                        (eve, schule.id, "accepted"),
                                        (fritz, breitband.id, "accepted"),
                                        (gus, schule.id, "pending"),
                                        (anna.actor.id, breitband.id, "accepted")):
            await follow_store.upsert(conn, follower_id=follower, target_id=target,
                                      ap_id=None, state=state)

    groups = {
        "breitband": {"threads": 3, "replies": 3, "questions": 2, "questions_solved": 1,
                      "events_upcoming": 0, "events_past": 0, "remote_followers": 2},
        "schule": {"threads": 3, "replies": 0, "questions": 2, "questions_solved": 0,
                   "events_upcoming": 1, "events_past": 1, "remote_followers": 1},
    }
    totals = {name: sum(g[name] for g in groups.values()) for name in groups["schule"]}
    totals["remote_followers"] = 2  # eve once, fritz
    users = {"anna": anna, "bert": bert, "carla": carla, "erik": erik, "frieda": frieda,
             "dora": dora}
    # Visible local posts: 6 threads (3 + the schule thread + 2 event threads) and 3 replies.
    return Scene(ctx, users, groups, totals, accounts=5, active_month=3, active_halfyear=4,
                 local_posts=9)
