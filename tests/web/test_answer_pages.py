"""Questions on the web pages (issue 15): the kind radio on the new-thread form, the
accept and highlight buttons (POST forms with the CSRF token, no script), the box with
the accepted answer under the question, the sort switch, the badges in the group's list
and its state filter, and "Offene Fragen" on the start page. German first."""

from __future__ import annotations

import re

import httpx

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import make_group, make_user
from tests.web.conftest import Client, csrf_of, log_in

DE = {"Accept-Language": "de"}


def _between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


async def test_the_asker_accepts_on_the_page_and_everyone_sees_it(
        app_client: httpx.AsyncClient, ctx: Context, client_for: Client) -> None:
    await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    mo = await make_user(ctx, "mo")
    group = await make_group(ctx, moderators=[mo.actor])

    # The form offers question (the new group's default) or discussion.
    await log_in(app_client, "anna")
    token = csrf_of((await app_client.get("/", headers=DE)).text)
    # ("Prüfen" shows the form again with what was typed, the kind kept.)
    form = await app_client.post("/groups/breitband/new", headers=DE, data={
        "csrf_token": token, "title": "Wer fördert Glasfaser?", "content": "x",
        "kind": "discussion", "action": "check"})
    assert "Art des Themas" in form.text
    assert re.search(r'value="discussion" checked', form.text)
    r = await app_client.post("/groups/breitband/new", headers=DE, data={
        "csrf_token": token, "title": "Wer fördert Glasfaser?",
        "content": "Wir suchen Förderprogramme.", "kind": "question"})
    assert r.status_code == 303, r.text
    thread_path = r.headers["location"].split("#")[0]
    thread_id = int(thread_path.rsplit("/", 1)[1])
    thread = await post_service.get_post(ctx, thread_id)
    assert thread.kind == "question"
    first = await post_service.create_reply(ctx, author=ben.actor, parent=thread,
                                            content="Das Land hat ein Programm.")
    answer = await post_service.create_reply(ctx, author=ben.actor, parent=thread,
                                             content="Der **Bund** fördert über das "
                                                     "Gigabit-Programm.")

    # Anna sees the buttons and accepts the second reply.
    page = await app_client.get(thread_path, headers=DE)
    assert page.text.count("Als Antwort akzeptieren") == 2
    assert "Als offizielle Antwort hervorheben" not in page.text  # not a moderator
    r = await app_client.post(f"/posts/{answer.id}/accept", headers=DE, data={
        "csrf_token": csrf_of(page.text), "action": "accept"})
    assert r.status_code == 303

    # Anyone sees the box under the question, the mark in place, answer first.
    reader = await client_for(None)
    page = await reader.get(thread_path, headers=DE)
    assert "✔ Gelöst" in page.text
    box = _between(page.text, '<section class="accepted-answer"', "</section>")
    assert "Akzeptierte Antwort" in box and "<strong>Bund</strong>" in box
    assert f'href="#post-{answer.id}"' in box
    replies = _between(page.text, '<ol class="replies">', "</ol>")
    assert replies.index(f'id="post-{answer.id}"') < replies.index(f'id="post-{first.id}"')
    assert "Als Antwort akzeptieren" not in page.text  # no buttons for readers
    oldest = (await app_client.get(thread_path + "?sort=oldest", headers=DE)).text
    replies = _between(oldest, '<ol class="replies">', "</ol>")
    assert replies.index(f'id="post-{first.id}"') < replies.index(f'id="post-{answer.id}"')
    assert 'href="?sort=oldest#replies-heading" aria-current="true"' in oldest

    # Ben (not the asker) is refused with the policy's German sentence.
    ben_client = await client_for("ben")
    page = await ben_client.get(thread_path, headers=DE)
    assert "Als Antwort akzeptieren" not in page.text
    r = await ben_client.post(f"/posts/{first.id}/accept", headers=DE, data={
        "csrf_token": csrf_of(page.text), "action": "accept"})
    assert r.status_code == 403
    assert "Nur die fragende Person und die Moderatorinnen und Moderatoren" in r.text

    # The moderator highlights the other reply as the official answer.
    mo_client = await client_for("mo")
    page = await mo_client.get(thread_path, headers=DE)
    assert "Als offizielle Antwort hervorheben" in page.text
    r = await mo_client.post(f"/posts/{first.id}/highlight", headers=DE, data={
        "csrf_token": csrf_of(page.text), "action": "highlight"})
    assert r.status_code == 303
    page = await mo_client.get(thread_path, headers=DE)
    assert "Offizielle Antwort" in _between(page.text, '<ol class="replies">', "</ol>")

    # The group lists it as a solved question; the filter shows only those.
    listing = (await app_client.get("/groups/breitband?state=solved", headers=DE)).text
    assert "Wer fördert Glasfaser?" in listing and "✔ Gelöst" in listing
    listing = (await app_client.get("/groups/breitband?state=unanswered", headers=DE)).text
    assert "Wer fördert Glasfaser?" not in listing

    # Withdrawn: open again, and on the start page under "Offene Fragen".
    page = await app_client.get(thread_path, headers=DE)
    assert "Akzeptierte Antwort zurücknehmen" in page.text
    r = await app_client.post(f"/posts/{answer.id}/accept", headers=DE, data={
        "csrf_token": csrf_of(page.text), "action": "withdraw"})
    assert r.status_code == 303
    start = (await app_client.get("/", headers=DE)).text
    questions = _between(start, 'id="questions-heading"', "</section>")
    assert "Offene Fragen" in questions and "Wer fördert Glasfaser?" in questions
    assert group.username in questions or "Breitbandausbau" in questions
