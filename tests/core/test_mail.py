"""Outgoing mail: the SMTP settings, the templates, and the mail outbox queue sending to a
real SMTP server on loopback (aiosmtpd) or, without one, writing .eml files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from fedi.core.config import ConfigError, Settings, SmtpTarget, parse_smtp_url
from fedi.core.context import Context
from fedi.core.mail import enqueue_mail, mail_language, render_mail
from fedi.core.mail_send import MailQueue
from fedi.core.queue import Worker
from fedi.worker import build_queues
from storage import mail as mail_store
from storage.mail import MailState
from tests.conftest import make_settings
from tests.support.smtp import SmtpServer

VALUES = {"name": "Anna <Amt>", "username": "anna",
          "link": "http://127.0.0.1:8000/confirm/abc_DEF-123"}


# -- settings --------------------------------------------------------------------------------

def test_smtp_urls_choose_the_transport_security() -> None:
    assert parse_smtp_url("") is None
    assert parse_smtp_url("smtp://user:p%40ss@mail.example.de:587") == SmtpTarget(
        "mail.example.de", 587, "starttls", "user", "p@ss")
    assert parse_smtp_url("smtps://u:p@mail.example.de") == SmtpTarget(
        "mail.example.de", 465, "tls", "u", "p")
    assert parse_smtp_url("smtp://127.0.0.1:2525") == SmtpTarget("127.0.0.1", 2525, "none")
    assert parse_smtp_url("smtp://localhost:2525?starttls=yes").tls == "starttls"  # type: ignore[union-attr]


@pytest.mark.parametrize("url", ["smtp://mail.example.de:25?starttls=no", "http://x.de",
                                 "smtp://", "smtp://h.de:99999"])
def test_plain_smtp_to_another_host_and_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="FEDI_SMTP_URL"):
        parse_smtp_url(url)


def test_settings_read_the_mail_variables() -> None:
    settings = Settings.from_env({"FEDI_SMTP_URL": "smtp://127.0.0.1:1025",
                                  "FEDI_MAIL_FROM": "forum@musterstadt.de"})
    assert settings.smtp == SmtpTarget("127.0.0.1", 1025, "none")
    assert settings.mail_from == "forum@musterstadt.de"
    default = Settings.from_env({"FEDI_BASE_URL": "https://forum.musterstadt.de"})
    assert default.smtp is None and default.mail_from == "noreply@forum.musterstadt.de"
    with pytest.raises(ConfigError, match="FEDI_MAIL_FROM"):
        Settings.from_env({"FEDI_MAIL_FROM": "kein-absender"})


# -- templates -------------------------------------------------------------------------------

def _ctx(pool: asyncpg.Pool | None = None, **settings: object) -> Context:
    return Context(make_settings(**settings), pool, httpx.AsyncClient())  # type: ignore[arg-type]


@pytest.mark.parametrize(("lang", "subject", "settings_text"), [
    ("de", "Bitte bestätigen Sie Ihre E-Mail-Adresse bei Teststadt", "Ihre Einstellungen"),
    ("en", "Please confirm your e-mail address at Teststadt", "Your settings"),
])
def test_a_mail_has_a_subject_text_and_html_with_the_instance_and_the_settings_link(
        lang: str, subject: str, settings_text: str) -> None:
    mail = render_mail(_ctx(), "confirm_email", lang, VALUES)
    assert mail.subject == subject
    for body in (mail.text, mail.html):
        assert VALUES["link"] in body
        assert "Teststadt" in body
        assert "http://127.0.0.1:8000/settings" in body
        assert settings_text in body
    # Values are escaped in the HTML part, as they are in the text.
    assert "Anna <Amt>" in mail.text
    assert "Anna &lt;Amt&gt;" in mail.html and "<Amt>" not in mail.html


def test_the_language_follows_the_account_and_defaults_to_german() -> None:
    class Person:
        def __init__(self, **fields: object) -> None:
            self.__dict__.update(fields)

    assert mail_language(Person(locale=None)) == "de"
    assert mail_language(Person(locale="en")) == "en"
    assert mail_language(Person(locale="fr")) == "de"
    assert mail_language(Person(language="en", locale="de")) == "en"


# -- the queue -------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def _queue_one(ctx: Context, to: str = "anna@example.org") -> int:
    async with ctx.pool.acquire() as conn, conn.transaction():
        await enqueue_mail(conn, ctx, to=to, template="confirm_email", lang="de",
                           values=VALUES)
        return int(await conn.fetchval("SELECT max(id) FROM mail_outbox"))


async def _run(ctx: Context, clock: Clock) -> int:
    return await Worker(ctx.pool, [MailQueue(ctx, clock=clock)], concurrency=2).run_once()


async def test_every_worker_runs_the_mail_queue(pool: asyncpg.Pool) -> None:
    assert any(isinstance(q, MailQueue) for q in build_queues(_ctx(pool)))


async def test_a_queued_mail_reaches_a_real_smtp_server_once(
        pool: asyncpg.Pool, smtp: SmtpServer) -> None:
    smtp.start()
    ctx = _ctx(pool, smtp=parse_smtp_url(smtp.url), mail_from="forum@teststadt.de")
    mail_id = await _queue_one(ctx)
    clock = Clock()
    assert await _run(ctx, clock) == 1
    (received,) = await smtp.wait_for(1)
    assert received.sender == "forum@teststadt.de"
    assert received.recipients == ["anna@example.org"]
    message = received.message
    assert message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse bei Teststadt"
    assert message["From"] == "Teststadt <forum@teststadt.de>"
    assert message["Content-Language"] == "de"
    assert VALUES["link"] in received.text and VALUES["link"] in received.html
    async with pool.acquire() as conn:
        row = await mail_store.get(conn, mail_id)
    assert row is not None and row.state == MailState.SENT and row.message is None
    clock.now += timedelta(days=3)
    assert await _run(ctx, clock) == 0
    assert len(smtp.inbox) == 1


async def test_a_mail_queued_while_the_server_is_down_arrives_once_when_it_is_up(
        pool: asyncpg.Pool, smtp: SmtpServer) -> None:
    ctx = _ctx(pool, smtp=parse_smtp_url(smtp.url))
    mail_id = await _queue_one(ctx)
    clock = Clock()
    assert await _run(ctx, clock) == 1  # tried: nobody listens
    async with pool.acquire() as conn:
        row = await mail_store.get(conn, mail_id)
    assert row is not None and row.state == MailState.QUEUED and row.attempts == 1
    assert row.message is not None and row.last_error
    assert row.next_attempt_at > clock.now + timedelta(seconds=50)
    assert await _run(ctx, clock) == 0  # not due yet
    smtp.start()
    clock.now += timedelta(minutes=2)
    assert await _run(ctx, clock) == 1
    clock.now += timedelta(days=3)
    assert await _run(ctx, clock) == 0
    (received,) = await smtp.wait_for(1)
    assert received.recipients == ["anna@example.org"]
    async with pool.acquire() as conn:
        row = await mail_store.get(conn, mail_id)
    assert row is not None and row.state == MailState.SENT and row.attempts == 2


async def test_a_rolled_back_transaction_sends_no_mail(pool: asyncpg.Pool) -> None:
    ctx = _ctx(pool)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await enqueue_mail(conn, ctx, to="anna@example.org", template="confirm_email",
                               lang="en", values=VALUES)
            raise RuntimeError("the caller's work failed")
    assert await pool.fetchval("SELECT count(*) FROM mail_outbox") == 0


async def test_a_header_injection_in_the_address_is_refused(pool: asyncpg.Pool) -> None:
    ctx = _ctx(pool)
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="address"):
            await enqueue_mail(conn, ctx, to="a@example.org\r\nBcc: b@example.org",
                               template="confirm_email", lang="de", values=VALUES)


async def test_without_a_mail_server_the_mail_is_an_eml_file_and_its_link_is_logged(
        pool: asyncpg.Pool, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ctx = _ctx(pool, data_dir=tmp_path)
    mail_id = await _queue_one(ctx)
    with caplog.at_level(logging.INFO, logger="fedi.core.mail"):
        assert await _run(ctx, Clock()) == 1
    (eml,) = (tmp_path / "mail").glob("*.eml")
    assert eml.name == f"{mail_id:08d}.eml"
    assert b"Subject:" in eml.read_bytes()
    assert VALUES["link"] in caplog.text
    assert "Bitte bestätigen Sie Ihre E-Mail-Adresse bei Teststadt" in caplog.text
    async with pool.acquire() as conn:
        row = await mail_store.get(conn, mail_id)
    assert row is not None and row.state == MailState.SENT
