"""The settings page (/settings): profile, language, password and log out everywhere, as
plain forms; official badges on the thread page, group list and profile."""

from __future__ import annotations

import email
import email.policy
import re

import httpx

from fedi.core.context import Context
from fedi.forum.officials import set_official
from fedi.forum.posts import create_reply, create_thread
from fedi.forum.staff import staff_of
from storage.actors import Actor
from tests.support.helpers import User, make_user
from tests.web.conftest import Client, post_form

NEW_PASSWORD = "lila Laterne am Fluss"


async def test_settings_need_a_log_in(app_client: httpx.AsyncClient) -> None:
    r = await app_client.get("/settings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_profile_is_saved_shown_and_checked(client_as_alice: httpx.AsyncClient) -> None:
    client = client_as_alice
    page = await client.get("/settings")
    assert page.status_code == 200 and "Einstellungen" in page.text
    assert "Bürgermeister·in" in page.text and "Verein/Initiative" in page.text
    r = await post_form(client, "/settings", "/settings/profile", {
        "display_name": "Alice Amt", "bio": "Zuständig für *Fördermittel*.",
        "organisation": "Landkreis X", "municipality": "Musterstadt",
        "affiliation": "research", "language": "de"})
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    profile = await client.get("/users/alice")
    assert "<em>Fördermittel</em>" in profile.text
    assert "Landkreis X" in profile.text and "Wissenschaft" in profile.text
    assert "Spricht als" in profile.text and "Gemeinde" in profile.text

    bad = await post_form(client, "/settings", "/settings/profile",
                          {"affiliation": "king", "bio": "x"})
    assert bad.status_code == 422
    assert "affiliation must be one of" not in bad.text  # never the raw English text
    too_long = await post_form(client, "/settings", "/settings/profile",
                               {"bio": "x" * 2001})
    assert too_long.status_code == 422
    assert "Der Text über Sie darf höchstens 2000 Zeichen lang sein." in too_long.text


async def test_language_choice_switches_the_pages(client_as_alice: httpx.AsyncClient) -> None:
    r = await post_form(client_as_alice, "/settings", "/settings/profile",
                        {"language": "en", "display_name": "Alice"})
    assert r.status_code == 303
    page = await client_as_alice.get("/settings")
    assert page.headers["content-language"] == "en" and "Settings" in page.text


async def test_password_change_refuses_a_wrong_current_password(
        client_as_alice: httpx.AsyncClient, client_for: Client) -> None:
    other = await client_for("alice")
    wrong = await post_form(client_as_alice, "/settings", "/settings/password", {
        "current_password": "falsch falsch", "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert wrong.status_code == 403
    assert "Das aktuelle Passwort ist falsch." in wrong.text
    differ = await post_form(client_as_alice, "/settings", "/settings/password", {
        "current_password": "correct horse battery", "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 422
    ok = await post_form(client_as_alice, "/settings", "/settings/password", {
        "current_password": "correct horse battery", "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert ok.status_code == 303
    # This browser stays logged in; the other session ended.
    assert (await client_as_alice.get("/settings")).status_code == 200
    assert (await other.get("/settings")).status_code == 303


async def test_log_out_everywhere_ends_all_sessions_and_tokens(
        client_as_alice: httpx.AsyncClient, client_for: Client, alice: User,
        ctx: Context) -> None:
    other = await client_for("alice")
    page = await client_as_alice.get("/settings")
    assert "Web-Sitzung" in page.text and "Überall abmelden" in page.text
    r = await post_form(client_as_alice, "/settings", "/settings/sessions/end", {})
    assert r.status_code == 303
    assert (await client_as_alice.get("/settings")).status_code == 303
    assert (await other.get("/settings")).status_code == 303
    api = await client_as_alice.get("/api/v1/me", headers=alice.headers)
    assert api.status_code == 401


async def test_official_badge_on_thread_group_and_profile(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Actor) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    thread = await create_thread(ctx, author=alice.actor, group=group, title="Glasfaser",
                                 content="Wann kommt der Ausbau?")
    await create_reply(ctx, author=admin.actor, parent=thread, content="Im Herbst.")
    await set_official(ctx, await staff_of(ctx, admin.account), "chefin",
                       "Bürgermeisterin der Gemeinde Musterstadt")
    badge = ('<span class="badge-official" title="Offizielles Konto: Bürgermeisterin der '
             'Gemeinde Musterstadt"><span class="visually-hidden">Offizielles Konto: </span>'
             'Bürgermeisterin der Gemeinde Musterstadt</span>')
    page = await app_client.get(f"/posts/{thread.id}")
    assert page.text.count(badge) == 1, "only the official's reply carries it"
    profile = await app_client.get("/users/chefin")
    assert badge in profile.text
    await set_official(ctx, await staff_of(ctx, admin.account), "alice", "Breitbandkoordinatorin")
    listing = await app_client.get("/groups/breitband")
    assert "Breitbandkoordinatorin</span>" in listing.text


async def test_email_change_through_the_pages(client_as_alice: httpx.AsyncClient,
                                              ctx: Context, alice: User) -> None:
    client = client_as_alice
    wrong = await post_form(client, "/settings", "/settings/email", {
        "email": "alice@musterstadt.de", "email_password": "falsch falsch"})
    assert wrong.status_code == 403 and "Das aktuelle Passwort ist falsch." in wrong.text
    r = await post_form(client, "/settings", "/settings/email", {
        "email": "alice@musterstadt.de", "email_password": "correct horse battery"})
    assert r.status_code == 303
    async with ctx.pool.acquire() as conn:
        message = await conn.fetchval("SELECT message FROM mail_outbox WHERE recipient = $1",
                                      "alice@musterstadt.de")
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"http://\S+(/email/confirm/\S+)", str(body.get_content()))
    assert found is not None
    confirm_page = await client.get(found.group(1))
    assert confirm_page.status_code == 200 and "alice@musterstadt.de" in confirm_page.text
    done = await post_form(client, found.group(1), found.group(1), {})
    assert done.status_code == 303
    settings = await client.get("/settings")
    assert "<strong>alice@musterstadt.de</strong>" in settings.text
    spent = await client.get(found.group(1))
    assert spent.status_code == 400 and "nicht gültig" in spent.text


async def test_the_chosen_language_follows_to_a_new_log_in(
        client_as_alice: httpx.AsyncClient, client_for: Client) -> None:
    r = await post_form(client_as_alice, "/settings", "/settings/profile", {"language": "en"})
    assert r.status_code == 303
    elsewhere = await client_for("alice")
    page = await elsewhere.get("/settings")
    assert page.headers["content-language"] == "en"
