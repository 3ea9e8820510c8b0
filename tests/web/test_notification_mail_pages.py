"""Notification e-mail settings in the API (PATCH /api/v1/me, checked against the OpenAPI
document) and on the settings page (radio buttons, no JavaScript), and the one-click
unsubscribe pages: GET only shows a button, POST (RFC 8058) switches off without log-in
or CSRF token, forged tokens are refused."""

from __future__ import annotations

import httpx

from fedi.core.context import Context
from fedi.forum import notification_mail as service
from storage import notification_mail as store
from tests.routes.test_openapi import Api
from tests.support.helpers import User, make_user
from tests.web.conftest import post_form


async def _link(ctx: Context, user: User, scope: str = "all") -> str:
    async with ctx.pool.acquire() as conn:
        url = await service.unsubscribe_url(conn, ctx, user.account.id, scope)
    return url.removeprefix(ctx.settings.base_url)


async def _modes(ctx: Context, user: User) -> dict[str, str]:
    async with ctx.pool.acquire() as conn:
        view: dict[str, str] = (await service.preferences(conn, user.account.id)).view()
    return view


async def test_the_api_reads_changes_and_checks_the_mail_settings(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    anna = await make_user(ctx, "anna")
    me = await api("GET", "/api/v1/me", anna, status=200)
    assert me["timezone"] == "Europe/Berlin"
    assert me["email_notifications"]["default"] == "daily"
    assert me["email_notifications"]["report"] == "immediate"
    changed = await api("PATCH", "/api/v1/me", anna, status=200, json={
        "email_notifications": {"default": "weekly", "reply": "immediate"},
        "timezone": "Europe/Vienna", "municipality": "Musterstadt"})
    assert changed["email_notifications"]["reply"] == "immediate"
    assert changed["email_notifications"]["mention"] == "weekly"
    assert changed["timezone"] == "Europe/Vienna" and changed["municipality"] == "Musterstadt"
    for body in ({"email_notifications": {"reply": "hourly"}, "municipality": "X"},
                 {"email_notifications": ["daily"]}, {"email_notifications": {"x": "off"}},
                 {"timezone": "Berlin"}, {"timezone": 3}):
        bad = await api("PATCH", "/api/v1/me", anna, status=422, json=body)
        assert bad["error"] == "validation_failed" and bad["message"].endswith(
            ("Europe/Berlin", "off", "watched_post", '"immediate"}'))
    me = await api("GET", "/api/v1/me", anna, status=200)
    # Nothing of a refused request was applied, the profile neither.
    assert me["municipality"] == "Musterstadt" and me["timezone"] == "Europe/Vienna"
    assert me["email_notifications"]["reply"] == "immediate"


async def test_the_settings_page_saves_radio_buttons_and_checks_the_time_zone(
        client_as_alice: httpx.AsyncClient, ctx: Context, alice: User) -> None:
    page = await client_as_alice.get("/settings")
    assert "E-Mail-Benachrichtigungen" in page.text
    assert 'name="mail_default" value="daily" checked' in page.text
    assert 'name="mail_report" value="" checked' in page.text
    saved = await post_form(client_as_alice, "/settings", "/settings/notifications", {
        "mail_default": "weekly", "mail_reply": "immediate", "mail_like": "off",
        "mail_report": "", "timezone": "Europe/Berlin"})
    assert saved.status_code == 303, saved.text
    modes = await _modes(ctx, alice)
    assert (modes["default"], modes["reply"], modes["like"], modes["mention"],
            modes["report"]) == ("weekly", "immediate", "off", "weekly", "immediate")
    page = await client_as_alice.get("/settings")
    assert 'name="mail_reply" value="immediate" checked' in page.text
    bad = await post_form(client_as_alice, "/settings", "/settings/notifications", {
        "mail_default": "daily", "timezone": "Mond/Krater"})
    assert bad.status_code == 422
    assert "Bitte geben Sie eine Zeitzone wie Europe/Berlin an." in bad.text
    assert 'value="Mond/Krater"' in bad.text
    assert (await _modes(ctx, alice))["default"] == "weekly"  # unchanged


async def test_get_shows_a_button_and_changes_nothing_post_switches_off(
        client_for: object, ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    browser = await client_for()  # type: ignore[operator]
    link = await _link(ctx, anna)
    for _ in range(2):
        page = await browser.get(link)
        assert page.status_code == 200
        assert "keine Benachrichtigungen mehr per E-Mail" in page.text
        assert f'action="{link}"' in page.text
    assert (await _modes(ctx, anna))["default"] == "daily"
    # What a mail program sends (RFC 8058): no session, no CSRF token.
    done = await browser.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "Sie erhalten keine Benachrichtigungen mehr per E-Mail." in done.text
    assert set((await _modes(ctx, anna)).values()) == {"off"}


async def test_one_type_can_be_switched_off_and_forged_links_are_refused(
        client_for: object, ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    browser = await client_for()  # type: ignore[operator]
    link = await _link(ctx, anna, "like")
    done = await browser.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "keine E-Mails dieser Art mehr" in done.text
    modes = await _modes(ctx, anna)
    assert modes["like"] == "off" and modes["reply"] == "daily"
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    for bad in (forged, "/unsubscribe/1.all.x", "/unsubscribe/999.all." + "A" * 24):
        for method in ("GET", "POST"):
            answer = await browser.request(method, bad)
            assert answer.status_code == 404, (method, bad)
            assert "Dieser Abmeldelink ist ungültig" in answer.text
    async with ctx.pool.acquire() as conn:
        settings = await store.get_settings(conn, anna.account.id)
    assert settings is not None and settings.modes == {"like": "off"}
