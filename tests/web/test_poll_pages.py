"""Polls on the web pages (issue 20): the poll fields of the new-thread form (German
first, no script), the vote form (radio buttons) until one voted, the results after
voting or after the end, and anonymous readers."""

from __future__ import annotations

import httpx

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user
from tests.web.conftest import Client, csrf_of, log_in

DE = {"Accept-Language": "de"}


async def test_make_a_poll_vote_and_see_the_results(
        app_client: httpx.AsyncClient, ctx: Context, client_for: Client) -> None:
    await make_user(ctx, "anna")
    await make_user(ctx, "ben")
    await make_group(ctx)
    await log_in(app_client, "anna")
    form = await app_client.get("/groups/breitband/new", headers=DE)
    assert "Umfrage hinzufügen" in form.text and "Antwortmöglichkeiten" in form.text
    token = csrf_of(form.text)
    # A poll with one option: the form again, the input kept, the German sentence.
    r = await app_client.post("/groups/breitband/new", headers=DE, data={
        "csrf_token": token, "title": "Wann treffen wir uns?", "content": "Bitte wählen.",
        "poll_options": "Montag\n", "poll_days": "3"})
    assert r.status_code == 422
    assert "Eine Umfrage braucht 2 bis 10 Antwortmöglichkeiten." in r.text
    assert "Montag" in r.text and 'value="3" selected' in r.text
    r = await app_client.post("/groups/breitband/new", headers=DE, data={
        "csrf_token": token, "title": "Wann treffen wir uns?", "content": "Bitte wählen.",
        "poll_options": "Montag\nDienstag\n\nMittwoch", "poll_days": "3"})
    assert r.status_code == 303, r.text
    path = r.headers["location"].split("#")[0]

    ben = await client_for("ben")
    page = await ben.get(path, headers=DE)
    assert "Umfrage" in page.text and 'type="radio" name="choice"' in page.text
    assert "Stimmen" not in page.text  # no results before voting
    r = await ben.post(path + "/vote", headers=DE,
                       data={"csrf_token": csrf_of(page.text), "choice": "1"})
    assert r.status_code == 303, r.text
    page = await ben.get(path, headers=DE)
    assert "Sie haben abgestimmt." in page.text
    assert "<strong>✔ Dienstag</strong>: 1 Stimme (100 %)" in page.text
    assert 'name="choice"' not in page.text
    again = await ben.post(path + "/vote", headers=DE,
                           data={"csrf_token": csrf_of(page.text), "choice": "0"})
    assert again.status_code == 409
    assert "Sie haben in dieser Umfrage schon abgestimmt." in again.text

    # Anonymous readers: the options, no counts, a hint to log in; the ended poll's results.
    anonymous = await client_for(None)
    first = await anonymous.get(path, headers=DE)
    assert "Melden Sie sich an, um abzustimmen." in first.text and "Stimme" not in first.text
    post_id = int(path.rsplit("/", 1)[1])
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE polls SET ends_at = now() - interval '1 minute'"
                           " WHERE post_id = $1", post_id)
    ended = await anonymous.get(path, headers=DE)
    assert "Die Umfrage ist beendet." in ended.text
    assert "1 Stimme" in ended.text and "0 Stimmen" in ended.text


async def test_thread_lists_mark_threads_with_a_poll(
        app_client: httpx.AsyncClient, ctx: Context, client_for: Client) -> None:
    await make_user(ctx, "anna")
    await make_group(ctx)
    await log_in(app_client, "anna")
    token = csrf_of((await app_client.get("/groups/breitband/new", headers=DE)).text)
    for title, options in (("Termin?", "Montag\nDienstag"), ("Ohne Umfrage", "")):
        r = await app_client.post("/groups/breitband/new", headers=DE, data={
            "csrf_token": token, "title": title, "content": "Text #treffen",
            "poll_options": options, "poll_days": "3"})
        assert r.status_code == 303, r.text
    anonymous = await client_for(None)
    for path in ("/groups/breitband", "/tags/treffen"):  # the group's list, the hashtag's
        page = await anonymous.get(path, headers=DE)
        items = page.text.split('<li class="thread-item')[1:]
        marked = {item.split("</a>")[0].rsplit(">", 1)[1]: 'class="badge">Umfrage<' in item
                  for item in items}
        assert marked == {"Termin?": True, "Ohne Umfrage": False}, path
