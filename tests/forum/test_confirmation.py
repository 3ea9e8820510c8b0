"""The confirmation and reset services on the real database: who starts confirmed, what
the policy refuses, the tokens (hashed, single use, expiring), and the admin switch."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import httpx
import pytest

from fedi.cli import main
from fedi.core.context import Context
from fedi.core.errors import Conflict, ValidationFailed
from fedi.demo import seed_demo
from fedi.forum import accounts, confirmation, officials, password_reset
from fedi.forum.policy import Action, refusal
from storage import accounts as account_store
from storage import actors as actor_store
from tests.conftest import make_settings
from tests.support.helpers import make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def _register(ctx: Context, name: str = "clara") -> accounts.Account:
    async with ctx.pool.acquire() as conn:
        return await accounts.register(conn, ctx, username=name,
                                       email=f"{name}@example.org", password=PASSWORD)


def _token_in(message: bytes, path: str) -> str:
    text = message.decode().replace("=\r\n", "")
    start = text.index(path) + len(path)
    return text[start:].split()[0].split("<")[0].split('"')[0]


async def _latest_token(ctx: Context, path: str) -> str:
    async with ctx.pool.acquire() as conn:
        message = await conn.fetchval("SELECT message FROM mail_outbox ORDER BY id DESC LIMIT 1")
    return _token_in(message, path)


async def test_the_public_sign_up_starts_unconfirmed_and_queues_the_mail(ctx: Context) -> None:
    account = await _register(ctx)
    assert account.status == "active" and account.email_confirmed_at is None
    assert confirmation.shown_status(account) == "unconfirmed"
    async with ctx.pool.acquire() as conn:
        mails = await conn.fetch("SELECT recipient, subject FROM mail_outbox")
        stored = await conn.fetchval("SELECT token_hash FROM account_tokens")
    assert [(m["recipient"], m["subject"]) for m in mails] == [
        ("clara@example.org", "Bitte bestätigen Sie Ihre E-Mail-Adresse bei Teststadt")]
    token = await _latest_token(ctx, "/confirm/")
    assert stored == hashlib.sha256(token.encode()).digest()  # only the hash is kept


async def test_the_policy_refuses_every_action_until_confirmed(ctx: Context) -> None:
    account = await _register(ctx)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
        assert actor is not None
        for action in Action:
            found = await refusal(conn, action, actor)
            assert found is not None and found.code == "email_unconfirmed", action
            assert found.status == 403
            assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in found.text("de")
        await confirmation.confirm(conn, await _latest_token(ctx, "/confirm/"))
        for action in Action:
            # A reply needs a thread, a registration an event: no other reason.
            found = await refusal(conn, action, actor)
            assert found is None or found.code in {"thread_gone", "event_gone"}, action


async def test_turned_off_the_policy_lets_unconfirmed_accounts_write(ctx: Context) -> None:
    account = await _register(ctx)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, account.actor_id)
        assert actor is not None
        assert await confirmation.set_confirmation_mode(conn, "off") == "off"
        assert await refusal(conn, Action.START_THREAD, actor) is None
        with pytest.raises(ValidationFailed):
            await confirmation.set_confirmation_mode(conn, "maybe")


async def test_tokens_expire_after_48_hours(ctx: Context) -> None:
    await _register(ctx)
    token = await _latest_token(ctx, "/confirm/")
    async with ctx.pool.acquire() as conn:
        expires = await conn.fetchval("SELECT expires_at - created_at FROM account_tokens")
        assert timedelta(hours=47, minutes=59) < expires <= timedelta(hours=48, seconds=1)
        await conn.execute("UPDATE account_tokens SET expires_at = now() - interval '1 s'")
        with pytest.raises(confirmation.InvalidToken):
            await confirmation.confirm(conn, token)


async def test_a_token_for_an_old_address_confirms_nothing(ctx: Context) -> None:
    account = await _register(ctx)
    token = await _latest_token(ctx, "/confirm/")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE accounts SET email = 'neu@example.org' WHERE id = $1",
                           account.id)
        with pytest.raises(confirmation.InvalidToken):
            await confirmation.confirm(conn, token)
        fresh = await account_store.get(conn, account.id)
    assert fresh is not None and fresh.email_confirmed_at is None


async def test_accounts_of_admins_tests_and_the_demo_start_confirmed(
        ctx: Context, dsn: str, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch,
        new_database: Callable[[], Awaitable[str]]) -> None:
    user = await make_user(ctx, "anna")  # the service default (admin API, tests)
    assert user.account.email_confirmed_at is not None
    with pytest.raises(Conflict):
        async with ctx.pool.acquire() as conn:
            await confirmation.send_confirmation(conn, ctx, user.account)
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("FEDI_LOG_LEVEL", "WARNING")
    code = await asyncio.to_thread(main, ["user", "create", "berta", "--email",
                                          "berta@example.org", "--password", PASSWORD])
    assert code == 0
    rows = await pool.fetch("SELECT username, email_confirmed_at FROM accounts")
    assert {r["username"] for r in rows} == {"anna", "berta"}
    assert all(r["email_confirmed_at"] is not None for r in rows)
    assert await pool.fetchval("SELECT count(*) FROM mail_outbox") == 0
    demo = await new_database()  # the demo seeds an empty instance only
    await seed_demo(make_settings(), demo)
    conn = await asyncpg.connect(demo)
    try:
        assert await conn.fetchval("SELECT email_confirmed_at IS NOT NULL FROM accounts"
                                   " WHERE username = 'verwaltung'")
    finally:
        await conn.close()


async def test_a_reset_needs_a_valid_password_and_works_once(ctx: Context) -> None:
    anna = await make_user(ctx, "anna")
    async with ctx.pool.acquire() as conn:
        assert not await password_reset.request_reset(conn, ctx, "nobody@example.org")
        assert await password_reset.request_reset(conn, ctx, "Anna@Example.org")
        token = await _latest_token(ctx, "/reset/")
        expires = await conn.fetchval(
            "SELECT expires_at - created_at FROM account_tokens WHERE purpose = $1",
            "reset_password")
        assert expires <= timedelta(hours=1, seconds=1)
        with pytest.raises(ValidationFailed):
            await password_reset.reset_password(conn, token, "anna")  # the policy applies
        assert await password_reset.token_works(conn, token)  # not used up by a refusal
        await password_reset.reset_password(conn, token, "quiet meadow lantern 42")
        with pytest.raises(confirmation.InvalidToken):
            await password_reset.reset_password(conn, token, "another fine password 7")
        assert await conn.fetchval("SELECT count(*) FROM api_tokens WHERE account_id = $1",
                                   anna.account.id) == 0
        with pytest.raises(accounts.InvalidCredentials):
            await accounts.authenticate(conn, "anna", PASSWORD)
        assert (await accounts.authenticate(conn, "anna", "quiet meadow lantern 42")).id == \
            anna.account.id


async def test_confirming_an_address_under_an_official_domain_makes_the_account_official(
        ctx: Context) -> None:
    """FEDI_OFFICIAL_EMAIL_DOMAINS (as CONSUL does): the confirmation is what proves the
    address, so it is where the badge is given; other domains get none."""
    official = dataclasses.replace(ctx, settings=dataclasses.replace(
        ctx.settings, official_email_domains=("musterstadt.de",)))
    async with ctx.pool.acquire() as conn:
        mayor = await accounts.register(conn, official, username="mayor",
                                        email="buergermeisterin@musterstadt.de",
                                        password=PASSWORD)
        citizen = await accounts.register(conn, official, username="citizen",
                                          email="citizen@example.org", password=PASSWORD)
        tokens = {}
        for account in (mayor, citizen):
            message = await conn.fetchval(
                "SELECT message FROM mail_outbox WHERE recipient = $1", account.email)
            tokens[account.username] = _token_in(message, "/confirm/")
        for account in (mayor, citizen):
            await officials.confirm_address(conn, official, tokens[account.username])
        positions = {a.username: (await actor_store.get(conn, a.actor_id)).official_position
                     for a in (mayor, citizen)}
    assert positions == {"mayor": "Offizielles Konto (musterstadt.de)", "citizen": None}
