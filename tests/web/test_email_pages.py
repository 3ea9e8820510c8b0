"""The pages behind the mails' links: confirming the address with a button (a GET never
confirms), sending the mail again, and setting a new password; mails go to a real SMTP
server on loopback."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from fedi.app import create_app
from fedi.core.config import parse_smtp_url
from fedi.core.context import Context
from fedi.core.mail_send import MailQueue
from fedi.core.queue import Worker
from storage import accounts as account_store
from tests.conftest import make_settings
from tests.support.helpers import make_group, make_user
from tests.support.smtp import Received, SmtpServer
from tests.web.conftest import PASSWORD, csrf_of, log_in, post_form

NEW_PASSWORD = "quiet meadow lantern 42"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def browser(dsn: str, smtp: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(smtp=parse_smtp_url(smtp.url))
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url,
                                     headers={"Accept-Language": "de"}) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def _ctx(client: httpx.AsyncClient) -> Context:
    ctx: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


async def _mails(client: httpx.AsyncClient, smtp: SmtpServer, count: int) -> list[Received]:
    ctx = _ctx(client)
    await Worker(ctx.pool, [MailQueue(ctx)], concurrency=1).run_once()
    return await smtp.wait_for(count)


def _text(page: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


async def _confirmed(client: httpx.AsyncClient, name: str) -> bool:
    async with _ctx(client).pool.acquire() as conn:
        account = await account_store.by_username(conn, name)
    assert account is not None
    return account.email_confirmed_at is not None


async def test_web_sign_up_mail_button_then_write(browser: httpx.AsyncClient,
                                                  smtp: SmtpServer) -> None:
    group = await make_group(_ctx(browser))
    signed_up = await post_form(browser, "/signup", "/signup", {
        "username": "clara", "email": "clara@example.org", "password": PASSWORD,
        "password_confirm": PASSWORD, "accept_terms": "yes"})
    assert signed_up.status_code == 303, signed_up.text
    assert signed_up.headers["location"] == "/confirm"
    waiting = await browser.get("/confirm")
    assert "noch nicht bestätigt" in _text(waiting) and 'action="/confirm/resend"' in waiting.text
    new_thread = f"/groups/{group.username}/new"
    refused = await browser.get(new_thread)  # the form is refused with the reason
    assert refused.status_code == 403
    assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in _text(refused)

    (mail,) = await _mails(browser, smtp, 1)
    token = mail.link("/confirm/")
    shown = await browser.get(f"/confirm/{token}")
    assert shown.status_code == 200 and f'action="/confirm/{token}"' in shown.text
    assert not await _confirmed(browser, "clara")  # opening the link confirms nothing
    missing_csrf = await browser.post(f"/confirm/{token}")
    assert missing_csrf.status_code == 403
    assert not await _confirmed(browser, "clara")
    done = await browser.post(f"/confirm/{token}", data={"csrf_token": csrf_of(shown.text)})
    assert done.status_code == 200
    assert "Ihre E-Mail-Adresse ist bestätigt" in _text(done)
    assert await _confirmed(browser, "clara")
    again = await browser.get(f"/confirm/{token}")
    assert again.status_code == 400 and "nicht gültig" in _text(again)

    posted = await post_form(browser, new_thread, new_thread,
                             {"title": "Glasfaser", "content": "Wann?"})
    assert posted.status_code == 303, posted.text


async def test_the_mail_is_sent_again_from_a_page(browser: httpx.AsyncClient,
                                                  smtp: SmtpServer) -> None:
    await post_form(browser, "/signup", "/signup", {
        "username": "clara", "email": "clara@example.org", "password": PASSWORD,
        "password_confirm": PASSWORD, "accept_terms": "yes"})
    status = await browser.get("/confirm")
    assert "noch nicht bestätigt" in _text(status)
    sent = await browser.post("/confirm/resend", data={"csrf_token": csrf_of(status.text)})
    assert sent.status_code == 200 and "neue E-Mail" in _text(sent)
    first, second = await _mails(browser, smtp, 2)
    old = await browser.get(f"/confirm/{first.link('/confirm/')}")
    assert old.status_code == 400
    new = await browser.get(f"/confirm/{second.link('/confirm/')}")
    assert new.status_code == 200


async def test_forgotten_password_from_the_log_in_page_to_a_new_one(
        browser: httpx.AsyncClient, smtp: SmtpServer) -> None:
    await make_user(_ctx(browser), "anna")
    await log_in(browser, "anna")
    login = await browser.get("/login")
    assert '<a href="/forgot">Passwort vergessen?</a>' in login.text
    unknown = await post_form(browser, "/forgot", "/forgot", {"email": "niemand@example.org"})
    known = await post_form(browser, "/forgot", "/forgot", {"email": "anna@example.org"})
    assert unknown.status_code == known.status_code == 200
    assert _text(unknown) == _text(known)  # nothing tells whether the address is known
    assert "Falls ein Konto diese E-Mail-Adresse hat" in _text(known)

    (mail,) = await _mails(browser, smtp, 1)
    assert mail.recipients == ["anna@example.org"]
    assert mail.message["Subject"] == "Neues Passwort für Teststadt"
    url = f"/reset/{mail.link('/reset/')}"
    form = await browser.get(url)
    assert form.status_code == 200
    csrf = csrf_of(form.text)
    differ = await browser.post(url, data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                           "password_confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 422 and "stimmen nicht überein" in _text(differ)
    weak = await browser.post(url, data={"csrf_token": csrf, "password": "kurz",
                                         "password_confirm": "kurz"})
    assert weak.status_code == 422
    done = await browser.post(url, data={"csrf_token": csrf, "password": NEW_PASSWORD,
                                         "password_confirm": NEW_PASSWORD})
    assert done.status_code == 200 and "überall abgemeldet" in _text(done)
    # The browser's session ended too: the start page greets a visitor.
    assert (await browser.get("/logout")).text.count('action="/logout"') == 0
    used = await browser.get(url)
    assert used.status_code == 400 and "nicht gültig" in _text(used)
    await log_in(browser, "anna", NEW_PASSWORD)
