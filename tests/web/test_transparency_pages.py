"""Who moderates and what they did, for browsers (issue 11): the modlog page links its
groups, posts and people and filters by group and action without JavaScript; the
moderators and modlog collections show pages to browsers and stay JSON for ActivityPub;
the group page names its moderators."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.forum import bans, threads
from fedi.forum import posts as post_service
from fedi.forum.staff import Staff
from storage import actors as actor_store
from storage import groups as group_store
from storage import modlog as modlog_store
from tests.support.constants import BASE
from tests.support.helpers import make_group, make_user
from tests.web.conftest import Client, only_h1

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
AP = {"Accept": "application/activity+json"}
EN = {**HTML, "Accept-Language": "en"}


@pytest.fixture
async def world(ctx: Context) -> dict[str, Any]:
    """breitband (moderated by mia, here, and rita, on Lemmy) and radwege (by otto); a
    thread in each; a remote group rathaus@lemmy.example; some moderation in each."""
    alice = await make_user(ctx, "alice")
    mia = await make_user(ctx, "mia")
    otto = await make_user(ctx, "otto")
    async with ctx.pool.acquire() as conn:
        rita = await actor_store.upsert_remote(conn, "https://lemmy.example/u/rita", {
            "type": "Person", "username": "rita", "domain": "lemmy.example", "name": "Rita R.",
            "url": "https://lemmy.example/u/rita", "inbox": "https://lemmy.example/u/rita/inbox"})
        rathaus = await actor_store.upsert_remote(conn, "https://lemmy.example/c/rathaus", {
            "type": "Group", "username": "rathaus", "domain": "lemmy.example",
            "name": "Rathaus", "inbox": "https://lemmy.example/c/rathaus/inbox"})
        await group_store.insert(conn, rathaus.id)
    breitband = await make_group(ctx, moderators=[mia.actor, rita])
    radwege = await make_group(ctx, "radwege", title="Radwege", moderators=[otto.actor])
    thread = await post_service.create_thread(ctx, author=alice.actor, group=breitband,
                                              title="Baustelle", content="Wie lange noch?")
    bike = await post_service.create_thread(ctx, author=alice.actor, group=radwege,
                                            title="Radweg Nord", content="Holprig.")
    as_mia = Staff(mia.account, mia.actor)
    await threads.lock_thread(ctx, as_mia, thread.id, locked=True, reason="Alles gesagt")
    await threads.pin_thread(ctx, Staff(otto.account, otto.actor), bike.id, pinned=True,
                                reason="Wichtig")
    await bans.ban(ctx, as_mia, actor_ref="alice", group_ref="breitband",
                         reason="Beleidigungen", expires_at=None, remove_content=False)
    async with ctx.pool.acquire() as conn:
        await modlog_store.insert(conn, action="post_remove", remote=True, group_id=rathaus.id,
                                  target_actor_id=rita.id, reason="Werbung drüben")
    return {"alice": alice, "mia": mia, "otto": otto, "rita": rita, "rathaus": rathaus,
            "thread": thread, "bike": bike}


def _entries(html: str) -> list[str]:
    return re.findall(r'<li class="modlog-entry".*?</li>', html, flags=re.S)


async def test_the_modlog_links_groups_posts_and_people(client_for: Client,
                                                         world: dict[str, Any]) -> None:
    page = await (await client_for()).get("/modlog")
    assert page.status_code == 200
    entries = _entries(page.text)
    lock = next(e for e in entries if "Thema geschlossen" in e)
    assert '<a href="/groups/breitband">Breitbandausbau</a>' in lock
    assert f'<a href="/posts/{world["thread"].id}">Baustelle</a>' in lock
    ban = next(e for e in entries if "Beleidigungen" in e)
    assert 'href="/users/alice"' in ban  # the banned person, linked
    remote = next(e for e in entries if "Werbung drüben" in e)
    assert 'href="/g/rathaus@lemmy.example">Rathaus</a>' in remote
    assert 'href="https://lemmy.example/u/rita"' in remote
    pin = next(e for e in entries if "Wichtig" in e)
    assert '<a href="/groups/radwege">Radwege</a>' in pin


async def test_the_modlog_filters_by_group_and_action_with_a_plain_form(
        client_for: Client, ctx: Context, world: dict[str, Any]) -> None:
    browser = await client_for()
    page = await browser.get("/modlog")
    form = page.text.split('<form class="modlog-filter"')[1].split("</form>")[0]
    assert 'method="get"' in form and 'action="/modlog"' in form
    assert '<label for="f-group">' in form and '<label for="f-action">' in form
    assert '<option value="radwege">Radwege</option>' in form
    assert '<option value="rathaus@lemmy.example">Rathaus (rathaus@lemmy.example)</option>' \
        in form
    assert '<option value="ban">Gesperrt</option>' in form
    assert "<button" in form  # submits without JavaScript

    by_group = await browser.get("/modlog?group=radwege&action=")
    texts = _entries(by_group.text)
    assert texts and all("Radwege" in e for e in texts) and "Wichtig" in by_group.text
    assert '<option value="radwege" selected>' in by_group.text
    by_action = await browser.get("/modlog?group=&action=thread_lock")
    assert [("Alles gesagt" in e) for e in _entries(by_action.text)] == [True]
    assert '<option value="thread_lock" selected>' in by_action.text
    both = await browser.get("/modlog?group=breitband&action=ban")
    assert [("Beleidigungen" in e) for e in _entries(both.text)] == [True]
    none = await browser.get("/modlog?group=radwege&action=ban")
    assert _entries(none.text) == [] and "Keine Einträge für diese Auswahl." in none.text
    remote = await browser.get("/modlog?group=rathaus%40lemmy.example")
    assert [("Werbung drüben" in e) for e in _entries(remote.text)] == [True]

    # Bad choices: a page that says what is wrong, never a 500.
    unknown = await browser.get("/modlog?action=explode")
    assert unknown.status_code == 422 and "Diese Aktion gibt es nicht." in unknown.text
    assert (await browser.get("/modlog?group=nirgends")).status_code == 404

    # Pages of 30 keep both filters.
    async with ctx.pool.acquire() as conn:
        group = await actor_store.by_handle(conn, "breitband", "127.0.0.1:8000", "Group")
        assert group is not None
        for n in range(31):
            await modlog_store.insert(conn, action="thread_pin", group_id=group.id,
                                      reason=f"Eintrag {n}")
    first = await browser.get("/modlog?group=breitband&action=thread_pin")
    assert len(_entries(first.text)) == 30 and "Eintrag 30" in first.text
    older = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    older = older.replace("&amp;", "&")
    assert "action=thread_pin" in older and "group=breitband" in older
    second = await browser.get(older)
    assert [("Eintrag 0" in e) for e in _entries(second.text)] == [True]


async def test_moderators_collection_is_a_page_for_browsers(
        client_for: Client, world: dict[str, Any]) -> None:
    browser = await client_for()
    page = await browser.get("/groups/breitband/moderators", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "accept" in page.headers["vary"].lower()
    assert only_h1(page.text) == "Moderator*innen von Breitbandausbau"
    assert '<a class="author" href="/users/mia">Mia</a>' in page.text
    assert 'href="https://lemmy.example/u/rita"' in page.text and "@rita@lemmy.example" \
        in page.text
    assert 'href="/groups/breitband"' in page.text and 'href="/groups/breitband/modlog"' \
        in page.text
    english = await browser.get("/groups/breitband/moderators", headers=EN)
    assert only_h1(english.text) == "Moderators of Breitbandausbau"
    missing = await browser.get("/groups/nirgends/moderators", headers=HTML)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "text/html")


@pytest.mark.parametrize("accept", [AP, {"Accept": "application/ld+json"}, {}])
async def test_moderators_collection_stays_json_for_activitypub(
        client_for: Client, world: dict[str, Any], accept: dict[str, str]) -> None:
    response = await (await client_for()).get("/groups/breitband/moderators", headers=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    assert response.headers["vary"] == "Accept"
    document = response.json()
    assert document.pop("@context")[0] == "https://www.w3.org/ns/activitystreams"
    assert document == {
        "id": f"{BASE}/groups/breitband/moderators",
        "type": "OrderedCollection",
        "totalItems": 2,
        "orderedItems": [f"{BASE}/users/mia", "https://lemmy.example/u/rita"],
    }


async def test_group_modlog_collection_is_the_modlog_page_for_browsers(
        client_for: Client, world: dict[str, Any]) -> None:
    browser = await client_for()
    page = await browser.get("/groups/breitband/modlog", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "accept" in page.headers["vary"].lower()
    assert only_h1(page.text) == "Moderationsprotokoll von Breitbandausbau"
    assert "Alles gesagt" in page.text and "Wichtig" not in page.text
    as_json = await browser.get("/groups/breitband/modlog", headers=AP)
    assert as_json.headers["content-type"] == "application/activity+json"
    document = as_json.json()
    assert document["type"] == "OrderedCollection" and document["totalItems"] == 2
    assert document["id"] == f"{BASE}/groups/breitband/modlog"
    plain = await browser.get("/groups/breitband/modlog")  # no Accept: JSON as before
    assert plain.headers["content-type"] == "application/activity+json"


async def test_the_group_page_names_its_moderators(client_for: Client,
                                                   world: dict[str, Any]) -> None:
    page = await (await client_for()).get("/groups/breitband", headers=HTML)
    section = page.text.split('aria-labelledby="moderators-heading"')[1].split("</section>")[0]
    assert '<h2 id="moderators-heading">Moderation</h2>' in page.text
    assert '<a class="author" href="/users/mia">Mia</a>' in section
    assert 'href="https://lemmy.example/u/rita"' in section and "Rita R." in section
    assert 'href="/groups/breitband/modlog"' in section
    english = await (await client_for()).get("/groups/breitband", headers=EN)
    assert '<h2 id="moderators-heading">Moderators</h2>' in english.text


async def test_a_group_without_moderators_says_so(client_for: Client, ctx: Context) -> None:
    await make_group(ctx, "leer", title="Leer")
    page = await (await client_for()).get("/groups/leer", headers=HTML)
    assert "Diese Gruppe hat noch keine Moderator*innen." in page.text
    listing = await (await client_for()).get("/groups/leer/moderators", headers=HTML)
    assert "Diese Gruppe hat noch keine Moderator*innen." in listing.text
