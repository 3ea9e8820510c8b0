"""Reporting and moderating through the web pages: reports, the reports queue,
remove/restore, lock/pin, bans; each with its permissions, CSRF and both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.forum import bans as ban_service
from fedi.forum import posts as post_service
from fedi.forum import reports
from fedi.forum.staff import Staff
from tests.support.helpers import User, make_group, make_user
from tests.web.conftest import Client, csrf_of, only_h1, post_form

HOST = "127.0.0.1:8000"
EN = {"Accept-Language": "en"}


@pytest.fixture
async def cast(ctx: Context) -> dict[str, Any]:
    """alice (member), mia (moderator of the group), otto (moderates another group),
    ruth (admin); a thread by mia with alice's reply."""
    alice = await make_user(ctx, "alice")
    mia = await make_user(ctx, "mia")
    otto = await make_user(ctx, "otto")
    ruth = await make_user(ctx, "ruth", admin=True)
    group = await make_group(ctx, moderators=[mia.actor])
    await make_group(ctx, "radwege", title="Radwege", moderators=[otto.actor])
    thread = await post_service.create_thread(ctx, author=mia.actor, group=group,
                                              title="Baustelle", content="Wie lange noch?")
    reply = await post_service.create_reply(ctx, author=alice.actor, parent=thread,
                                            content="Das ist eine Frechheit!")
    return {"alice": alice, "mia": mia, "otto": otto, "ruth": ruth, "thread": thread,
            "reply": reply, "group": group}


async def _report(ctx: Context, reporter: User, post_id: int, reason: str = "Beleidigung"
                  ) -> Any:
    return await reports.report(ctx, reporter.actor, post_id=post_id, actor_ref=None,
                                   reason=reason)


async def _post(ctx: Context, post_id: int) -> Any:
    return await post_service.get_post(ctx, post_id)


# Reports by users --------------------------------------------------------------------------

