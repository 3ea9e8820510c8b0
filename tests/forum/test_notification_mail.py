"""Notification e-mail (issue 14): preferences, grouped immediate mails, read and ``off``
notices not mailed, digests once per period, signed one-click unsubscribe tokens. Real
PostgreSQL, the real queues and a real SMTP server on loopback; notices are inserted as
the notification worker stores them, then its hook is called in the same transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from fedi.core.context import Context
from fedi.core.errors import NotFound, ValidationFailed
from fedi.core.mail_send import MailQueue
from fedi.core.queue import Worker
from fedi.forum import notification_mail as service
from fedi.forum.digests import current_period, send_digests
from fedi.forum.notification_mail_queue import NotificationMailQueue
from fedi.forum.posts import create_reply, create_thread
from storage import notification_mail as store
from storage.posts import Post
from tests.conftest import free_port, make_settings
from tests.support.helpers import User, make_group, make_user
from tests.support.smtp import Received, SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def ctx(pool: asyncpg.Pool, smtp: SmtpServer) -> AsyncIterator[Context]:
    from fedi.core.config import parse_smtp_url

    async with httpx.AsyncClient() as http:
        yield Context(make_settings(free_port(), smtp=parse_smtp_url(smtp.url),
                                    notify_mail_delay=0), pool, http)


@pytest.fixture
async def scene(ctx: Context) -> dict[str, Any]:
    """Anna asks in a group; Ben answers (three times)."""
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    group = await make_group(ctx)
    thread = await create_thread(ctx, author=anna.actor, group=group,
                                 title="Wann kommt Glasfaser?", content="Weiß es jemand?")
    replies = [await create_reply(ctx, author=ben.actor, parent=thread,
                                  content=f"Antwort {n}") for n in range(3)]
    return {"anna": anna, "ben": ben, "group": group, "thread": thread, "replies": replies}


async def notify(ctx: Context, user: User, type_: str, post: Post | None, actor: User,
                 *, key: str, read: bool = False, **data: Any) -> int:
    """Store one notice as the notification worker does and call the mail hook."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        notice_id: int = await conn.fetchval(
            "INSERT INTO notifications (account_id, type, actor_id, post_id, thread_id,"
            " group_id, data, dedupe_key, read_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN now() END)"
            " RETURNING id", user.account.id, type_, actor.actor.id,
            post.id if post else None, (post.thread_id or post.id) if post else None,
            post.group_id if post else None, data, key, read)
        await service.notifications_created(conn, ctx, [notice_id])
    return notice_id


async def run_queues(ctx: Context) -> None:
    """The mail jobs, then the mails they queued."""
    for queue in (NotificationMailQueue(ctx), MailQueue(ctx)):
        await Worker(ctx.pool, [queue], concurrency=4).run_once()


async def set_modes(ctx: Context, user: User, modes: dict[str, str]) -> None:
    async with ctx.pool.acquire() as conn:
        await service.update_preferences(conn, user.account.id, modes=modes)


def to(smtp: SmtpServer, user: User) -> list[Received]:
    return [m for m in smtp.inbox if m.recipients == [user.account.email]]


# --- preferences ------------------------------------------------------------------------

