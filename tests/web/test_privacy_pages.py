"""The page "Ihre Daten" (/settings/privacy): the export button and the deletion form
with its warning and password confirmation."""

from __future__ import annotations

import io
import json
import zipfile

import httpx

from fedi.core.context import Context
from tests.support.helpers import User
from tests.web.conftest import PASSWORD, log_in, post_form


async def test_the_page_needs_a_log_in_and_is_in_the_user_menu(
        app_client: httpx.AsyncClient, alice: User) -> None:
    r = await app_client.get("/settings/privacy")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await log_in(app_client, "alice")
    start = await app_client.get("/")
    assert 'href="/settings/privacy"' in start.text and "Ihre Daten" in start.text
    page = await app_client.get("/settings/privacy")
    assert page.status_code == 200
    assert "ZIP-Datei herunterladen" in page.text
    assert "kann nicht rückgängig gemacht werden" in page.text
    assert "Mein Konto endgültig löschen" in page.text


async def test_the_export_button_downloads_the_zip(client_as_alice: httpx.AsyncClient) -> None:
    r = await post_form(client_as_alice, "/settings/privacy", "/settings/privacy/export", {})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert json.loads(archive.read("account.json"))["account"]["username"] == "alice"
    # Without the CSRF token the form is refused.
    assert (await client_as_alice.post("/settings/privacy/export")).status_code == 403


async def test_deletion_asks_for_the_password_then_logs_out(
        client_as_alice: httpx.AsyncClient, ctx: Context, alice: User) -> None:
    client = client_as_alice
    wrong = await post_form(client, "/settings/privacy", "/settings/privacy/delete",
                            {"password": "falsches Passwort hier"})
    assert wrong.status_code == 403
    assert "Das Passwort ist falsch: Das Konto wurde nicht gelöscht." in wrong.text
    done = await post_form(client, "/settings/privacy", "/settings/privacy/delete",
                           {"password": PASSWORD, "keep_posts": "yes"})
    assert done.status_code == 200, done.text
    assert "Ihr Konto wurde gelöscht." in done.text
    assert (await client.get("/settings/privacy")).status_code == 303  # logged out
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM accounts WHERE id = $1",
                                   alice.account.id) == 0
    again = await post_form(client, "/signup", "/signup", {
        "username": "alice", "email": "alice2@example.org", "password": PASSWORD,
        "password_confirm": PASSWORD, "accept_terms": "yes"})
    assert "gehörte zu einem gelöschten Konto" in again.text
