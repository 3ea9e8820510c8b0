"""The notification pages in German: the bell's count in the header, the notifications
page with its sentences, mark one / all read, the thread page marking read and linking
to the first unread post, watch and mute forms, "n neu" on the group page and the
start page, all without script."""

from __future__ import annotations

import httpx

from fedi.core.context import Context
from fedi.core.queue import Worker
from fedi.forum import posts as post_service
from fedi.forum.notify_queue import NotificationQueue
from fedi.forum.staff import Staff
from fedi.forum.threads import remove_post
from tests.support.helpers import make_group, make_user
from tests.web.conftest import log_in, post_form

DE = {"Accept-Language": "de"}


async def notify(ctx: Context) -> None:
    await Worker(ctx.pool, [NotificationQueue(ctx)], concurrency=2).run_once()


async def test_bell_page_and_reading(app_client: httpx.AsyncClient, ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    carl = await make_user(ctx, "carl")
    mod = await make_user(ctx, "mod")
    group = await make_group(ctx, moderators=[mod.actor])
    thread = await post_service.create_thread(ctx, author=anna.actor, group=group,
                                              title="Glasfaser <bald>?", content="Wann?")
    first = await post_service.create_reply(ctx, author=ben.actor, parent=thread,
                                            content="Im Mai")
    second = await post_service.create_reply(ctx, author=carl.actor, parent=thread,
                                             content="Werbung!")
    for fan in (ben, carl):
        await post_service.like_post(ctx, actor=fan.actor, post=thread)
    await notify(ctx)
    await remove_post(ctx, Staff(mod.account, mod.actor), second.id, reason="Spam-Link")
    await notify(ctx)

    app_client.headers.update(DE)
    await log_in(app_client, "anna")
    page = (await app_client.get("/")).text
    assert 'aria-label="Benachrichtigungen, 3 ungelesen"' in page
    assert '<span class="badge" aria-hidden="true">3</span>' in page
    # The group list counts the threads with posts new to her.
    await log_in(app_client, "carl")
    assert "1 Thema mit neuen Beiträgen" in (await app_client.get("/")).text
    carl_page = (await app_client.get("/notifications")).text
    assert "Die Moderation hat Ihren Beitrag in „Glasfaser &lt;bald&gt;?“ entfernt." \
        in carl_page
    assert "Begründung: Spam-Link" in carl_page

    await log_in(app_client, "anna")
    r = await app_client.get("/notifications")
    assert r.status_code == 200
    html = r.text
    assert "<h1>Benachrichtigungen</h1>" in html
    assert "3 ungelesene Benachrichtigungen" in html
    assert "2 Personen gefällt Ihr Beitrag in „Glasfaser &lt;bald&gt;?“." in html
    assert "Ben hat Ihnen in „Glasfaser &lt;bald&gt;?“ geantwortet." in html
    assert f'href="/posts/{thread.id}#post-{first.id}"' in html
    assert "Ungelesen" in html  # unread is said in words, not by colour alone

    # The group page says "n neu" for her (the replies by others), then she reads it.
    group_page = (await app_client.get("/groups/breitband")).text
    assert "1 neu" in group_page  # the removed reply is not news
    thread_page = (await app_client.get(f"/posts/{thread.id}")).text
    assert f'href="#post-{first.id}">Erster ungelesener Beitrag' in thread_page
    assert "Sie beobachten dieses Thema" in thread_page
    assert "1 neu" not in (await app_client.get("/groups/breitband")).text
    # Reading the thread read its notices (replies, likes): the bell has no count.
    assert "Benachrichtigungen, " not in (await app_client.get("/")).text
    assert "Erster ungelesener Beitrag" not in (
        await app_client.get(f"/posts/{thread.id}")).text

    # New notices: mark them all read from the page.
    await post_service.create_reply(ctx, author=ben.actor, parent=thread, content="Juni?")
    await notify(ctx)
    assert 'aria-label="Benachrichtigungen, 1 ungelesen"' in (await app_client.get("/")).text
    r = await post_form(app_client, "/notifications", "/notifications/read", {"all": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/notifications"
    html = (await app_client.get("/notifications")).text
    assert "0 ungelesene Benachrichtigungen" in html and "Als gelesen markiert." in html
    assert "Benachrichtigungen, " not in (await app_client.get("/")).text

    # Mute the thread from its page, then watch it again.
    r = await post_form(app_client, f"/posts/{thread.id}", f"/posts/{thread.id}/watch",
                        {"level": "muted"})
    assert r.status_code == 303
    assert "Sie haben dieses Thema stummgeschaltet" in (
        await app_client.get(f"/posts/{thread.id}")).text
    r = await post_form(app_client, f"/posts/{thread.id}", f"/posts/{thread.id}/watch",
                        {"level": "loud"})
    assert r.status_code == 422

    # Mute a followed group from its page.
    await post_form(app_client, "/groups/breitband", "/follow",
                    {"group": "breitband", "action": "follow"})
    r = await post_form(app_client, "/groups/breitband", "/notifications/group-mute",
                        {"group": "breitband", "action": "mute"})
    assert r.status_code == 303
    assert "Wieder über neue Themen benachrichtigen" in (
        await app_client.get("/groups/breitband")).text


async def test_the_page_needs_a_log_in(app_client: httpx.AsyncClient) -> None:
    r = await app_client.get("/notifications")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