async def test_report_a_post(client_for: Client, ctx: Context, cast: dict[str, Any]) -> None:
    reply = cast["reply"]
    mia = await client_for("mia")
    thread_page = await mia.get(f"/posts/{cast['thread'].id}")
    assert f'href="/posts/{reply.id}/report">Melden</a>' in thread_page.text
    # Nobody reports themselves: no link on one's own post.
    assert f'href="/posts/{cast["thread"].id}/report"' not in thread_page.text
    form = await mia.get(f"/posts/{reply.id}/report")
    assert form.status_code == 200 and only_h1(form.text) == "Einen Beitrag melden"
    assert "Das ist eine Frechheit!" in form.text and 'for="f-reason"' in form.text
    empty = await post_form(mia, f"/posts/{reply.id}/report", f"/posts/{reply.id}/report",
                            {"reason": "  "})
    assert empty.status_code == 422 and "Bitte geben Sie einen Grund an." in empty.text
    sent = await post_form(mia, f"/posts/{reply.id}/report", f"/posts/{reply.id}/report",
                           {"reason": "Beleidigend"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/posts/{cast['thread'].id}#post-{reply.id}"
    after = await mia.get(sent.headers["location"])
    assert "Danke! Die Moderation sieht sich Ihre Meldung an." in after.text
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM reports")
    assert row["post_ids"] == [reply.id] and row["reason"] == "Beleidigend"
    assert row["reporter_id"] == cast["mia"].actor.id
    assert row["target_actor_id"] == cast["alice"].actor.id
    english = await mia.get(f"/posts/{reply.id}/report", headers=EN)
    assert only_h1(english.text) == "Report a post" and "Send report" in english.text


async def test_report_a_person_from_the_profile(client_for: Client, ctx: Context,
                                                cast: dict[str, Any]) -> None:
    alice = await client_for("alice")
    profile = await alice.get("/users/mia")
    assert 'href="/users/mia/report"' in profile.text
    assert "/mod/ban" not in profile.text  # alice moderates nothing
    assert 'href="/users/alice/report"' not in (await alice.get("/users/alice")).text
    form = await alice.get("/users/mia/report")
    assert only_h1(form.text) == "Mia melden"
    sent = await post_form(alice, "/users/mia/report", "/users/mia/report",
                           {"reason": "Spam"})
    assert sent.status_code == 303 and sent.headers["location"] == "/users/mia"
    own = await post_form(alice, "/users/alice/report", "/users/alice/report",
                          {"reason": "Test"})
    assert own.status_code == 422 and "Sie können sich nicht selbst melden." in own.text
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT target_actor_id, post_ids FROM reports")
    assert [(r["target_actor_id"], r["post_ids"]) for r in rows] == [(cast["mia"].actor.id, [])]


async def test_reporting_needs_a_login_and_a_csrf_token(client_for: Client, ctx: Context,
                                                        cast: dict[str, Any]) -> None:
    reply = cast["reply"]
    anonymous = await client_for()
    page = await anonymous.get(f"/posts/{cast['thread'].id}")
    assert f"/posts/{reply.id}/report" not in page.text
    response = await anonymous.get(f"/posts/{reply.id}/report")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fposts%2F{reply.id}%2Freport"
    mia = await client_for("mia")
    forged = await mia.post(f"/posts/{reply.id}/report", data={"reason": "x"})
    assert forged.status_code == 403
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM reports") == 0


# The reports queue --------------------------------------------------------------------------

async def test_reports_queue_shows_each_moderator_their_reports(
        client_for: Client, ctx: Context, cast: dict[str, Any]) -> None:
    await _report(ctx, cast["mia"], cast["reply"].id, "Beleidigung im Thema Baustelle")
    for name in ("ruth", "mia"):
        client = await client_for(name)
        page = await client.get("/mod/reports")
        assert page.status_code == 200, name
        assert only_h1(page.text) == "Meldungen"
        assert "Beleidigung im Thema Baustelle" in page.text
        assert "Das ist eine Frechheit!" in page.text  # the reported post's text
        assert 'aria-label="Moderation"' in page.text
        assert 'href="/mod/reports">Moderation</a>' in page.text  # in the site navigation
    # The moderator of another group sees the queue, without this group's report.
    otto = await client_for("otto")
    other = await otto.get("/mod/reports")
    assert other.status_code == 200 and "Beleidigung" not in other.text
    assert "Keine offenen Meldungen." in other.text
    alice = await client_for("alice")
    refused = await alice.get("/mod/reports")
    assert refused.status_code == 403 and only_h1(refused.text) == "Nicht erlaubt"
    assert "Das dürfen nur Moderator*innen und Administrator*innen." in refused.text
    assert 'href="/mod/reports"' not in refused.text  # no "Moderation" link for her
    anonymous = await client_for()
    login = await anonymous.get("/mod/reports")
    assert login.status_code == 303
    assert login.headers["location"] == "/login?next=%2Fmod%2Freports"
    english = await (await client_for("ruth")).get("/mod/reports", headers=EN)
    assert only_h1(english.text) == "Reports" and "Mark as resolved" in english.text


async def test_assign_and_resolve_a_report(client_for: Client, ctx: Context,
                                           cast: dict[str, Any]) -> None:
    report = await _report(ctx, cast["alice"], cast["thread"].id)
    otto = await client_for("otto")
    foreign = await post_form(otto, "/mod/reports", f"/mod/reports/{report.id}/assign", {})
    assert foreign.status_code == 403
    assert "Das dürfen nur die Moderator*innen von breitband@" in foreign.text
    mia = await client_for("mia")
    forged = await mia.post(f"/mod/reports/{report.id}/assign", data={})
    assert forged.status_code == 403
    assigned = await post_form(mia, "/mod/reports", f"/mod/reports/{report.id}/assign", {})
    assert assigned.status_code == 303
    page = await mia.get(assigned.headers["location"])
    assert "Die Meldung ist Ihnen zugewiesen." in page.text
    assert "Mir zuweisen" not in page.text
    resolved = await post_form(mia, "/mod/reports", f"/mod/reports/{report.id}/resolve",
                               {"resolution": "Mit der Person gesprochen."})
    assert resolved.status_code == 303
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM reports WHERE id = $1", report.id)
    assert row["state"] == "resolved" and row["assigned_to"] == cast["mia"].actor.id
    assert row["resolution"] == "Mit der Person gesprochen."
    assert row["resolved_by"] == cast["mia"].actor.id
    open_page = await mia.get("/mod/reports")
    assert "Keine offenen Meldungen. Gut gemacht!" in open_page.text
    done = await mia.get("/mod/reports?state=resolved")
    assert "Mit der Person gesprochen." in done.text
    again = await post_form(mia, "/mod/reports", f"/mod/reports/{report.id}/resolve", {})
    assert again.status_code == 409 and "Diese Meldung ist schon erledigt." in again.text
    alice = await client_for("alice")
    plain = await post_form(alice, "/", f"/mod/reports/{report.id}/resolve", {})
    assert plain.status_code == 403


# Remove and restore, lock and pin ---------------------------------------------------------

async def test_a_moderator_removes_and_restores_a_reply(client_for: Client, ctx: Context,
                                                         cast: dict[str, Any]) -> None:
    thread, reply = cast["thread"], cast["reply"]
    mia = await client_for("mia")
    page = await mia.get(f"/posts/{thread.id}")
    assert "Dieses Thema moderieren" in page.text
    assert f'href="/posts/{reply.id}/moderate?action=remove"' in page.text
    form = await mia.get(f"/posts/{reply.id}/moderate?action=remove")
    assert form.status_code == 200 and only_h1(form.text) == "Diesen Beitrag entfernen?"
    no_reason = await post_form(mia, f"/posts/{reply.id}/moderate?action=remove",
                                f"/posts/{reply.id}/moderate", {"action": "remove"})
    assert no_reason.status_code == 422 and "Bitte geben Sie einen Grund an." in no_reason.text
    forged = await mia.post(f"/posts/{reply.id}/moderate",
                            data={"action": "remove", "reason": "Beleidigung"})
    assert forged.status_code == 403
    assert (await _post(ctx, reply.id)).removed_at is None
    removed = await post_form(mia, f"/posts/{reply.id}/moderate?action=remove",
                              f"/posts/{reply.id}/moderate",
                              {"action": "remove", "reason": "Beleidigung"})
    assert removed.status_code == 303
    assert removed.headers["location"] == f"/posts/{thread.id}#post-{reply.id}"
    public = await (await client_for()).get(f"/posts/{thread.id}")
    assert "Das ist eine Frechheit!" not in public.text
    assert "Dieser Beitrag wurde von der Moderation entfernt." in public.text
    as_moderator = await mia.get(f"/posts/{thread.id}")
    assert "Entfernten Text zeigen (nur für die Moderation)" in as_moderator.text
    assert "Das ist eine Frechheit!" in as_moderator.text and "Beleidigung" in as_moderator.text
    restored = await post_form(mia, f"/posts/{reply.id}/moderate?action=restore",
                               f"/posts/{reply.id}/moderate", {"action": "restore"})
    assert restored.status_code == 303
    public = await (await client_for()).get(f"/posts/{thread.id}")
    assert "Das ist eine Frechheit!" in public.text
    english = await mia.get(f"/posts/{reply.id}/moderate?action=remove", headers=EN)
    assert only_h1(english.text) == "Remove this post?"
    assert (await mia.get(f"/posts/{reply.id}/moderate?action=lock")).status_code == 422


async def test_only_moderators_of_the_group_and_admins_may_remove(
        client_for: Client, ctx: Context, cast: dict[str, Any]) -> None:
    reply = cast["reply"]
    for name in ("alice", "otto"):
        client = await client_for(name)
        page = await client.get(f"/posts/{cast['thread'].id}")
        assert "/moderate" not in page.text and "Dieses Thema moderieren" not in page.text
        assert (await client.get(f"/posts/{reply.id}/moderate?action=remove")
                ).status_code == 403
        refused = await post_form(client, "/", f"/posts/{reply.id}/moderate",
                                  {"action": "remove", "reason": "weg"})
        assert refused.status_code == 403, name
    anonymous = await client_for()
    login = await anonymous.get(f"/posts/{reply.id}/moderate?action=remove")
    assert login.status_code == 303 and login.headers["location"].startswith("/login?next=")
    assert (await _post(ctx, reply.id)).removed_at is None
    admin = await client_for("ruth")
    done = await post_form(admin, "/", f"/posts/{reply.id}/moderate",
                           {"action": "remove", "reason": "Beleidigung"})
    assert done.status_code == 303
    assert (await _post(ctx, reply.id)).removed_reason == "Beleidigung"


async def test_lock_pin_and_remove_a_thread(client_for: Client, ctx: Context,
                                            cast: dict[str, Any]) -> None:
    thread = cast["thread"]
    url = f"/posts/{thread.id}"
    mia = await client_for("mia")
    page = await mia.get(url)
    # "sperren" is for bans: a locked thread is "geschlossen" (issue 11).
    assert "Thema schließen" in page.text and "Thema anheften" in page.text
    assert "sperr" not in page.text.split('class="mod-tools"')[1].split("</section>")[0]
    locked = await post_form(mia, url, f"{url}/moderate", {"action": "lock"})
    assert locked.status_code == 303 and locked.headers["location"] == url
    page = await mia.get(url)
    assert "Das Thema ist geschlossen." in page.text and "Thema wieder öffnen" in page.text
    assert "Dieses Thema ist geschlossen: keine neuen Antworten." in page.text
    group_page = await mia.get("/groups/breitband")
    assert '<span class="badge">Geschlossen</span>' in group_page.text
    twice = await post_form(mia, url, f"{url}/moderate", {"action": "lock"})
    assert twice.status_code == 409 and "Dieses Thema ist schon geschlossen." in twice.text
    assert (await _post(ctx, thread.id)).locked
    pinned = await post_form(mia, url, f"{url}/moderate", {"action": "pin"})
    assert pinned.status_code == 303 and (await _post(ctx, thread.id)).pinned_at is not None
    again = await post_form(mia, url, f"{url}/moderate", {"action": "pin"})
    assert again.status_code == 409 and "Dieses Thema ist schon angeheftet." in again.text
    bogus = await post_form(mia, url, f"{url}/moderate", {"action": "explode"})
    assert bogus.status_code == 422 and "Diese Aktion gibt es nicht." in bogus.text
    otto = await client_for("otto")
    assert (await post_form(otto, url, f"{url}/moderate", {"action": "unlock"})
            ).status_code == 403
    admin = await client_for("ruth")
    assert (await post_form(admin, url, f"{url}/moderate", {"action": "unlock"})
            ).status_code == 303
    assert not (await _post(ctx, thread.id)).locked
    # Removing the thread: "das Thema" is neuter, "der Beitrag" masculine.
    ask = await mia.get(f"{url}/moderate?action=remove")
    assert only_h1(ask.text) == "Dieses Thema entfernen?"
    assert "Die Öffentlichkeit sieht es dann nicht mehr" in ask.text
    ask_reply = await mia.get(f"/posts/{cast['reply'].id}/moderate?action=remove")
    assert "Die Öffentlichkeit sieht ihn dann nicht mehr" in ask_reply.text
    # Removing the thread: gone for the public, still there for its moderators.
    removed = await post_form(mia, url, f"{url}/moderate",
                              {"action": "remove", "reason": "Doppelt"})
    # To the thread: it shows its moderators the removed state and "restore" (issue 11).
    assert removed.headers["location"] == url
    assert (await (await client_for()).get(url)).status_code == 410
    assert (await (await client_for("alice")).get(url)).status_code == 410
    as_moderator = await mia.get(url)
    assert as_moderator.status_code == 200
    assert "Dieses Thema wurde von der Moderation entfernt: Nur die Moderation sieht es." \
        in as_moderator.text
    assert f'href="{url}/moderate?action=restore"' in as_moderator.text
    ask_restore = await mia.get(f"{url}/moderate?action=restore")
    assert "Alle sehen es wieder, hier und auf anderen Servern." in ask_restore.text
    english = await mia.get(url, headers=EN)
    assert "Restore thread" in english.text


# Bans ---------------------------------------------------------------------------------------

async def test_a_group_moderator_bans_and_lifts(client_for: Client, ctx: Context,
                                                cast: dict[str, Any]) -> None:
    mia = await client_for("mia")
    profile = await mia.get("/users/alice")
    assert "/mod/ban?actor=alice%40127.0.0.1%3A8000" in profile.text
    form = await mia.get(f"/mod/ban?actor=alice@{HOST}&group=breitband")
    assert form.status_code == 200 and only_h1(form.text) == "Sperren"
    assert f'value="alice@{HOST}"' in form.text
    assert '<option value="breitband" selected>' in form.text
    assert "Die ganze Instanz" not in form.text  # only admins ban from the instance
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    late = await post_form(mia, "/mod/ban", "/mod/ban", {
        "actor": f"alice@{HOST}", "group": "breitband", "expires_at": past})
    assert late.status_code == 422
    assert "Das Ende der Sperre muss in der Zukunft liegen." in late.text
    assert f'value="alice@{HOST}"' in late.text  # the input is kept
    garbled = await post_form(mia, "/mod/ban", "/mod/ban", {
        "actor": f"alice@{HOST}", "group": "breitband", "expires_at": "morgen"})
    assert garbled.status_code == 422 and "als Datum und Uhrzeit" in garbled.text
    nobody = await post_form(mia, "/mod/ban", "/mod/ban", {
        "actor": f"niemand@{HOST}", "group": "breitband"})
    assert nobody.status_code == 404 and "ist bekannt" in nobody.text
    instance_wide = await post_form(mia, "/mod/ban", "/mod/ban", {
        "actor": f"alice@{HOST}", "group": ""})
    assert instance_wide.status_code == 403
    future = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    banned = await post_form(mia, "/mod/ban", "/mod/ban", {
        "actor": f"alice@{HOST}", "group": "breitband", "reason": "Beleidigungen",
        "expires_at": future, "remove_content": "on", "next": "/users/alice"})
    assert banned.status_code == 303 and banned.headers["location"] == "/users/alice"
    assert (await _post(ctx, cast["reply"].id)).removed_at is not None
    bans = await mia.get("/mod/bans")
    assert only_h1(bans.text) == "Sperren" and "Beleidigungen" in bans.text
    assert "Gruppe Breitbandausbau" in bans.text
    # alice can no longer reply in the group.
    alice = await client_for("alice")
    refused = await post_form(alice, f"/posts/{cast['thread'].id}",
                              f"/posts/{cast['thread'].id}/reply", {"content": "Trotzdem!"})
    assert refused.status_code == 403
    assert "Sie sind in dieser Gruppe gesperrt. Grund: Beleidigungen" in refused.text
    async with ctx.pool.acquire() as conn:
        ban_id = await conn.fetchval("SELECT id FROM bans")
    assert (await alice.get("/mod/bans")).status_code == 403
    forged = await mia.post(f"/mod/bans/{ban_id}/lift", data={})
    assert forged.status_code == 403
    lifted = await post_form(mia, "/mod/bans", f"/mod/bans/{ban_id}/lift", {})
    assert lifted.status_code == 303
    after = await mia.get("/mod/bans")
    assert "Die Sperre wurde aufgehoben." in after.text and "Es gelten keine Sperren." in after.text


async def test_ban_pages_permissions(client_for: Client, ctx: Context,
                                     cast: dict[str, Any]) -> None:
    anonymous = await client_for()
    login = await anonymous.get("/mod/ban?actor=alice")
    assert login.status_code == 303 and login.headers["location"].startswith("/login?next=")
    alice = await client_for("alice")
    assert (await alice.get("/mod/ban")).status_code == 403
    refused = await post_form(alice, "/", "/mod/ban", {"actor": "mia", "group": "breitband"})
    assert refused.status_code == 403
    otto = await client_for("otto")
    wrong_group = await post_form(otto, "/", "/mod/ban", {"actor": "alice",
                                                          "group": "breitband"})
    assert wrong_group.status_code == 403
    admin = await client_for("ruth")
    form = await admin.get("/mod/ban?actor=alice", headers=EN)
    assert only_h1(form.text) == "Ban" and "The whole instance" in form.text
    admin_ban = await post_form(admin, "/mod/ban", "/mod/ban", {"actor": "alice", "group": ""})
    assert admin_ban.status_code == 303
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT actor_id, group_id FROM bans")
    assert [(r["actor_id"], r["group_id"]) for r in rows] == [(cast["alice"].actor.id, None)]
    forged = await admin.post("/mod/ban", data={"actor": "mia", "group": ""})
    assert forged.status_code == 403
    staff = Staff(cast["ruth"].account, cast["ruth"].actor)
    bans = await ban_service.list_bans(ctx, staff, limit=10, before_id=None, active_only=True)
    assert [b.actor_id for b in bans] == [cast["alice"].actor.id]


async def test_a_plain_user_finds_no_moderation_links(client_for: Client,
                                                      cast: dict[str, Any]) -> None:
    alice = await client_for("alice")
    page = await alice.get(f"/posts/{cast['thread'].id}")
    assert "/moderate" not in page.text and "/mod/" not in page.text
    assert 'href="/modlog"' in page.text  # the public log is linked from every page
    assert csrf_of(page.text)
