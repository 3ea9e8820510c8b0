"""The admins' pages (domain blocks, instance health, pending sign-ups) and the public
moderation log: status, h1, permissions, CSRF, German and English."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.forum import accounts, threads
from fedi.forum import posts as post_service
from fedi.forum.staff import Staff
from storage import instances as instance_store
from storage import modlog as modlog_store
from tests.support.helpers import make_group, make_user
from tests.web.conftest import PASSWORD, Client, log_in, only_h1, post_form

EN = {"Accept-Language": "en"}
ADMIN_PAGES = ("/admin/domains", "/admin/instances", "/admin/signups")


@pytest.fixture
async def staff(ctx: Context) -> dict[str, Any]:
    """ruth (admin), mia (moderator of the group), alice (member)."""
    ruth = await make_user(ctx, "ruth", admin=True)
    mia = await make_user(ctx, "mia")
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx, moderators=[mia.actor])
    return {"ruth": ruth, "mia": mia, "alice": alice, "group": group}


async def test_admin_pages_are_for_admins_only(client_for: Client,
                                               staff: dict[str, Any]) -> None:
    anonymous = await client_for()
    for path in ADMIN_PAGES:
        response = await anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")
    for name in ("mia", "alice"):
        client = await client_for(name)
        for path in ADMIN_PAGES:
            refused = await client.get(path)
            assert refused.status_code == 403, (name, path)
            assert "Das dürfen nur Administrator*innen." in refused.text
        refused = await post_form(client, "/", "/admin/domains",
                                  {"action": "block", "domain": "spam.example"})
        assert refused.status_code == 403
    mia_nav = await (await client_for("mia")).get("/mod/reports")
    assert 'href="/mod/bans"' in mia_nav.text and 'href="/admin/domains"' not in mia_nav.text
    ruth = await client_for("ruth")
    headings = {"/admin/domains": ("Blockierte Domains", "Blocked domains"),
                "/admin/instances": ("Instanzen", "Instances"),
                "/admin/signups": ("Offene Registrierungen", "Pending sign-ups")}
    for path, (german, english) in headings.items():
        page = await ruth.get(path)
        assert page.status_code == 200 and only_h1(page.text) == german
        assert only_h1((await ruth.get(path, headers=EN)).text) == english
    nav = await ruth.get("/mod/reports")
    assert 'href="/admin/domains"' in nav.text and 'href="/admin/signups"' in nav.text


async def test_block_and_unblock_a_domain(client_for: Client, ctx: Context,
                                          staff: dict[str, Any]) -> None:
    ruth = await client_for("ruth")
    forged = await ruth.post("/admin/domains", data={"action": "block",
                                                     "domain": "spam.example"})
    assert forged.status_code == 403
    bad = await post_form(ruth, "/admin/domains", "/admin/domains",
                          {"action": "block", "domain": "kein host!", "reason": "x"})
    assert bad.status_code == 422 and "ist kein Domainname" in bad.text
    assert 'value="kein host!"' in bad.text and 'id="f-domain-error"' in bad.text
    own = await post_form(ruth, "/admin/domains", "/admin/domains",
                          {"action": "block", "domain": "127.0.0.1:8000"})
    assert own.status_code == 422 and "Das ist unsere eigene Domain." in own.text
    blocked = await post_form(ruth, "/admin/domains", "/admin/domains",
                              {"action": "block", "domain": "Spam.Example",
                               "reason": "Werbung"})
    assert blocked.status_code == 303
    page = await ruth.get("/admin/domains")
    assert "Die Domain ist blockiert." in page.text
    assert "spam.example" in page.text and "Werbung" in page.text
    assert "Blockade von spam.example aufheben" in page.text
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT reason FROM domain_blocks") == "Werbung"
    unblocked = await post_form(ruth, "/admin/domains", "/admin/domains",
                                {"action": "unblock", "domain": "spam.example"})
    assert unblocked.status_code == 303
    page = await ruth.get("/admin/domains", headers=EN)
    assert "No domain is blocked." in page.text and "The domain is no longer blocked." \
        in page.text
    log = await ruth.get("/modlog")
    assert "Domain blockiert" in log.text and "Domain-Blockade aufgehoben" in log.text


async def test_instance_health_and_reset(client_for: Client, ctx: Context,
                                         staff: dict[str, Any]) -> None:
    ruth = await client_for("ruth")
    empty = await ruth.get("/admin/instances")
    assert "Noch ist kein anderer Server bekannt." in empty.text
    async with ctx.pool.acquire() as conn:
        await instance_store.save_software(conn, "lemmy.example", software="lemmy",
                                           version="0.19.5", fetched_at=datetime.now(UTC))
        await instance_store.record_failure(conn, "down.example", now=datetime.now(UTC),
                                            days=1)
    page = await ruth.get("/admin/instances")
    assert page.status_code == 200
    assert "lemmy 0.19.5" in page.text and "down.example" in page.text
    assert "nicht erreichbar" in page.text and "in Ordnung" in page.text
    assert 'aria-label="down.example zurücksetzen"' in page.text
    assert 'aria-label="lemmy.example zurücksetzen"' not in page.text
    forged = await ruth.post("/admin/instances/down.example/reset", data={})
    assert forged.status_code == 403
    mia = await client_for("mia")
    assert (await post_form(mia, "/", "/admin/instances/down.example/reset", {})
            ).status_code == 403
    reset = await post_form(ruth, "/admin/instances", "/admin/instances/down.example/reset",
                            {})
    assert reset.status_code == 303
    async with ctx.pool.acquire() as conn:
        row = await instance_store.get(conn, "down.example")
    assert row is not None and not row.unavailable and row.failing_since is None
    english = await ruth.get("/admin/instances", headers=EN)
    assert "The instance's failures are forgotten" in english.text
    assert "unavailable" not in english.text.split("<tbody>")[1]
    unknown = await post_form(ruth, "/admin/instances", "/admin/instances/nie.example/reset",
                              {})
    assert unknown.status_code == 404


async def test_approve_and_reject_pending_signups(client_for: Client, ctx: Context,
                                                  staff: dict[str, Any]) -> None:
    async with ctx.pool.acquire() as conn:
        await accounts.set_registration_mode(conn, "approval")
        for name in ("erik", "fritz"):
            await accounts.register(conn, ctx, username=name, email=f"{name}@example.org",
                                    password=PASSWORD, reason=f"{name.title()} wohnt hier.")
    ruth = await client_for("ruth")
    page = await ruth.get("/admin/signups")
    assert "Erik wohnt hier." in page.text and "fritz@example.org" in page.text
    forged = await ruth.post("/admin/signups/erik", data={"action": "approve"})
    assert forged.status_code == 403
    mia = await client_for("mia")
    assert (await post_form(mia, "/", "/admin/signups/erik", {"action": "approve"})
            ).status_code == 403
    approved = await post_form(ruth, "/admin/signups", "/admin/signups/erik",
                               {"action": "approve"})
    assert approved.status_code == 303
    rejected = await post_form(ruth, "/admin/signups", "/admin/signups/fritz",
                               {"action": "reject"})
    assert rejected.status_code == 303
    page = await ruth.get("/admin/signups")
    assert "Die Registrierung ist abgelehnt." in page.text
    assert "Keine Registrierung wartet auf Freigabe." in page.text
    twice = await post_form(ruth, "/admin/signups", "/admin/signups/erik",
                            {"action": "reject"})
    assert twice.status_code == 409 and "Das Konto hat den Status active" in twice.text
    erik = await client_for()
    await log_in(erik, "erik", PASSWORD)  # approved: can log in now
    fritz = await post_form(erik, "/login", "/login",
                            {"username": "fritz", "password": PASSWORD})
    assert fritz.status_code == 403


async def test_public_modlog_pages_and_filters(client_for: Client, ctx: Context,
                                               staff: dict[str, Any]) -> None:
    mia = staff["mia"]
    thread = await post_service.create_thread(ctx, author=mia.actor, group=staff["group"],
                                              title="Baustelle", content="Wie lange?")
    await threads.lock_thread(ctx, Staff(mia.account, mia.actor), thread.id, locked=True,
                                 reason="Alles gesagt")
    anonymous = await client_for()
    page = await anonymous.get("/modlog")
    assert page.status_code == 200 and only_h1(page.text) == "Moderationsprotokoll"
    assert "Thema geschlossen" in page.text and "Alles gesagt" in page.text
    assert f'href="/posts/{thread.id}">Baustelle</a>' in page.text
    assert "@mia@" not in page.text  # moderators' names only when the instance shows them
    assert 'aria-label="Moderation"' not in page.text  # no moderation menu for the public
    english = await anonymous.get("/modlog", headers=EN)
    assert only_h1(english.text) == "Moderation log" and "Thread locked" in english.text
    async with ctx.pool.acquire() as conn:
        for n in range(31):
            await modlog_store.insert(conn, action="thread_pin", group_id=staff["group"].id,
                                      reason=f"Eintrag {n}")
        await modlog_store.insert(conn, action="report_resolve", public=False,
                                  reason="geheim")
    first = await anonymous.get("/modlog")
    assert "Eintrag 30" in first.text and "Alles gesagt" not in first.text
    assert "geheim" not in first.text
    older = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await anonymous.get(older.replace("&amp;", "&"))
    assert "Alles gesagt" in second.text and "Eintrag 30" not in second.text
    grouped = await anonymous.get("/modlog?group=breitband")
    assert only_h1(grouped.text) == "Moderationsprotokoll von Breitbandausbau"
    assert "group=breitband&amp;before=" in grouped.text  # the pager keeps the filter
    assert (await anonymous.get("/modlog?group=nirgends")).status_code == 404
    assert (await anonymous.get("/modlog?before=abc")).status_code == 200
