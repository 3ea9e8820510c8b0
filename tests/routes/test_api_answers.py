"""Questions that get solved (issue 15), through the JSON API: who may choose, change and
withdraw the accepted answer, thread kinds and states, the order of answers, moderators'
official answers, the modlog and the notification event, and the Update we queue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import threads
from fedi.forum.staff import Staff
from tests.support.helpers import User, make_group, make_user


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def _call(client: httpx.AsyncClient, method: str, path: str, user: User | None,
                status: int = 200, **kwargs: Any) -> Any:
    r = await client.request(method, path, headers=user.headers if user else {}, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def _thread(client: httpx.AsyncClient, user: User, title: str, **fields: Any) -> Any:
    return await _call(client, "POST", "/api/v1/groups/breitband/threads", user, 201,
                       json={"title": title, "content": "Wie geht das?", **fields})


async def _reply(client: httpx.AsyncClient, user: User, post_id: int, text: str) -> Any:
    return await _call(client, "POST", f"/api/v1/posts/{post_id}/replies", user, 201,
                       json={"content": text})


async def _fetchval(ctx: Context, sql: str, *args: Any) -> Any:
    async with ctx.pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def test_the_asker_and_moderators_choose_change_and_withdraw(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    carl = await make_user(ctx, "carl")
    mo = await make_user(ctx, "mo")
    await make_group(ctx, moderators=[mo.actor])
    thread = await _thread(app_client, anna, "Förderantrag Glasfaser?")
    assert (thread["kind"], thread["state"], thread["accepted_answer_id"]) == \
        ("question", "open", None)
    by_ben = await _reply(app_client, ben, thread["id"], "Über das Bundesprogramm.")
    by_carl = await _reply(app_client, carl, thread["id"], "Beim Land.")
    nested = await _reply(app_client, anna, by_ben["id"], "Danke, und wie lange?")
    accept_ben = f"/api/v1/posts/{by_ben['id']}/accept"

    # Nobody else: 401 anonymous, 403 with the policy's sentence for others.
    await _call(app_client, "POST", accept_ben, None, 401)
    refused = await _call(app_client, "POST", accept_ben, carl, 403)
    assert refused == {"error": "not_asker", "message": "Only the person who asked and the "
                       "moderators of the group may choose the accepted answer."}
    await _call(app_client, "DELETE", accept_ben, carl, 403)

    # The asker accepts; choosing it again changes nothing.
    for _ in range(2):
        answer = await _call(app_client, "POST", accept_ben, anna)
        assert answer == {"thread_id": thread["id"], "accepted_answer_id": by_ben["id"],
                          "state": "solved"}
    shown = await _call(app_client, "GET", f"/api/v1/posts/{thread['id']}", None)
    assert (shown["state"], shown["accepted_answer_id"]) == ("solved", by_ben["id"])
    # The asker's own choice is no moderation: no modlog entry; one notification event.
    assert await _fetchval(ctx, "SELECT count(*) FROM modlog") == 0
    events = await _fetchval(ctx, "SELECT array_agg(payload ORDER BY id) FROM"
                             " notification_events WHERE kind = 'accepted_answer'")
    assert events == [{"thread_id": thread["id"], "answer_id": by_ben["id"],
                       "actor_id": anna.actor.id}]
    # The thread's Update names the accepted answer and says so in its content.
    update = await _fetchval(
        ctx, "SELECT payload FROM activities WHERE payload->>'type' = 'Update'"
        " AND payload->'object'->>'id' = $1 ORDER BY id DESC LIMIT 1", thread["ap_id"])
    assert update["actor"] == anna.actor.ap_id
    assert update["object"]["acceptedAnswer"] == by_ben["ap_id"]
    assert update["object"]["answerCount"] == 2
    assert f'✔ Gelöst: <a href="{by_ben["ap_id"]}">' in update["object"]["content"]
    context = next(c for c in update["@context"] if isinstance(c, dict))
    assert context["acceptedAnswer"] == {"@id": "schema:acceptedAnswer", "@type": "@id"}
    # The document at the thread's id says the same.
    doc = (await app_client.get(thread["ap_id"].replace("http://127.0.0.1:8000", ""),
                                headers={"Accept": "application/activity+json"})).json()
    assert doc["acceptedAnswer"] == by_ben["ap_id"]

    # A moderator changes it: logged, with who did it.
    answer = await _call(app_client, "POST", f"/api/v1/posts/{by_carl['id']}/accept", mo)
    assert answer["accepted_answer_id"] == by_carl["id"]
    entry = await _fetchval(ctx, "SELECT row_to_json(m) FROM modlog m")
    assert (entry["action"], entry["moderator_id"], entry["target_post_id"],
            entry["target_actor_id"]) == ("answer_accept", mo.actor.id, thread["id"],
                                          anna.actor.id)
    assert entry["details"] == {"answer_id": by_carl["id"]}

    # Not the thread, not a nested id that is not accepted, nothing removed.
    bad = await _call(app_client, "POST", f"/api/v1/posts/{thread['id']}/accept", anna, 422)
    assert bad["error"] == "not_a_reply" and bad["message"]
    not_it = await _call(app_client, "DELETE", accept_ben, anna, 409)
    assert not_it["error"] == "not_accepted"
    await _call(app_client, "POST", "/api/v1/posts/999999/accept", anna, 404)

    # The asker withdraws the moderator's choice: open again (answered), no new event.
    answer = await _call(app_client, "DELETE", f"/api/v1/posts/{by_carl['id']}/accept", anna)
    assert answer == {"thread_id": thread["id"], "accepted_answer_id": None,
                      "state": "answered"}
    assert await _fetchval(ctx, "SELECT count(*) FROM notification_events"
                                " WHERE kind = 'accepted_answer'") == 2
    update = await _fetchval(
        ctx, "SELECT payload FROM activities WHERE payload->>'type' = 'Update'"
        " AND payload->'object'->>'id' = $1 ORDER BY id DESC LIMIT 1", thread["ap_id"])
    assert "acceptedAnswer" not in update["object"] and update["object"]["answerCount"] == 2
    assert "Gelöst" not in update["object"]["content"]

    # A nested reply can be the answer too; a removed one cannot.
    await _call(app_client, "POST", f"/api/v1/posts/{nested['id']}/accept", anna)
    await threads.remove_post(ctx, Staff(mo.account, mo.actor), by_carl["id"], reason="Spam")
    gone = await _call(app_client, "POST", f"/api/v1/posts/{by_carl['id']}/accept", anna, 410)
    assert gone["error"] == "post_gone"


async def test_kinds_states_and_the_order_of_answers(app_client: httpx.AsyncClient,
                                                     ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    carl = await make_user(ctx, "carl")
    await make_group(ctx)
    await _thread(app_client, anna, "Noch keine Antwort")
    answered = await _thread(app_client, anna, "Beantwortet")
    solved = await _thread(app_client, anna, "Gelöst")
    talk = await _thread(app_client, anna, "Plaudern", kind="discussion")
    assert talk["kind"] == "discussion" and talk["sort"] == "oldest"
    bad = await _call(app_client, "POST", "/api/v1/groups/breitband/threads", anna, 422,
                      json={"title": "x", "content": "y", "kind": "poll"})
    assert bad["field"] == "kind"

    await _reply(app_client, ben, answered["id"], "Eine Antwort")
    first = await _reply(app_client, ben, solved["id"], "Erste")
    liked = await _reply(app_client, carl, solved["id"], "Beliebt")
    last = await _reply(app_client, carl, solved["id"], "Letzte")
    await _call(app_client, "POST", f"/api/v1/posts/{liked['id']}/like", anna)
    await _call(app_client, "POST", f"/api/v1/posts/{last['id']}/accept", anna)
    for r in (first, liked, last):
        await _reply(app_client, anna, talk["id"], r["content"])

    async def titles(state: str) -> list[str]:
        page = await _call(app_client, "GET",
                           f"/api/v1/groups/breitband/threads?state={state}", None)
        return [t["title"] for t in page["items"]]

    assert await titles("open") == ["Plaudern", "Beantwortet", "Noch keine Antwort"]
    assert await titles("unanswered") == ["Noch keine Antwort"]
    assert await titles("solved") == ["Gelöst"]
    wrong = await _call(app_client, "GET", "/api/v1/groups/breitband/threads?state=x", None,
                        422)
    assert wrong["field"] == "state"
    states = {t["title"]: t["state"] for t in (await _call(
        app_client, "GET", "/api/v1/groups/breitband/threads", None))["items"]}
    assert states == {"Noch keine Antwort": "open", "Beantwortet": "answered",
                      "Gelöst": "solved", "Plaudern": "answered"}

    async def order(thread: dict[str, Any], sort: str = "") -> list[int]:
        query = f"?sort={sort}" if sort else ""
        tree = await _call(app_client, "GET", f"/api/v1/posts/{thread['id']}{query}", None)
        return [r["id"] for r in tree["replies"]]

    # Best (the question's default): accepted, then most liked, then oldest.
    assert await order(solved) == [last["id"], liked["id"], first["id"]]
    assert await order(solved, "best") == [last["id"], liked["id"], first["id"]]
    assert await order(solved, "oldest") == [first["id"], liked["id"], last["id"]]
    assert await order(solved, "newest") == [last["id"], liked["id"], first["id"]]
    talk_order = await order(talk)
    assert talk_order == sorted(talk_order)  # a discussion: oldest first
    assert await order(talk, "newest") == sorted(talk_order, reverse=True)
    wrong = await _call(app_client, "GET", f"/api/v1/posts/{solved['id']}?sort=top", None, 422)
    assert wrong["field"] == "sort"


async def test_moderators_highlight_official_answers(app_client: httpx.AsyncClient,
                                                     ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    mo = await make_user(ctx, "mo")
    other_mo = await make_user(ctx, "otto")
    await make_group(ctx, moderators=[mo.actor])
    await make_group(ctx, "wasser", title="Wasser", moderators=[other_mo.actor])
    thread = await _thread(app_client, anna, "Wer ist zuständig?")
    popular = await _reply(app_client, ben, thread["id"], "Ich glaube, das Amt.")
    official = await _reply(app_client, anna, thread["id"], "Das Bauamt, Zimmer 3.")
    await _call(app_client, "POST", f"/api/v1/posts/{popular['id']}/like", mo)
    path = f"/api/v1/posts/{official['id']}/highlight"

    # Only the group's moderators: others 403 (no moderator at all, or of another group).
    await _call(app_client, "POST", path, None, 401)
    assert (await _call(app_client, "POST", path, ben, 403))["message"]
    assert (await _call(app_client, "POST", path, other_mo, 403))["error"] == "not_moderator"
    marked = await _call(app_client, "POST", path, mo)
    assert marked["official_answer"] is True and marked["highlighted"] is True
    assert (await _call(app_client, "POST", path, mo, 409))["error"] == "unchanged"
    thread_path = f"/api/v1/posts/{thread['id']}/highlight"
    assert (await _call(app_client, "POST", thread_path, mo, 422))["error"] == "not_a_reply"
    assert await _fetchval(ctx, "SELECT action FROM modlog") == "answer_highlight"

    # Best order: the official answer before the more liked one.
    tree = await _call(app_client, "GET", f"/api/v1/posts/{thread['id']}", None)
    assert [(r["id"], r["official_answer"]) for r in tree["replies"]] == \
        [(official["id"], True), (popular["id"], False)]

    unmarked = await _call(app_client, "DELETE", path, mo)
    assert unmarked["official_answer"] is False
    tree = await _call(app_client, "GET", f"/api/v1/posts/{thread['id']}", None)
    assert [r["id"] for r in tree["replies"]] == [popular["id"], official["id"]]
