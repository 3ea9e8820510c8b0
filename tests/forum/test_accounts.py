"""Account services and storage on a real database: sign-up, passwords, tokens, modes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.errors import AppError, Conflict, Forbidden, Unauthorized, ValidationFailed
from fedi.forum import accounts as service
from storage import accounts as store
from tests.conftest import make_settings

PASSWORD = "correct horse battery"


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        yield Context(settings=make_settings(), pool=pool, http=http)


async def _create(ctx: Context, username: str = "alice", **kw: str) -> service.Account:
    values = {"email": f"{username}@example.org", "password": PASSWORD, **kw}
    async with ctx.pool.acquire() as conn:
        return await service.create_account(conn, ctx, username=username, **values)


async def test_create_account_makes_a_person_with_keys_and_argon2id_hash(ctx: Context) -> None:
    account = await _create(ctx, "Alice", display_name="  Änne Müller ✨ ")
    assert account.username == "alice"
    assert account.display_name == "Änne Müller ✨"
    assert account.role == "user" and account.status == "active"
    assert account.ap_id == "http://127.0.0.1:8000/users/alice"
    async with ctx.pool.acquire() as conn:
        actor = await conn.fetchrow("SELECT * FROM actors WHERE id = $1", account.actor_id)
        assert actor["type"] == "Person" and actor["local"]
        assert actor["name"] == "Änne Müller ✨"
        assert await conn.fetchval(
            "SELECT count(*) FROM actor_keys WHERE actor_id = $1", account.actor_id) == 1
        stored = await conn.fetchval("SELECT password_hash FROM accounts WHERE id = $1",
                                     account.id)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_email_is_nowhere_in_the_actor(ctx: Context) -> None:
    account = await _create(ctx, "bob", email="Bob.Secret@Example.org")
    async with ctx.pool.acquire() as conn:
        # Every column of the actor row, raw JSON included, rendered as text.
        actor_text = await conn.fetchval(
            "SELECT row_to_json(a)::text FROM actors a WHERE id = $1", account.actor_id)
        keys_text = await conn.fetchval(
            "SELECT row_to_json(k)::text FROM actor_keys k WHERE actor_id = $1",
            account.actor_id)
    assert "bob" in actor_text  # the query did find the row
    assert "secret" not in actor_text.lower()
    assert "secret" not in keys_text.lower()
    assert "email" not in repr(account) and "argon2" not in repr(account)


async def test_empty_display_name_falls_back_to_username(ctx: Context) -> None:
    account = await _create(ctx, "carol", display_name="   ")
    assert account.display_name == "carol"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"username": "admin"}, "username"),
        ({"username": ""}, "username"),
        ({"username": "x" * 31}, "username"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": ""}, "email"),
        ({"password": "short9char"[:9]}, "password"),
        ({"password": "p" * 1025}, "password"),
        ({"display_name": "d" * 101}, "display_name"),
        ({"display_name": "two\nlines"}, "display_name"),
    ],
)
async def test_create_account_rejects_bad_input(
    ctx: Context, overrides: dict[str, str], field: str,
) -> None:
    values = {"username": "dave", "email": "dave@example.org", "password": PASSWORD,
              **overrides}
    async with ctx.pool.acquire() as conn:
        with pytest.raises(ValidationFailed) as info:
            await service.create_account(conn, ctx, **values)
        assert await conn.fetchval("SELECT count(*) FROM accounts") == 0
    assert info.value.field == field


async def test_password_limits_are_inclusive(ctx: Context) -> None:
    await _create(ctx, "tenchars", password="Wb7#kp2Lq9")
    await _create(ctx, "longpass", password=("Glasfaser für Musterstadt, 2026! " * 32)[:1024])


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("gerda.maier", "gm@example.org", "Gerda.Maier", service.REFUSED_AS_NAME),
        ("gerda", "Gerda.Maier@Example.org", "gerda.maier@example.org",
         service.REFUSED_AS_NAME),
        ("gerda", "gerda.maier@example.org", "gerda.maier", service.REFUSED_AS_NAME),
        ("gerda", "gerda@example.org", "a" * 12, service.REFUSED_AS_REPEATED),
        ("gerda", "gerda@example.org", "\u00e4" * 40, service.REFUSED_AS_REPEATED),
        ("gerda", "gerda@example.org", "password123", service.REFUSED_AS_GUESSABLE),
        ("gerda", "gerda@example.org", "1234567890", service.REFUSED_AS_GUESSABLE),
        ("gerda", "gerda@example.org", "qwertzuiop", service.REFUSED_AS_GUESSABLE),
        ("gerda", "gerda@example.org", "Passwort123", service.REFUSED_AS_GUESSABLE),
        ("gerda", "gerda@example.org", "iloveyou12", service.REFUSED_AS_GUESSABLE),
        ("gerda", "gerda@example.org", "gerda12345", service.REFUSED_AS_GUESSABLE),
        ("gerda", "gerda@example.org", "abababababab", service.REFUSED_AS_GUESSABLE),
    ],
)
async def test_guessable_passwords_are_refused_with_advice(
    ctx: Context, username: str, email: str, password: str, message: str,
) -> None:
    async with ctx.pool.acquire() as conn:
        with pytest.raises(ValidationFailed) as info:
            await service.create_account(conn, ctx, username=username, email=email,
                                         password=password)
        assert await conn.fetchval("SELECT count(*) FROM accounts") == 0
    assert info.value.field == "password"
    assert info.value.message == message
    assert "please choose" in message


def test_password_strength_is_judged_on_a_bounded_prefix() -> None:
    # zxcvbn's cost grows steeply with length; a long password is judged on its start, so
    # a sign-up cannot buy seconds of CPU, and a weak start is still refused.
    strong = "Glasfaser für Musterstadt! " + "x" * 900
    assert service.check_password(strong, username="gerda", email="g@example.org") == strong
    with pytest.raises(ValidationFailed):
        service.check_password("password" * 100, username="gerda", email="g@example.org")


async def test_email_is_unique_ignoring_case(ctx: Context) -> None:
    await _create(ctx, "erin", email="Erin@Example.org")
    with pytest.raises(Conflict) as info:
        await _create(ctx, "erin2", email="erin@EXAMPLE.org")
    assert info.value.field == "email"
    async with ctx.pool.acquire() as conn:
        # The failed sign-up left no half-made actor behind.
        assert await conn.fetchval("SELECT count(*) FROM actors WHERE username = 'erin2'") == 0


async def test_username_shares_the_namespace_with_groups(ctx: Context) -> None:
    async with ctx.pool.acquire() as conn:
        await create_local_actor(conn, ctx, type_="Group", username="radwege", name="Radwege")
    with pytest.raises(Conflict) as info:
        await _create(ctx, "Radwege")
    assert info.value.field == "username"
    await _create(ctx, "frank")
    with pytest.raises(Conflict) as again:
        await _create(ctx, "FRANK", email="other@example.org")
    assert again.value.field == "username"


async def test_authenticate(ctx: Context) -> None:
    account = await _create(ctx, "gina")
    async with ctx.pool.acquire() as conn:
        found = await service.authenticate(conn, " Gina ", PASSWORD)
        assert found.id == account.id
        with pytest.raises(Unauthorized) as wrong:
            await service.authenticate(conn, "gina", PASSWORD + "x")
        with pytest.raises(Unauthorized) as unknown:
            await service.authenticate(conn, "nobody", PASSWORD)
    assert wrong.value.code == unknown.value.code == "invalid_credentials"
    assert wrong.value.message == unknown.value.message


@pytest.mark.parametrize(
    ("status", "code"),
    [("pending", "account_pending"), ("suspended", "account_suspended"),
     ("rejected", "account_rejected")],
)
async def test_inactive_accounts_cannot_log_in(ctx: Context, status: str, code: str) -> None:
    account = await _create(ctx, "hans")
    async with ctx.pool.acquire() as conn:
        assert await store.set_account_status(conn, account.id, status)
        with pytest.raises(Forbidden) as info:
            await service.authenticate(conn, "hans", PASSWORD)
        assert info.value.code == code
        # Without the right password the status is not revealed.
        with pytest.raises(Unauthorized):
            await service.authenticate(conn, "hans", "wrong password!")
    if status == "pending":
        assert "approval" in info.value.message


async def test_weak_hash_is_upgraded_on_log_in(ctx: Context) -> None:
    account = await _create(ctx, "ida")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with ctx.pool.acquire() as conn:
        await store.set_password_hash(conn, account.id, weak)
        await service.authenticate(conn, "ida", PASSWORD)
        stored = await conn.fetchval("SELECT password_hash FROM accounts WHERE id = $1",
                                     account.id)
    assert stored != weak and stored.startswith("$argon2id$")


async def test_tokens_are_stored_hashed_and_revocable(ctx: Context) -> None:
    account = await _create(ctx, "jan")
    async with ctx.pool.acquire() as conn:
        token = await service.issue_token(conn, account, "laptop")
        assert len(token) == 43  # 32 bytes, url-safe base64 without padding
        row = await conn.fetchrow("SELECT * FROM api_tokens")
        assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
        everything = await conn.fetchval(
            "SELECT string_agg(row_to_json(t)::text, '') FROM api_tokens t")
        assert token not in everything
        assert (await service.account_for_token(conn, token)).id == account.id  # type: ignore[union-attr]
        assert await service.account_for_token(conn, token + "x") is None
        assert await service.account_for_token(conn, "") is None
        assert await service.revoke_token(conn, account, row["id"])
        assert not await service.revoke_token(conn, account, row["id"])
        assert await service.account_for_token(conn, token) is None


async def test_session_tokens_expire(ctx: Context) -> None:
    account = await _create(ctx, "kim")
    async with ctx.pool.acquire() as conn:
        live = await service.issue_token(conn, account, "web", "session",
                                         expires_in=timedelta(days=30))
        dead = await service.issue_token(conn, account, "web", "session",
                                         expires_in=timedelta(seconds=-1))
        assert await service.account_for_token(conn, live) is not None
        assert await service.account_for_token(conn, dead) is None
        with pytest.raises(ValueError, match="kind"):
            await service.issue_token(conn, account, "x", "cookie")


async def test_suspended_accounts_tokens_stop_working(ctx: Context) -> None:
    account = await _create(ctx, "lea")
    async with ctx.pool.acquire() as conn:
        token = await service.issue_token(conn, account)
        await store.set_account_status(conn, account.id, "suspended")
        assert await service.account_for_token(conn, token) is None
        match = await service.resolve_token(conn, token)
    assert match is not None and match.account.status == "suspended"


async def test_last_used_at_is_written_at_most_once_a_minute(ctx: Context) -> None:
    account = await _create(ctx, "max")
    async with ctx.pool.acquire() as conn:
        token = await service.issue_token(conn, account)
        assert (await service.list_tokens(conn, account))[0].last_used_at is None
        await service.account_for_token(conn, token)
        first = (await service.list_tokens(conn, account))[0].last_used_at
        assert first is not None
        await service.account_for_token(conn, token)
        assert (await service.list_tokens(conn, account))[0].last_used_at == first
        await conn.execute("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'")
        await service.account_for_token(conn, token)
        later = (await service.list_tokens(conn, account))[0].last_used_at
    assert later is not None and later > first - timedelta(seconds=1)
    assert later != first


async def test_registration_modes(ctx: Context) -> None:
    async with ctx.pool.acquire() as conn:
        assert await service.get_registration_mode(conn) == "open"
        with pytest.raises(ValidationFailed):
            await service.set_registration_mode(conn, "sometimes")
        await service.set_registration_mode(conn, "closed")
        with pytest.raises(AppError) as closed:
            await service.register(conn, ctx, username="nina", email="n@example.org",
                                   password=PASSWORD)
        assert closed.value.status == 403 and closed.value.code == "registrations_closed"
        await service.set_registration_mode(conn, "approval")
        pending = await service.register(conn, ctx, username="nina", email="n@example.org",
                                         password=PASSWORD)
        assert pending.status == "pending"
        assert await store.set_account_status(conn, pending.id, "active")
        assert (await service.authenticate(conn, "nina", PASSWORD)).id == pending.id
        assert not await store.set_account_status(conn, 999_999, "active")
