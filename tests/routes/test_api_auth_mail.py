"""Confirming the e-mail address and resetting a password through the JSON API, with the
mails going to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from fedi.app import create_app
from fedi.core.config import parse_smtp_url
from fedi.core.context import Context
from fedi.core.mail_send import MailQueue
from fedi.core.queue import Worker
from fedi.forum.policy import Refusal
from fedi.routes import api_auth_mail_spec
from tests.conftest import make_settings
from tests.routes.test_openapi import Api
from tests.support.helpers import make_group, make_user
from tests.support.smtp import Received, SmtpServer
from tests.web.conftest import log_in

PASSWORD = "correct horse battery"
NEW_PASSWORD = "quiet meadow lantern 42"
UNCONFIRMED = Refusal("email_unconfirmed").message


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def client(dsn: str, smtp: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(smtp=parse_smtp_url(smtp.url), mail_from="forum@teststadt.de")
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


def _ctx(client: httpx.AsyncClient) -> Context:
    ctx: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def _mails(client: httpx.AsyncClient, smtp: SmtpServer, count: int) -> list[Received]:
    """Run the mail queue once; the mails the server holds, which must be ``count``."""
    ctx = _ctx(client)
    # One at a time: the mails arrive in the order they were queued.
    await Worker(ctx.pool, [MailQueue(ctx)], concurrency=1).run_once()
    return await smtp.wait_for(count)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _sign_up(client: httpx.AsyncClient, name: str = "clara") -> httpx.Response:
    return await client.post("/api/v1/accounts", json={
        "username": name, "email": f"{name}@example.org", "password": PASSWORD,
        "accept_terms": True})


async def _log_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD
                  ) -> httpx.Response:
    return await client.post("/api/v1/auth/token",
                             json={"username": name, "password": password})


async def test_sign_up_mail_confirm_then_write(client: httpx.AsyncClient,
                                               smtp: SmtpServer) -> None:
    ctx = _ctx(client)
    group = await make_group(ctx)
    bert = await make_user(ctx, "bert")
    thread = (await client.post(f"/api/v1/groups/{group.username}/threads", headers=bert.headers,
                                json={"title": "Glasfaser", "content": "Wann?"})).json()
    signed_up = await _sign_up(client)
    assert signed_up.status_code == 201, signed_up.text
    assert signed_up.json()["status"] == "unconfirmed"
    login = await _log_in(client, "clara")  # log-in works before confirming
    assert login.status_code == 200, login.text
    clara = _bearer(login.json()["token"])

    refused = {"error": "email_unconfirmed", "message": UNCONFIRMED}
    attempts = [
        ("post", f"/api/v1/groups/{group.username}/threads", {"title": "T", "content": "x"}),
        ("post", f"/api/v1/posts/{thread['id']}/replies", {"content": "Antwort"}),
        ("post", f"/api/v1/posts/{thread['id']}/like", None),
        ("post", f"/api/v1/groups/{group.username}/follow", None),
        ("post", "/api/v1/reports", {"post_id": thread["id"], "reason": "Werbung"}),
    ]
    for method, url, body in attempts:
        answer = await client.request(method, url, headers=clara, json=body)
        assert (answer.status_code, answer.json()) == (403, refused), url

    (mail,) = await _mails(client, smtp, 1)
    assert mail.recipients == ["clara@example.org"]
    assert mail.message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse bei Teststadt"
    assert "http://127.0.0.1:8000/confirm/" in mail.text
    token = mail.link("/confirm/")
    assert (await client.post("/api/v1/auth/confirm", json={"token": token})).status_code == 204
    again = await client.post("/api/v1/auth/confirm", json={"token": token})
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"

    for method, url, body in attempts:
        answer = await client.request(method, url, headers=clara, json=body)
        assert answer.status_code in (200, 201, 204), (url, answer.text)
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT token_hash FROM account_tokens") != token.encode()
        assert await conn.fetchval(
            "SELECT email_confirmed_at IS NOT NULL FROM accounts WHERE username = 'clara'")


async def test_the_mail_can_be_sent_again_and_only_the_newest_link_works(
        client: httpx.AsyncClient, smtp: SmtpServer) -> None:
    await _sign_up(client)
    clara = _bearer((await _log_in(client, "clara")).json()["token"])
    assert (await client.post("/api/v1/auth/confirm/resend")).status_code == 401
    assert (await client.post("/api/v1/auth/confirm/resend", headers=clara)).status_code == 204
    first, second = await _mails(client, smtp, 2)
    old = await client.post("/api/v1/auth/confirm", json={"token": first.link("/confirm/")})
    assert old.status_code == 400
    new = await client.post("/api/v1/auth/confirm", json={"token": second.link("/confirm/")})
    assert new.status_code == 204
    done = await client.post("/api/v1/auth/confirm/resend", headers=clara)
    assert (done.status_code, done.json()["error"]) == (409, "already_confirmed")


async def test_sending_again_is_rate_limited(client: httpx.AsyncClient) -> None:
    await _sign_up(client)
    clara = _bearer((await _log_in(client, "clara")).json()["token"])
    codes = [(await client.post("/api/v1/auth/confirm/resend", headers=clara)).status_code
             for _ in range(4)]
    assert codes == [204, 204, 204, 429]


async def test_confirmation_can_be_turned_off_by_an_admin(client: httpx.AsyncClient) -> None:
    ctx = _ctx(client)
    admin = await make_user(ctx, "verwalterin", admin=True)
    group = await make_group(ctx)
    url = "/api/v1/admin/settings/email-confirmation"
    assert (await client.get(url, headers=admin.headers)).json() == {"mode": "required"}
    await _sign_up(client)
    clara = _bearer((await _log_in(client, "clara")).json()["token"])
    assert (await client.get(url, headers=clara)).status_code == 403
    bad = await client.put(url, headers=admin.headers, json={"mode": "sometimes"})
    assert bad.status_code == 422
    assert (await client.put(url, headers=admin.headers, json={"mode": "off"})).json() == \
        {"mode": "off"}
    answer = await client.post(f"/api/v1/groups/{group.username}/threads", headers=clara,
                               json={"title": "T", "content": "x"})
    assert answer.status_code == 201, answer.text


async def test_accounts_made_otherwise_start_confirmed(client: httpx.AsyncClient) -> None:
    ctx = _ctx(client)
    anna = await make_user(ctx, "anna")
    group = await make_group(ctx)
    answer = await client.post(f"/api/v1/groups/{group.username}/threads",
                               headers=anna.headers, json={"title": "T", "content": "x"})
    assert answer.status_code == 201
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM mail_outbox") == 0


async def test_bad_tokens_are_refused_with_a_sentence(client: httpx.AsyncClient) -> None:
    for body in ({"token": "nope"}, {"token": "x" * 300}):
        answer = await client.post("/api/v1/auth/confirm", json=body)
        assert answer.status_code == 400 and "not valid" in answer.json()["message"]
        answer = await client.post("/api/v1/auth/password-reset/confirm",
                                   json={**body, "password": NEW_PASSWORD})
        assert answer.status_code == 400 and "not valid" in answer.json()["message"]
    missing = await client.post("/api/v1/auth/confirm", json={})
    assert (missing.status_code, missing.json()["field"]) == (422, "token")


# -- password reset --------------------------------------------------------------------------

async def test_reset_flow_sets_the_password_and_ends_every_session_and_token(
        client: httpx.AsyncClient, smtp: SmtpServer) -> None:
    ctx = _ctx(client)
    anna = await make_user(ctx, "anna")
    api_token = (await _log_in(client, "anna")).json()["token"]
    await log_in(client, "anna")  # a web session

    unknown = await client.post("/api/v1/auth/password-reset",
                                json={"email": "nobody@example.org"})
    known = await client.post("/api/v1/auth/password-reset", json={"email": "ANNA@example.org"})
    # The same answer: nothing tells whether an account has the address.
    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert known.status_code == 202 and "one hour" in known.json()["message"]
    (mail,) = await _mails(client, smtp, 1)
    assert mail.recipients == ["anna@example.org"]
    token = mail.link("/reset/")

    weak = await client.post("/api/v1/auth/password-reset/confirm",
                             json={"token": token, "password": "password123"})
    assert (weak.status_code, weak.json()["field"]) == (422, "password")
    done = await client.post("/api/v1/auth/password-reset/confirm",
                             json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    again = await client.post("/api/v1/auth/password-reset/confirm",
                              json={"token": token, "password": NEW_PASSWORD + "x"})
    assert again.status_code == 400

    assert (await _log_in(client, "anna")).status_code == 401
    assert (await _log_in(client, "anna", NEW_PASSWORD)).status_code == 200
    for token_value in (api_token, anna.token):
        answer = await client.get("/api/v1/auth/tokens", headers=_bearer(token_value))
        assert answer.status_code == 401
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM api_tokens WHERE kind = 'session'") == 0


async def test_reset_requests_are_rate_limited_without_telling_who_exists(
        client: httpx.AsyncClient, smtp: SmtpServer) -> None:
    await make_user(_ctx(client), "anna")
    codes = [(await client.post("/api/v1/auth/password-reset",
                                json={"email": "anna@example.org"})).status_code
             for _ in range(5)]
    assert codes == [202] * 5  # per address: mails stop after 3, the answer does not
    async with _ctx(client).pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM mail_outbox") == 3
    codes = [(await client.post("/api/v1/auth/password-reset",
                                json={"email": f"x{i}@example.org"})).status_code
             for i in range(6)]
    assert codes == [202] * 5 + [429]  # per client address: 10 an hour


async def test_the_answers_match_the_openapi_document(client: httpx.AsyncClient,
                                                      smtp: SmtpServer) -> None:
    api = Api(client)
    ctx = _ctx(client)
    admin = await make_user(ctx, "verwalterin", admin=True)
    await make_user(ctx, "anna")
    url = "/api/v1/admin/settings/email-confirmation"
    await api("GET", url, admin, status=200)
    await api("PUT", url, admin, status=200, json={"mode": "required"})
    await api("PUT", url, admin, status=422, json={"mode": "nie"})
    await api("POST", "/api/v1/accounts", status=201, json={
        "username": "clara", "email": "clara@example.org", "password": PASSWORD,
        "accept_terms": True})
    clara = (await _log_in(client, "clara")).json()["token"]
    await api("GET", url, clara, status=403)
    await api("POST", "/api/v1/auth/confirm/resend", clara, status=204)
    first, second = await _mails(client, smtp, 2)
    await api("POST", "/api/v1/auth/confirm", status=400,
              json={"token": first.link("/confirm/")})
    await api("POST", "/api/v1/auth/confirm", status=422, json={"token": 5})
    await api("POST", "/api/v1/auth/confirm", status=204,
              json={"token": second.link("/confirm/")})
    await api("POST", "/api/v1/auth/confirm/resend", clara, status=409)
    await api("POST", "/api/v1/auth/password-reset", status=202,
              json={"email": "anna@example.org"})
    await api("POST", "/api/v1/auth/password-reset", status=422, json={})
    (*_, reset) = await _mails(client, smtp, 3)
    token = reset.link("/reset/")
    await api("POST", "/api/v1/auth/password-reset/confirm", status=422,
              json={"token": token, "password": "kurz"})
    await api("POST", "/api/v1/auth/password-reset/confirm", status=204,
              json={"token": token, "password": NEW_PASSWORD})
    await api("POST", "/api/v1/auth/password-reset/confirm", status=400,
              json={"token": token, "password": NEW_PASSWORD})
    api.assert_covers(api_auth_mail_spec)


async def test_email_change_mails_reach_both_addresses_over_smtp(
        client: httpx.AsyncClient, smtp: SmtpServer) -> None:
    """The e-mail change through a real SMTP server: the link goes to the new address, a
    notice to the old one; the link makes the change once."""
    anna = await make_user(_ctx(client), "anna")
    r = await client.post("/api/v1/me/email", headers=anna.headers, json={
        "current_password": PASSWORD, "email": "anna@musterstadt.de"})
    assert r.status_code == 202, r.text
    mails = {tuple(m.recipients): m for m in await _mails(client, smtp, 2)}
    assert set(mails) == {("anna@musterstadt.de",), ("anna@example.org",)}
    notice = mails[("anna@example.org",)].text
    assert "anna@musterstadt.de" in notice
    confirm = mails[("anna@musterstadt.de",)].text
    token = confirm[confirm.index("/email/confirm/") + len("/email/confirm/"):].split()[0]
    me = await client.get("/api/v1/me", headers=anna.headers)
    assert me.json()["email"] == "anna@example.org"  # nothing changes before the link
    for status in (204, 400):  # single use
        r = await client.post("/api/v1/auth/email-change/confirm", json={"token": token})
        assert r.status_code == status, r.text
    me = await client.get("/api/v1/me", headers=anna.headers)
    assert me.json()["email"] == "anna@musterstadt.de"
