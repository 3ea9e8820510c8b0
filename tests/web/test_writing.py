"""Writing through the HTML forms: sign-up, threads, replies, edit, delete, like, follow."""

from __future__ import annotations

import re
from typing import Any

import httpx

from fedi.core.context import Context
from fedi.forum import accounts
from fedi.forum import posts as post_service
from tests.support.helpers import User, make_group, make_user
from tests.web.conftest import PASSWORD, csrf_of, log_in, only_h1, post_form


async def test_signup_logs_the_new_person_in(app_client: httpx.AsyncClient) -> None:
    response = await post_form(app_client, "/signup", "/signup", {
        "username": "clara", "display_name": "Clara Müller", "email": "clara@example.org",
        "password": PASSWORD, "password_confirm": PASSWORD, "accept_terms": "yes"})
    assert response.status_code == 303
    page = await app_client.get(response.headers["location"])
    assert "Willkommen!" in page.text
    assert 'href="/users/clara"' in page.text


async def test_signup_errors_stay_next_to_the_field_with_the_input_kept(
        app_client: httpx.AsyncClient, alice: User) -> None:
    response = await post_form(app_client, "/signup", "/signup", {
        "username": "alice", "display_name": "Noch eine Alice", "email": "neu@example.org",
        "password": PASSWORD, "password_confirm": PASSWORD, "accept_terms": "yes"})
    assert response.status_code == 409
    text = response.text
    assert 'id="f-username-error"' in text and "Der Name alice ist schon vergeben." in text
    assert 'aria-invalid="true"' in text
    assert 'value="Noch eine Alice"' in text and 'value="neu@example.org"' in text
    assert f'value="{PASSWORD}"' not in text  # passwords are never sent back
    short = await post_form(app_client, "/signup", "/signup", {
        "username": "dora", "email": "dora@example.org", "password": "kurz",
        "password_confirm": "kurz"})
    assert short.status_code == 422
    assert "Das Passwort muss mindestens 10 Zeichen lang sein." in short.text
    english = await app_client.post("/signup", headers={"Accept-Language": "en"}, data={
        "username": "dora", "email": "dora@example.org", "password": "kurz",
        "password_confirm": "kurz", "csrf_token": app_client.cookies["demisa_csrf"]})
    assert "The password must be at least 10 characters long." in english.text


async def test_signup_in_approval_mode_waits(app_client: httpx.AsyncClient,
                                             ctx: Context) -> None:
    async with ctx.pool.acquire() as conn:
        await accounts.set_registration_mode(conn, "approval")
    page = await app_client.get("/signup")
    assert 'name="reason"' in page.text
    response = await post_form(app_client, "/signup", "/signup", {
        "username": "erik", "email": "erik@example.org", "password": PASSWORD,
        "password_confirm": PASSWORD, "reason": "Ich wohne hier.", "accept_terms": "yes"})
    assert response.status_code == 303
    assert "demisa_session" not in app_client.cookies
    page = await app_client.get("/")
    assert "Administration geprüft" in page.text
    login = await post_form(app_client, "/login", "/login",
                            {"username": "erik", "password": PASSWORD})
    assert login.status_code == 403 and "wartet noch auf die Freigabe" in login.text


async def test_wrong_password_shows_the_form_again(app_client: httpx.AsyncClient,
                                                   alice: User) -> None:
    response = await post_form(app_client, "/login", "/login",
                               {"username": "alice", "password": "falsch falsch"})
    assert response.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in response.text
    assert 'value="alice"' in response.text