async def test_new_accounts_get_the_daily_digest_and_reports_at_once(ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    async with ctx.pool.acquire() as conn:
        prefs = await service.preferences(conn, anna.account.id)
        assert prefs.timezone == "Europe/Berlin"
        view = prefs.view()
        assert view["default"] == "daily" and view["reply"] == "daily"
        assert view["report"] == "immediate" and view["signup"] == "immediate"
        changed = await service.update_preferences(
            conn, anna.account.id, modes={"default": "weekly", "like": "off"},
            timezone="America/New_York")
        assert changed.mode("reply") == "weekly" and changed.mode("like") == "off"
        assert changed.mode("report") == "immediate"
        # Merged: a type set to null follows the default again.
        again = await service.update_preferences(conn, anna.account.id, modes={"like": None})
        assert again.mode("like") == "weekly" and again.timezone == "America/New_York"
        everything_off = await service.update_preferences(conn, anna.account.id,
                                                          modes={"default": "off"})
        assert everything_off.mode("report") == "off"


@pytest.mark.parametrize(("modes", "zone"), [
    ("daily", None), ({"reply": "sometimes"}, None), ({"poke": "off"}, None),
    ({"default": 1}, None), (None, "Mars/Olympus"), (None, "../../etc/passwd"), (None, 5),
])
async def test_bad_values_are_refused_and_change_nothing(ctx: Context, modes: Any,
                                                         zone: Any) -> None:
    anna = await make_user(ctx, "anna")
    async with ctx.pool.acquire() as conn:
        with pytest.raises(ValidationFailed) as refused:
            await service.update_preferences(conn, anna.account.id, modes=modes,
                                             timezone=zone)
        assert refused.value.field in ("email_notifications", "timezone")
        assert await store.get_settings(conn, anna.account.id) is None


# --- immediate mails --------------------------------------------------------------------

async def test_notices_of_the_same_minute_go_in_one_mail_with_one_click_unsubscribe(
        ctx: Context, smtp: SmtpServer, scene: dict[str, Any]) -> None:
    anna, ben, thread = scene["anna"], scene["ben"], scene["thread"]
    await set_modes(ctx, anna, {"default": "immediate"})
    for n, reply in enumerate(scene["replies"]):
        await notify(ctx, anna, "reply", reply, ben, key=f"reply:{n}")
    async with ctx.pool.acquire() as conn:
        assert len([j for j in await store.jobs(conn) if j.kind == "immediate"]) == 1
    await run_queues(ctx)
    (mail,) = await smtp.wait_for(1)
    assert mail.recipients == ["anna@example.org"]
    assert mail.text.count("Ben hat auf Ihren Beitrag in „Wann kommt Glasfaser?“ geantwortet.") == 3
    for reply in scene["replies"]:
        assert f"{ctx.settings.base_url}/posts/{thread.id}#post-{reply.id}" in mail.text
        assert f"/posts/{thread.id}#post-{reply.id}" in mail.html
    message = mail.message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith(f"{ctx.settings.base_url}/unsubscribe/")
    assert link in mail.text
    async with ctx.pool.acquire() as conn:
        assert [j for j in await store.jobs(conn) if j.kind == "immediate"] == []
        mailed = await conn.fetchval(
            "SELECT count(*) FROM notifications WHERE mailed_at IS NOT NULL")
        assert mailed == 3
    # Nothing is mailed twice.
    await run_queues(ctx)
    assert len(smtp.inbox) == 1


async def test_read_off_and_digest_notices_are_not_mailed_at_once(
        ctx: Context, smtp: SmtpServer, scene: dict[str, Any]) -> None:
    anna, ben, replies = scene["anna"], scene["ben"], scene["replies"]
    # Default (daily): a reply waits for the digest; no job at all.
    await notify(ctx, anna, "reply", replies[0], ben, key="a")
    async with ctx.pool.acquire() as conn:
        assert await store.jobs(conn) == [j for j in await store.jobs(conn)
                                          if j.kind == "digests"]
    await set_modes(ctx, anna, {"default": "immediate", "like": "off"})
    await notify(ctx, anna, "like", replies[1], ben, key="b")  # off
    await notify(ctx, anna, "mention", replies[1], ben, key="c", read=True)  # read already
    # Read after the job was scheduled, before it ran: not mailed either.
    read_later = await notify(ctx, anna, "reply", replies[2], ben, key="d")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE notifications SET read_at = now() WHERE id = $1",
                           read_later)
    await run_queues(ctx)
    # The first reply (daily when it came) is immediate now: the job lists it.
    (mail,) = await smtp.wait_for(1)
    assert f"#post-{replies[0].id}" in mail.text
    assert "gefällt" not in mail.text and "erwähnt" not in mail.text
    assert f"#post-{replies[2].id}" not in mail.text


async def test_everything_off_sends_nothing(ctx: Context, smtp: SmtpServer,
                                            scene: dict[str, Any]) -> None:
    anna, ben = scene["anna"], scene["ben"]
    await set_modes(ctx, anna, {"default": "off"})
    for n, type_ in enumerate(("reply", "mention", "report", "like")):
        await notify(ctx, anna, type_, scene["replies"][0], ben, key=str(n))
    await run_queues(ctx)
    assert await send_digests(ctx, now=datetime.now(UTC), ignore_morning=True) == 0
    await run_queues(ctx)
    assert smtp.inbox == []


