"""Sessions, CSRF, rate limits, CSP and escaping of the web forum."""

from __future__ import annotations

from typing import Any

import httpx

from fedi.core.context import Context
from fedi.core.ratelimit import RateLimiter
from fedi.forum import posts as post_service
from tests.conftest import make_settings
from tests.support.helpers import User
from tests.web.conftest import PASSWORD, csrf_of, log_in, only_h1, post_form


def _set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [v for v in response.headers.get_list("set-cookie") if v.startswith(name + "=")]


async def test_login_sets_a_safe_session_cookie_and_logout_revokes_it(
        app_client: httpx.AsyncClient, ctx: Context, alice: User) -> None:
    response = await post_form(app_client, "/login", "/login",
                               {"username": "alice", "password": PASSWORD, "next": "/search"})
    assert response.status_code == 303
    assert response.headers["location"] == "/search"
    [cookie] = _set_cookie_headers(response, "demisa_session")
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # http base URL: a Secure cookie would never come back
    token = app_client.cookies["demisa_session"]
    async with ctx.pool.acquire() as conn:
        kind = await conn.fetchval("SELECT kind FROM api_tokens ORDER BY id DESC LIMIT 1")
    assert kind == "session"
    page = await app_client.get("/")
    assert 'href="/users/alice"' in page.text
    out = await post_form(app_client, "/", "/logout", {})
    assert out.status_code == 303
    # The token is revoked on the server, not only forgotten by the browser.
    app_client.cookies.set("demisa_session", token)
    again = await app_client.get("/")
    assert 'href="/users/alice"' not in again.text
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM api_tokens WHERE kind = 'session'") == 0


async def test_cookies_are_secure_on_https(dsn: str) -> None:
    from fedi.app import create_app

    settings = make_settings(base_url="https://forum.example.de")
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="https://forum.example.de") as client:
            page = await client.get("/login")
            [cookie] = _set_cookie_headers(page, "demisa_csrf")
            assert "secure" in cookie.lower() and "httponly" in cookie.lower()


async def test_forms_without_csrf_token_are_refused(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    await log_in(app_client, "alice")
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")
    attempts = [
        ("/login", {"username": "alice", "password": PASSWORD}),
        ("/signup", {"username": "mallory", "email": "m@example.org", "password": PASSWORD}),
        ("/groups/breitband/new", {"title": "Spam", "content": "Spam"}),
        (f"/posts/{thread.id}/reply", {"content": "Spam"}),
        (f"/posts/{thread.id}/like", {}),
        (f"/posts/{thread.id}/delete", {}),
        ("/follow", {"group": "breitband", "action": "follow"}),
        ("/logout", {}),
    ]
    for action, data in attempts:
        response = await app_client.post(action, data=data)
        assert response.status_code == 403, action
        assert "Formular ist abgelaufen" in response.text
        wrong = await app_client.post(action, data={**data, "csrf_token": "x" * 43})
        assert wrong.status_code == 403, action
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM posts") == 1
        assert await conn.fetchval("SELECT count(*) FROM likes") == 0


async def test_login_is_rate_limited(app_client: httpx.AsyncClient, alice: User) -> None:
    app_client.app.state.web_limits["login"] = RateLimiter("login", 3, 300)  # type: ignore[attr-defined]
    page = await app_client.get("/login")
    token = csrf_of(page.text)
    statuses = []
    for _ in range(4):
        response = await app_client.post("/login", data={
            "username": "alice", "password": "wrong password!", "csrf_token": token})
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]
    assert int(response.headers["retry-after"]) > 0
    assert "Zu viele Versuche" in response.text
    # Even the right password waits now.
    response = await app_client.post("/login", data={
        "username": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429


async def test_signup_is_rate_limited(app_client: httpx.AsyncClient) -> None:
    app_client.app.state.web_limits["signup"] = RateLimiter("signup", 1, 3600)  # type: ignore[attr-defined]
    token = csrf_of((await app_client.get("/signup")).text)
    first = await app_client.post("/signup", data={
        "username": "x", "email": "not an address", "password": PASSWORD, "csrf_token": token})
    assert first.status_code == 422
    second = await app_client.post("/signup", data={
        "username": "y", "email": "y@example.org", "password": PASSWORD, "csrf_token": token})
    assert second.status_code == 429


async def test_csp_header_without_inline_scripts(app_client: httpx.AsyncClient,
                                                 group: Any) -> None:
    for path in ("/", "/login", "/signup", "/search?q=x", "/groups/breitband"):
        response = await app_client.get(path, headers={"Accept": "text/html"})
        csp = response.headers["content-security-policy"]
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
        assert directives["script-src"] == ["'self'"], path
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert directives["object-src"] == ["'none'"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text and " onclick=" not in response.text


async def test_user_content_is_escaped(app_client: httpx.AsyncClient, ctx: Context,
                                       alice: User, group: Any) -> None:
    thread = await post_service.create_thread(
        ctx, author=alice.actor, group=group, title='<script>alert("t")</script>',
        content='<script>alert("c")</script> <img src=x onerror=alert(1)> **fett**')
    for path in (f"/posts/{thread.id}", "/groups/breitband", "/users/alice"):
        text = (await app_client.get(path, headers={"Accept": "text/html"})).text
        assert "<script>alert" not in text, path
        assert "<img" not in text, path
    page = (await app_client.get(f"/posts/{thread.id}", headers={"Accept": "text/html"})).text
    assert only_h1(page) == '<script>alert("t")</script>'  # shown as text
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page
    assert "<strong>fett</strong>" in page  # the sanitised Markdown stays markup
    results = await app_client.get("/search", params={"q": "alert"})
    assert "<script>alert" not in results.text


async def test_post_headings_do_not_add_a_second_h1(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, group: Any) -> None:
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Überschriften", content="# Groß\n\nText")
    page = await app_client.get(f"/posts/{thread.id}", headers={"Accept": "text/html"})
    assert only_h1(page.text) == "Überschriften"
    assert "<h2>Groß</h2>" in page.text  # right under the h1: the next level (heading-order)