async def test_pages_that_need_a_login_redirect_to_it(app_client: httpx.AsyncClient,
                                                      group: Any) -> None:
    response = await app_client.get("/groups/breitband/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fgroups%2Fbreitband%2Fnew"


async def test_write_reply_to_reply_edit_like_delete(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    await log_in(app_client, "alice")
    form = await app_client.get("/groups/breitband/new")
    assert only_h1(form.text) == "Neues Thema in Breitbandausbau"
    empty = await post_form(app_client, "/groups/breitband/new", "/groups/breitband/new",
                            {"title": "", "content": "Nur Text"})
    assert empty.status_code == 422
    assert 'id="f-title-error"' in empty.text and "Bitte geben Sie einen Titel an." in empty.text
    assert "Nur Text</textarea>" in empty.text
    created = await post_form(app_client, "/groups/breitband/new", "/groups/breitband/new",
                              {"title": "Förderanträge", "content": "Wer hilft beim Antrag?"})
    assert created.status_code == 303
    thread_url = created.headers["location"]
    thread_id = int(thread_url.rsplit("/", 1)[1])
    reply = await post_form(app_client, thread_url, f"/posts/{thread_id}/reply",
                            {"content": "Die Gemeinde hilft."})
    assert reply.status_code == 303
    first_id = int(reply.headers["location"].rsplit("-", 1)[1])
    nested = await post_form(app_client, f"/posts/{first_id}/reply", f"/posts/{first_id}/reply",
                             {"content": "Danke für den Hinweis!"})
    assert nested.status_code == 303
    nested_id = int(nested.headers["location"].rsplit("-", 1)[1])
    async with ctx.pool.acquire() as conn:
        parent = await conn.fetchval("SELECT parent_id FROM posts WHERE id = $1", nested_id)
    assert parent == first_id
    edit_page = await app_client.get(f"/posts/{first_id}/edit")
    assert "Die Gemeinde hilft.</textarea>" in edit_page.text
    assert 'name="title"' not in edit_page.text  # a reply has no title
    edited = await post_form(app_client, f"/posts/{first_id}/edit", f"/posts/{first_id}/edit",
                             {"content": "Die Gemeinde hilft gern."})
    assert edited.status_code == 303
    liked = await post_form(app_client, thread_url, f"/posts/{first_id}/like",
                            {"action": "like"})
    assert liked.status_code == 303
    page = await app_client.get(thread_url)
    assert "Die Gemeinde hilft gern." in page.text and "(bearbeitet)" in page.text
    assert 'aria-pressed="true"' in page.text
    await post_form(app_client, thread_url, f"/posts/{first_id}/like", {"action": "unlike"})
    deleted = await post_form(app_client, f"/posts/{nested_id}/delete",
                              f"/posts/{nested_id}/delete", {})
    assert deleted.status_code == 303
    page = await app_client.get(thread_url)
    assert 'aria-pressed="true"' not in page.text
    assert "Danke für den Hinweis!" not in page.text
    assert "Dieser Beitrag wurde gelöscht." in page.text
    # Deleting the thread itself leads back to its group.
    gone = await post_form(app_client, thread_url, f"/posts/{thread_id}/delete", {})
    assert gone.headers["location"] == "/groups/breitband"


async def test_someone_else_cannot_edit(app_client: httpx.AsyncClient, ctx: Context,
                                        alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")
    await make_user(ctx, "bert")
    await log_in(app_client, "bert")
    response = await post_form(app_client, f"/posts/{thread.id}", f"/posts/{thread.id}/edit",
                               {"title": "Übernommen", "content": "Meins"})
    assert response.status_code == 403
    assert "Nur die Person, die den Beitrag geschrieben hat" in response.text
    page = await app_client.get(f"/posts/{thread.id}")
    assert f'href="/posts/{thread.id}/edit"' not in page.text


async def test_follow_and_unfollow_a_local_group(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    await log_in(app_client, "alice")
    response = await post_form(app_client, "/groups/breitband", "/follow",
                               {"action": "follow", "group": "breitband@127.0.0.1:8000"})
    assert response.status_code == 303
    page = await app_client.get("/groups/breitband")
    assert "Sie folgen jetzt dieser Gruppe." in page.text
    assert "1 Folgende*r" in page.text and "Nicht mehr folgen" in page.text
    await post_form(app_client, "/groups/breitband", "/follow",
                    {"action": "unfollow", "group": "breitband@127.0.0.1:8000"})
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM follows") == 0


async def test_follow_an_unknown_group_elsewhere_shows_the_error_on_the_start_page(
        app_client: httpx.AsyncClient, alice: User) -> None:
    await log_in(app_client, "alice")
    page = await app_client.get("/")
    assert "Einer Gruppe auf einer anderen Instanz folgen" in page.text
    response = await post_form(app_client, "/", "/follow", {
        "action": "follow", "origin": "start", "group": "nichtda"})
    assert response.status_code == 404
    assert only_h1(response.text) == "Teststadt"
    assert 'id="f-group-error"' in response.text and 'value="nichtda"' in response.text


async def test_follow_a_group_on_another_instance_by_handle(
        instance: Any) -> None:
    """Over real HTTP: A's member follows B's group by its handle; the follow is pending
    until B accepts (that part belongs to the federation tests)."""
    # The group's instance starts first so it stops last: the member's instance holds a
    # keep-alive connection to it, which would hold up its shutdown otherwise.
    there = await instance()
    here = await instance()
    await make_user(here.app.state.ctx, "alice")
    await make_group(there.app.state.ctx, "radwege", title="Radwege")
    handle = f"radwege@127.0.0.1:{there.port}"
    async with httpx.AsyncClient(base_url=here.url) as client:
        await log_in(client, "alice")
        response = await post_form(client, "/", "/follow", {
            "action": "follow", "origin": "start", "group": handle})
        assert response.status_code == 303
        assert response.headers["location"] == f"/g/{handle}"
        page = await client.get(response.headers["location"])
        assert only_h1(page.text) == "Radwege"
        assert "Anfrage zurückziehen" in page.text
        start = await client.get("/")
        assert "Gruppen von anderen Instanzen" in start.text and f"@{handle}" in start.text
    async with here.app.state.ctx.pool.acquire() as conn:
        state = await conn.fetchval("SELECT state FROM follows")
    assert state == "pending"


async def test_start_a_thread_in_a_followed_group_on_another_instance(
        instance: Any) -> None:
    """Over real HTTP with workers: A's member follows B's group, the follow is accepted,
    the group page offers "Neues Thema", and the thread written on A lands in B's group."""
    import asyncio

    there = await instance(workers=1)
    here = await instance(workers=1)
    await make_user(here.app.state.ctx, "alice")
    await make_group(there.app.state.ctx, "radwege", title="Radwege")
    handle = f"radwege@127.0.0.1:{there.port}"
    async with httpx.AsyncClient(base_url=here.url) as client:
        await log_in(client, "alice")
        await post_form(client, "/", "/follow", {"action": "follow", "origin": "start",
                                                 "group": handle})
        for _ in range(150):  # the Accept travels back through both workers
            page = await client.get(f"/g/{handle}")
            if f'href="/g/{handle}/new"' in page.text:
                break
            await asyncio.sleep(0.1)
        assert f'href="/g/{handle}/new"' in page.text, "no 'new thread' once accepted"
        response = await post_form(client, f"/g/{handle}/new", f"/g/{handle}/new",
                                   {"title": "Radweg an der B27", "content": "Wer plant mit?"})
        assert response.status_code == 303, response.text
        # An unknown group elsewhere is not looked up from a page.
        missing = await client.get("/g/nichtda@127.0.0.1:9/new")
        assert missing.status_code == 404
    async with httpx.AsyncClient(base_url=there.url) as client:
        for _ in range(150):
            threads = (await client.get("/api/v1/groups/radwege/threads")).json()["items"]
            if threads:
                break
            await asyncio.sleep(0.1)
    assert [t["title"] for t in threads] == ["Radweg an der B27"]
    assert threads[0]["author"]["handle"] == f"alice@127.0.0.1:{here.port}"


# Forms check the services' rules before they are shown (issue 11) -----------------------

async def _removed_by_moderators(ctx: Context, post_id: int) -> None:
    from fedi.forum import threads as thread_service
    from fedi.forum.staff import Staff

    admin = await make_user(ctx, "ruth", admin=True)
    staff = Staff(admin.account, admin.actor)
    await thread_service.remove_post(ctx, staff, post_id, reason="Telefonnummer")


async def test_edit_and_delete_forms_of_other_peoples_posts_are_refused(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Mein Thema", content="Geheimer **Text**")
    await make_user(ctx, "bert")
    await log_in(app_client, "bert")
    for form in ("edit", "delete"):
        response = await app_client.get(f"/posts/{thread.id}/{form}")
        assert response.status_code == 403, form
        assert "Geheimer **Text**" not in response.text
        assert 'action="/posts/' not in response.text  # no form to fill in
        assert "Nur die Person, die den Beitrag geschrieben hat" in response.text
    missing = await app_client.get("/posts/999999/edit")
    assert missing.status_code == 404 and "Es gibt keinen Beitrag 999999." in missing.text


async def test_a_removed_post_has_no_edit_form_for_anybody(
        app_client: httpx.AsyncClient, client_for: Any, ctx: Context, alice: User,
        group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Telefonliste", content="0171 2345678")
    await _removed_by_moderators(ctx, thread.id)
    await make_user(ctx, "bert")
    for name in ("bert", "alice"):
        client = await client_for(name)
        for form in ("edit", "delete"):
            response = await client.get(f"/posts/{thread.id}/{form}")
            assert response.status_code == 410, (name, form)
            assert "0171 2345678" not in response.text and "Telefonliste" not in response.text
            assert "von der Moderation entfernt" in response.text
    # The author cannot change it behind the moderators' back either.
    alice_client = await client_for("alice")
    edited = await post_form(alice_client, "/", f"/posts/{thread.id}/edit",
                             {"title": "Neu", "content": "neu"})
    assert edited.status_code == 410
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT source FROM posts WHERE id = $1",
                                   thread.id) == "0171 2345678"


async def test_a_deleted_post_has_no_edit_form(app_client: httpx.AsyncClient, ctx: Context,
                                               alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Weg", content="weg damit")
    await post_service.delete_post(ctx, actor=alice.actor, post=thread)
    await log_in(app_client, "alice")
    for form in ("edit", "delete"):
        response = await app_client.get(f"/posts/{thread.id}/{form}")
        assert response.status_code == 410, form
        assert "gelöscht" in response.text


async def _ban(ctx: Context, user: User, group: Any, reason: str = "Beleidigungen") -> None:
    from storage import moderation as moderation_store

    async with ctx.pool.acquire() as conn:
        await moderation_store.ban(conn, actor_id=user.actor.id, group_id=group.id,
                                   reason=reason)


async def test_a_ban_stops_likes_from_the_web(app_client: httpx.AsyncClient, ctx: Context,
                                              alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")
    bert = await make_user(ctx, "bert")
    await log_in(app_client, "bert")
    page = await app_client.get(f"/posts/{thread.id}")
    token = csrf_of(page.text)
    await _ban(ctx, bert, group)
    refused = await app_client.post(f"/posts/{thread.id}/like",
                                    data={"action": "like", "csrf_token": token})
    assert refused.status_code == 403
    assert "gesperrt" in refused.text and "Beleidigungen" in refused.text
    assert (await post_service.get_post(ctx, thread.id)).like_count == 0
    # The thread page offers no like button then, but shows the count.
    page = await app_client.get(f"/posts/{thread.id}")
    assert f'action="/posts/{thread.id}/like"' not in page.text


async def test_locked_threads_offer_no_reply_form(app_client: httpx.AsyncClient, ctx: Context,
                                                  alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Alt", content="erledigt")
    reply = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                            content="Antwort")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET locked = true WHERE id = $1", thread.id)
    await log_in(app_client, "alice")
    page = await app_client.get(f"/posts/{thread.id}")
    assert f'href="/posts/{reply.id}/reply"' not in page.text
    assert f'href="/posts/{thread.id}/reply"' not in page.text
    assert 'name="content"' not in page.text
    for target in (thread.id, reply.id):
        form = await app_client.get(f"/posts/{target}/reply")
        assert form.status_code == 403
        assert "Dieses Thema ist geschlossen" in form.text
        assert "<textarea" not in form.text


async def test_banned_people_get_no_reply_or_new_thread_form(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")
    bert = await make_user(ctx, "bert")
    await _ban(ctx, bert, group, reason="Spam")
    await log_in(app_client, "bert")
    page = await app_client.get(f"/posts/{thread.id}")
    assert 'name="content"' not in page.text
    assert f'href="/posts/{thread.id}/reply"' not in page.text
    assert "gesperrt" in page.text and "Spam" in page.text
    for url in (f"/posts/{thread.id}/reply", "/groups/breitband/new"):
        form = await app_client.get(url)
        assert form.status_code == 403, url
        assert "<textarea" not in form.text and "gesperrt" in form.text
    group_page = await app_client.get("/groups/breitband")
    assert 'href="/groups/breitband/new"' not in group_page.text
    # No Follow button either (the policy refuses following too), and the page says why.
    assert 'name="action" value="follow"' not in group_page.text
    assert "Sie sind in dieser Gruppe gesperrt. Grund: Spam" in group_page.text
    # Someone not banned gets both.
    await log_in(app_client, "alice")
    group_page = await app_client.get("/groups/breitband")
    assert 'name="action" value="follow"' in group_page.text
    assert 'href="/groups/breitband/new"' in group_page.text


async def test_a_refusal_is_shown_as_a_refusal_not_as_an_input_error(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")
    await log_in(app_client, "alice")
    form = await app_client.get(f"/posts/{thread.id}/reply")
    async with ctx.pool.acquire() as conn:  # locked while alice was typing
        await conn.execute("UPDATE posts SET locked = true WHERE id = $1", thread.id)
    response = await app_client.post(f"/posts/{thread.id}/reply", data={
        "content": "Meine Antwort", "csrf_token": csrf_of(form.text)})
    assert response.status_code == 403
    assert "Bitte prüfen Sie Ihre Eingaben" not in response.text
    assert "Das ist nicht möglich" in response.text and "geschlossen" in response.text
    assert "Meine Antwort</textarea>" not in response.text  # nothing to correct and resend
    # Validation errors stay under the form's heading.
    empty = await post_form(app_client, "/groups/breitband/new", "/groups/breitband/new",
                            {"title": "", "content": "x"})
    assert "Bitte prüfen Sie Ihre Eingaben" in empty.text
    assert "Das ist nicht möglich" not in empty.text


async def test_signup_reports_every_field_error_at_once(app_client: httpx.AsyncClient) -> None:
    response = await post_form(app_client, "/signup", "/signup", {
        "username": "", "email": "keine-adresse", "password": "kurz",
        "password_confirm": "anders"})
    assert response.status_code == 422
    text = response.text
    for field in ("username", "email", "password", "password_confirm"):
        assert f'id="f-{field}-error"' in text, field
        assert re.search(rf'id="f-{field}"[^>]*aria-describedby="[^"]*f-{field}-error', text), \
            field
    assert "Die beiden Passwörter stimmen nicht überein." in text
    assert 'value="keine-adresse"' in text


async def test_like_counts_are_shown_to_visitors(app_client: httpx.AsyncClient, ctx: Context,
                                                 alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")
    reply = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                            content="Antwort")
    bert = await make_user(ctx, "bert")
    await post_service.like_post(ctx, actor=bert.actor, post=thread)
    page = await app_client.get(f"/posts/{thread.id}")
    assert 'action="/posts/' not in page.text  # buttons only for people logged in
    root = page.text.split(f'id="post-{thread.id}"')[1].split("</article>")[0]
    assert "1 Like" in root
    other = page.text.split(f'id="post-{reply.id}"')[1].split("</article>")[0]
    assert "0 Likes" in other
