"""Official accounts by configured e-mail domain (FEDI_OFFICIAL_EMAIL_DOMAINS): what the
mail confirmation calls (apply_official_domains), with the modlog entry and the
Update(Person) queued for the account's followers; and the setting itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from fedi.core.config import ConfigError, Settings
from fedi.core.context import Context
from fedi.forum.accounts import create_account
from fedi.forum.officials import apply_official_domains, official_domain
from fedi.forum.profiles import update_profile
from storage import actors as actor_store
from tests.conftest import make_settings

PASSWORD = "correct horse battery"


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    async with httpx.AsyncClient() as http:
        settings = make_settings(official_email_domains=("musterstadt.de",))
        yield Context(settings=settings, pool=pool, http=http)


def test_the_setting_is_a_list_of_domains() -> None:
    settings = Settings.from_env({"FEDI_OFFICIAL_EMAIL_DOMAINS": " Musterstadt.de, kreis-x.de,"})
    assert settings.official_email_domains == ("musterstadt.de", "kreis-x.de")
    assert Settings.from_env({}).official_email_domains == ()
    with pytest.raises(ConfigError, match="FEDI_OFFICIAL_EMAIL_DOMAINS"):
        Settings.from_env({"FEDI_OFFICIAL_EMAIL_DOMAINS": "musterstadt.de,not a domain"})


def test_subdomains_count_and_lookalikes_do_not() -> None:
    domains = ("musterstadt.de",)
    assert official_domain("b.meier@musterstadt.de", domains) == "musterstadt.de"
    assert official_domain("b.meier@rathaus.musterstadt.de", domains) == "musterstadt.de"
    assert official_domain("b.meier@fake-musterstadt.de", domains) is None
    assert official_domain("b.meier@musterstadt.de.evil.example", domains) is None


async def test_a_confirmed_address_under_the_domain_makes_the_account_official(
        ctx: Context) -> None:
    async with ctx.pool.acquire() as conn:
        mayor = await create_account(conn, ctx, username="meier",
                                     email="b.meier@musterstadt.de", password=PASSWORD)
        citizen = await create_account(conn, ctx, username="otto",
                                       email="otto@example.org", password=PASSWORD)
    await update_profile(ctx, mayor, {"organisation": "Gemeinde Musterstadt"})
    async with ctx.pool.acquire() as conn, conn.transaction():
        assert await apply_official_domains(conn, ctx, mayor)
        assert not await apply_official_domains(conn, ctx, citizen)
        # A second confirmation changes nothing (and keeps an admin's own wording).
        assert not await apply_official_domains(conn, ctx, mayor)
    async with ctx.pool.acquire() as conn:
        actor = await actor_store.get(conn, mayor.actor_id)
        other = await actor_store.get(conn, citizen.actor_id)
        logged = await conn.fetchrow(
            "SELECT moderator_id, target_actor_id, details FROM modlog"
            " WHERE action = 'official_set'")
        updates = await conn.fetchval(
            "SELECT count(*) FROM activities WHERE actor_id = $1 AND type = 'Update'",
            mayor.actor_id)
    assert actor is not None and actor.official_position == "Gemeinde Musterstadt"
    assert other is not None and other.official_position is None
    assert logged["moderator_id"] is None and logged["target_actor_id"] == mayor.actor_id
    assert updates == 2  # the profile change and the badge


async def test_without_an_organisation_the_position_names_the_domain(ctx: Context) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        account = await create_account(conn, ctx, username="amt",
                                       email="amt@musterstadt.de", password=PASSWORD)
        assert await apply_official_domains(conn, ctx, account)
        actor = await actor_store.get(conn, account.actor_id)
    assert actor is not None
    assert actor.official_position == "Offizielles Konto (musterstadt.de)"
