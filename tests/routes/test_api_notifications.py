"""The notification API's answers match the OpenAPI document (strictly: no undocumented
field), every operation of fedi/routes/api_notifications_spec.py is exercised, and the
thread list carries ``unread`` for logged-in callers only."""

from __future__ import annotations

import httpx
import pytest

from fedi.core.context import Context
from fedi.core.queue import Worker
from fedi.forum.notify_queue import NotificationQueue
from fedi.routes import api_notifications_spec
from tests.routes.test_openapi import Api
from tests.support.helpers import make_group, make_user


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def test_notification_answers_match_the_document(app_client: httpx.AsyncClient,
                                                       ctx: Context) -> None:
    api = Api(app_client)
    mod, anna, ben = [await make_user(ctx, n) for n in ("mod", "anna", "ben")]
    await make_group(ctx, moderators=[mod.actor])
    thread = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                       json={"title": "Glasfaser?", "content": "Wann?"})
    answer = await api("POST", f"/api/v1/posts/{thread['id']}/replies", ben, status=201,
                       json={"content": "Bald"})
    await api("POST", f"/api/v1/posts/{answer['id']}/like", anna, status=200)
    # Before the removal: a post removed before the worker came to it tells nobody.
    await Worker(ctx.pool, [NotificationQueue(ctx)], concurrency=2).run_once()
    await api("POST", f"/api/v1/admin/posts/{answer['id']}/remove", mod, status=200,
              json={"reason": "Werbung"})
    await api("POST", "/api/v1/reports", ben, status=201,
              json={"post_id": thread["id"], "reason": "Spam"})
    await Worker(ctx.pool, [NotificationQueue(ctx)], concurrency=2).run_once()

    page = await api("GET", "/api/v1/notifications?limit=1", anna, status=200)
    assert page["unread"] == 1 and page["items"][0]["type"] == "reply"
    page = await api("GET", "/api/v1/notifications", ben, status=200)
    assert {i["type"] for i in page["items"]} == {"like", "moderation"}
    assert (await api("GET", "/api/v1/notifications", mod, status=200)
            )["items"][0]["type"] == "report"
    await api("GET", "/api/v1/notifications?cursor=x", anna, status=422)
    await api("GET", "/api/v1/notifications", status=401)
    await api("POST", "/api/v1/notifications/read", ben, status=200,
              json={"ids": [page["items"][0]["id"]]})
    await api("POST", "/api/v1/notifications/read", ben, status=200, json={"all": True})
    await api("POST", "/api/v1/notifications/read", ben, status=422, json={"ids": 3})
    await api("POST", "/api/v1/notifications/read", ben, status=400, content=b"nope")

    watch = f"/api/v1/posts/{thread['id']}/watch"
    await api("GET", watch, ben, status=200)
    await api("POST", watch, ben, status=200, json={"level": "muted"})
    await api("POST", watch, ben, status=422, json={"level": "loud"})
    await api("DELETE", watch, ben, status=200)
    await api("GET", "/api/v1/posts/999999/watch", ben, status=404)

    read = f"/api/v1/posts/{thread['id']}/read"
    await api("POST", read, ben, status=200)
    await api("POST", read, ben, status=200, json={"post_id": thread["id"]})
    await api("POST", read, ben, status=422, json={"post_id": 999999})
    await api("POST", "/api/v1/posts/999999/read", ben, status=404)

    mute = "/api/v1/groups/breitband/mute"
    await api("GET", mute, ben, status=200)
    await api("POST", mute, ben, status=200)
    await api("DELETE", mute, ben, status=200)
    await api("POST", "/api/v1/groups/nirgends/mute", ben, status=404)

    threads = await api("GET", "/api/v1/groups/breitband/threads", ben, status=200)
    assert threads["items"][0]["unread"] == 0
    threads = await api("GET", "/api/v1/groups/breitband/threads", mod, status=200)
    assert threads["items"][0]["unread"] == 1  # the thread; the removed answer is not news
    threads = await api("GET", "/api/v1/groups/breitband/threads", status=200)
    assert "unread" not in threads["items"][0]
    api.assert_covers(api_notifications_spec)