# --- digests ------------------------------------------------------------------------------

def test_the_period_starts_at_seven_in_the_persons_time_zone() -> None:
    # 05:30 UTC is 06:30 in Berlin in winter: still yesterday's digest.
    early = datetime(2026, 12, 5, 5, 30, tzinfo=UTC)
    period = current_period("daily", early, "Europe/Berlin")
    assert period.key == "daily:2026-12-04"
    assert period.cutoff == datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    later = datetime(2026, 12, 5, 6, 5, tzinfo=UTC)
    assert current_period("daily", later, "Europe/Berlin").key == "daily:2026-12-05"
    # New York is six hours behind: its morning has not come.
    assert current_period("daily", later, "America/New_York").key == "daily:2026-12-04"
    # Saturday 5 December 2026 is in ISO week 49, whose Monday is 30 November.
    weekly = current_period("weekly", later, "Europe/Berlin")
    assert weekly.key == "weekly:2026-W49"
    assert weekly.cutoff == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    monday_early = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    assert current_period("weekly", monday_early, "Europe/Berlin").key == "weekly:2026-W48"
    now = current_period("daily", early, "Europe/Berlin", ignore_morning=True)
    assert now == type(now)("daily:2026-12-05", early)


async def test_a_digest_lists_the_waiting_notices_once(ctx: Context, smtp: SmtpServer,
                                                       scene: dict[str, Any]) -> None:
    anna, ben, replies = scene["anna"], scene["ben"], scene["replies"]
    await set_modes(ctx, ben, {"default": "weekly"})
    for n, reply in enumerate(replies[:2]):
        await notify(ctx, anna, "reply", reply, ben, key=f"r{n}")
    await notify(ctx, ben, "mention", replies[2], anna, key="m")
    # The morning rule: notices of today wait for tomorrow's (next week's) digest.
    assert await send_digests(ctx, now=datetime.now(UTC)) == 0
    assert await send_digests(ctx, now=datetime.now(UTC), ignore_morning=True) == 2
    assert await send_digests(ctx, now=datetime.now(UTC), ignore_morning=True) == 0
    # The next morning comes (the clock says so): nothing is left to send.
    assert await send_digests(ctx, now=datetime.now(UTC) + timedelta(days=1)) == 0
    await run_queues(ctx)
    await smtp.wait_for(2)
    (annas,) = to(smtp, anna)
    assert annas.message["Subject"].startswith("Ihre tägliche Zusammenfassung von Teststadt")
    assert annas.text.count("Ben hat auf Ihren Beitrag") == 2
    assert annas.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (bens,) = to(smtp, ben)
    assert "wöchentliche" in bens.message["Subject"]
    assert "Anna hat Sie in „Wann kommt Glasfaser?“ erwähnt." in bens.text
    async with ctx.pool.acquire() as conn:
        periods = await store.digests_of(conn, anna.account.id)
    assert [items for _, items in periods] == [2]
    assert periods[0][0].startswith("daily:")


# --- unsubscribe tokens -----------------------------------------------------------------------

async def test_a_signed_token_switches_off_and_a_forged_one_is_refused(
        ctx: Context) -> None:
    anna, ben = await make_user(ctx, "anna"), await make_user(ctx, "ben")
    async with ctx.pool.acquire() as conn:
        link = await service.unsubscribe_url(conn, ctx, anna.account.id)
        bens = await service.unsubscribe_url(conn, ctx, ben.account.id, "like")
    token = link.rsplit("/", 1)[1]
    account_id, scope, mac = token.split(".")
    forged = [f"{ben.account.id}.{scope}.{mac}",  # another account
              f"{account_id}.like.{mac}",  # another scope
              f"{account_id}.{scope}.{'A' * len(mac)}", "x", "", token + "A",
              f"{account_id}.nonsense.{mac}"]
    for bad in forged:
        with pytest.raises(NotFound):
            await service.unsubscribe(ctx, bad)
    async with ctx.pool.acquire() as conn:
        assert (await service.preferences(conn, anna.account.id)).mode("reply") == "daily"
    done = await service.unsubscribe(ctx, token)
    assert done.scope == "all" and done.account.id == anna.account.id
    await service.unsubscribe(ctx, token)  # twice: the same
    await service.unsubscribe(ctx, bens.rsplit("/", 1)[1])
    async with ctx.pool.acquire() as conn:
        annas = await service.preferences(conn, anna.account.id)
        assert {annas.mode(t) for t in service.TYPES} == {"off"}
        bens_prefs = await service.preferences(conn, ben.account.id)
        assert bens_prefs.mode("like") == "off" and bens_prefs.mode("reply") == "daily"


# --- templates ------------------------------------------------------------------------------

@pytest.mark.parametrize("template", ["notification", "digest"])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_names_from_other_servers_are_escaped_in_the_html_part(template: str,
                                                                lang: str) -> None:
    from fedi.core.mail import render_mail

    item = {"type": "reply", "actor": "Mallory <img src=x>", "title": "A & B\nSubject: x",
            "group": "", "count": 1, "action": "", "reason": "",
            "url": "http://127.0.0.1:8000/posts/1#post-2"}
    mail = render_mail(Context(make_settings(), None, None), template, lang,  # type: ignore[arg-type]
                       {"name": "Anna", "items": [item], "unsubscribe_url": "http://u/x",
                        "weekly": False, "period": "daily:x"})
    assert "Mallory &lt;img src=x&gt;" in mail.html and "<img" not in mail.html
    assert "A &amp; B" in mail.html
    assert "Mallory <img src=x>" in mail.text
    assert "\n" not in mail.subject


async def test_the_workers_scheduler_sends_the_digest_once_the_morning_has_come(
        ctx: Context, smtp: SmtpServer, scene: dict[str, Any]) -> None:
    anna, ben = scene["anna"], scene["ben"]
    await notify(ctx, anna, "reply", scene["replies"][0], ben, key="r")

    def queues(clock: Any) -> list[Any]:
        return [NotificationMailQueue(ctx, clock=clock, schedule_digests=True),
                MailQueue(ctx)]

    # Today: the notice came after this morning's start, it waits for tomorrow.
    assert await Worker(ctx.pool, queues(lambda: datetime.now(UTC)),
                        concurrency=2).run_once() == 1  # the scheduler's pass
    assert smtp.inbox == []
    # The day after tomorrow (the clock says so), the pass sends it; then it waits.
    later = datetime.now(UTC) + timedelta(days=2)
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE notification_mail_jobs SET next_attempt_at = now()")
    for _ in range(2):
        await Worker(ctx.pool, queues(lambda: later), concurrency=2).run_once()
    await run_queues(ctx)
    (digest,) = await smtp.wait_for(1)
    assert "tägliche Zusammenfassung" in digest.message["Subject"]
    async with ctx.pool.acquire() as conn:
        (scheduler,) = await store.jobs(conn)
    assert scheduler.kind == "digests" and scheduler.claimed_by is None
    assert scheduler.next_attempt_at == later + timedelta(minutes=5)


async def test_a_notice_arriving_while_the_job_runs_gets_its_own_mail(
        ctx: Context, smtp: SmtpServer, scene: dict[str, Any]) -> None:
    anna, ben, replies = scene["anna"], scene["ben"], scene["replies"]
    await set_modes(ctx, anna, {"default": "immediate"})
    await notify(ctx, anna, "reply", replies[0], ben, key="first")
    async with ctx.pool.acquire() as conn:
        (job,) = await store.jobs(conn)
        # The job has read its notices and mailed them when the next notice comes.
        assert await service.send_immediate(conn, ctx, anna.account.id) == 1
    await notify(ctx, anna, "reply", replies[1], ben, key="second")
    async with ctx.pool.acquire() as conn:
        # The job's own count is older: it stays queued instead of ending.
        assert not await store.finish_immediate(conn, job, again_at=datetime.now(UTC))
        (again,) = await store.jobs(conn)
        assert again.id == job.id and again.wanted == job.wanted + 1
    await run_queues(ctx)
    await smtp.wait_for(2)
    # Two mails, one per notice (the mail queue may send them in either order).
    first, second = (f"#post-{replies[0].id}", f"#post-{replies[1].id}")
    assert sorted((first in m.text, second in m.text) for m in smtp.inbox) == [
        (False, True), (True, False)]
    async with ctx.pool.acquire() as conn:
        assert await store.jobs(conn) == []
