"""The admin area (/admin, issue 18): who may see which page, every action changes the
state and writes its modlog entry, bad input gets a form error, the API parity routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import accounts, confirmation, domains, instance_settings
from fedi.forum import posts as post_service
from fedi.web import admin_account_pages
from fedi.web.page_cache import store_of
from storage import accounts as account_store
from storage import actors as actor_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage import modlog as modlog_store
from tests.support.helpers import make_group, make_user
from tests.web.conftest import Client, only_h1, post_form

EN = {"Accept-Language": "en"}
HTML = {"Accept": "text/html"}
ADMIN_ONLY = ("/admin", "/admin/settings", "/admin/accounts",
              "/admin/accounts/alice/delete", "/admin/groups/breitband/delete")
SECTIONS = ("/admin/settings", "/admin/groups", "/admin/accounts", "/admin/signups",
            "/admin/domains", "/admin/instances", "/admin/terms", "/mod/reports", "/modlog")


@pytest.fixture
async def staff(ctx: Context) -> dict[str, Any]:
    """ruth (admin), mia (moderator of breitband), alice and bob (members); verkehr is a
    second group mia does not moderate."""
    ruth = await make_user(ctx, "ruth", admin=True)
    mia = await make_user(ctx, "mia")
    alice = await make_user(ctx, "alice")
    bob = await make_user(ctx, "bob")
    group = await make_group(ctx, moderators=[mia.actor])
    other = await make_group(ctx, "verkehr", title="Verkehr")
    return {"ruth": ruth, "mia": mia, "alice": alice, "bob": bob, "group": group,
            "other": other}


async def actions(ctx: Context) -> list[str]:
    """The modlog's actions, oldest first."""
    async with ctx.pool.acquire() as conn:
        entries = await modlog_store.page(conn, limit=200, include_private=True)
    return [entry.action for entry in reversed(entries)]


async def test_who_sees_which_page(client_for: Client, staff: dict[str, Any]) -> None:
    anonymous = await client_for()
    for path in (*ADMIN_ONLY, "/admin/groups", "/admin/groups/breitband"):
        response = await anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    alice = await client_for("alice")
    for path in (*ADMIN_ONLY, "/admin/groups", "/admin/groups/breitband"):
        refused = await alice.get(path)
        assert refused.status_code == 403, path
    refused = await post_form(alice, "/", "/admin/settings", {"name": "Übernommen"})
    assert refused.status_code == 403
    assert 'href="/admin"' not in (await alice.get("/")).text

    # A moderator gets the settings of their own groups, nothing else.
    mia = await client_for("mia")
    for path in ADMIN_ONLY:
        assert (await mia.get(path)).status_code == 403, path
    listing = await mia.get("/admin/groups")
    assert listing.status_code == 200
    assert 'href="/admin/groups/breitband"' in listing.text
    assert "/admin/groups/verkehr" not in listing.text
    assert 'action="/admin/groups"' not in listing.text  # no "new group" form
    assert (await mia.get("/admin/groups/breitband")).status_code == 200
    assert (await mia.get("/admin/groups/verkehr")).status_code == 403
    refused = await post_form(mia, "/admin/groups", "/admin/groups",
                              {"name": "neu", "title": "Neu"})
    assert refused.status_code == 403
    assert 'href="/admin"' not in (await mia.get("/")).text

    ruth = await client_for("ruth")
    start = await ruth.get("/admin")
    assert start.status_code == 200 and only_h1(start.text) == "Administration"
    for path in SECTIONS:
        assert f'href="{path}"' in start.text, path
    # A fresh instance has published none of the pages a public body must publish.
    assert "warnings-heading" in start.text
    for warning in ("Das Impressum ist noch nicht veröffentlicht.",
                    "Die Datenschutzerklärung ist noch der mitgelieferte Entwurf.",
                    "Die Erklärung zur Barrierefreiheit ist noch nicht veröffentlicht."):
        assert warning in start.text
    assert 'href="/admin">Administration</a>' in (await ruth.get("/")).text
    headings = {"/admin/settings": ("Einstellungen der Instanz", "Instance settings"),
                "/admin/groups": ("Gruppen", "Groups"),
                "/admin/accounts": ("Konten", "Accounts"),
                "/admin/groups/breitband": ("Gruppeneinstellungen: Breitbandausbau",
                                            "Group settings: Breitbandausbau")}
    for path, (german, english) in headings.items():
        page = await ruth.get(path)
        assert page.status_code == 200 and only_h1(page.text) == german, path
        assert only_h1((await ruth.get(path, headers=EN)).text) == english


async def test_instance_settings(app_client: httpx.AsyncClient, client_for: Client,
                                 ctx: Context, staff: dict[str, Any]) -> None:
    anonymous = await client_for()
    before = await anonymous.get("/", headers=HTML)
    assert "Das Diskussionsforum unserer Gemeinde" in before.text
    thread = await post_service.create_thread(
        ctx, author=staff["alice"].actor, group=staff["group"], title="Glasfaser",
        content="Wann?", kind="question")
    cached = await anonymous.get(f"/posts/{thread.id}", headers=HTML)
    assert f"– {ctx.settings.instance_name}</title>" in cached.text
    hits = store_of(app_client.app).hits  # type: ignore[attr-defined]
    assert (await anonymous.get(f"/posts/{thread.id}", headers=HTML)).text == cached.text
    assert store_of(anonymous._transport.app).hits == hits + 1  # type: ignore[attr-defined]
    ruth = await client_for("ruth")
    form = await ruth.get("/admin/settings")
    assert 'value="open" checked' in form.text and 'value="required" checked' in form.text
    saved = await post_form(ruth, "/admin/settings", "/admin/settings", {
        "name": "Bürgerforum Musterstadt", "description": "Das Forum der Stadt.",
        "lead_markdown": "**Willkommen** im Forum! <script>alert(1)</script>",
        "contact_email": "forum@musterstadt.example", "default_language": "de",
        "registration_mode": "approval", "email_confirmation": "off",
        "allowlist_mode": "on", "allowed_domains": "social.example\nMastodon.Example",
    })
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/settings"
    async with ctx.pool.acquire() as conn:
        now = await instance_settings.current(conn, ctx.settings.instance_name)
        assert now == instance_settings.InstanceSettings(
            name="Bürgerforum Musterstadt", description="Das Forum der Stadt.",
            lead_markdown="**Willkommen** im Forum! <script>alert(1)</script>",
            contact_email="forum@musterstadt.example", default_language="de")
        assert await accounts.get_registration_mode(conn) == "approval"
        assert await confirmation.confirmation_mode(conn) == "off"
        assert (await domains.moderation_settings(conn))["allowlist_mode"] is True
        allowed = {a.domain for a in await moderation_store.domain_allows(conn)}
    assert allowed == {"social.example", "mastodon.example"}
    logged = await actions(ctx)
    assert logged.count("instance_settings_update") == 1
    assert logged.count("registration_update") == 1
    assert "settings_update" in logged and logged.count("domain_allow") == 2

    # The start page (cached before) shows the name and the text, sanitised.
    start = await anonymous.get("/", headers=HTML)
    assert "<strong>Willkommen</strong> im Forum!" in start.text
    assert "<script>alert" not in start.text
    assert "<title>Start – Bürgerforum Musterstadt</title>" in start.text
    # The cached thread page was written again with the new name.
    thread_page = await anonymous.get(f"/posts/{thread.id}", headers=HTML)
    assert "– Bürgerforum Musterstadt</title>" in thread_page.text
    assert "Neue Konten werden von der Administration geprüft" in (
        await anonymous.get("/signup")).text
    nodeinfo = (await anonymous.get("/nodeinfo/2.1")).json()
    assert nodeinfo["metadata"]["nodeName"] == "Bürgerforum Musterstadt"
    api = await anonymous.get("/api/v1/admin/settings/instance",
                              headers=staff["ruth"].headers)
    assert api.json()["registration_mode"] == "approval"

    # Dropping a domain from the list takes it off the allowlist; an unchanged form
    # writes nothing.
    shown = await ruth.get("/admin/settings")
    assert "mastodon.example\nsocial.example</textarea>" in shown.text
    again = await post_form(ruth, "/admin/settings", "/admin/settings", {
        "name": "Bürgerforum Musterstadt", "description": "Das Forum der Stadt.",
        "lead_markdown": "", "contact_email": "forum@musterstadt.example",
        "default_language": "de", "registration_mode": "approval",
        "email_confirmation": "off", "allowlist_mode": "on",
        "allowed_domains": "social.example"})
    assert again.status_code == 303
    async with ctx.pool.acquire() as conn:
        allowed = {a.domain for a in await moderation_store.domain_allows(conn)}
    assert allowed == {"social.example"}
    assert (await actions(ctx))[-2:] == ["instance_settings_update", "domain_disallow"]
    start = await anonymous.get("/", headers=HTML)
    assert "Willkommen" not in start.text and "Das Forum der Stadt." in start.text


async def test_instance_settings_bad_input(client_for: Client, ctx: Context,
                                           staff: dict[str, Any]) -> None:
    ruth = await client_for("ruth")
    base = {"name": "Forum", "description": "", "lead_markdown": "", "contact_email": "",
            "default_language": "de", "registration_mode": "closed",
            "email_confirmation": "required", "allowed_domains": ""}
    cases = [({"name": "  "}, "name", "Bitte geben Sie einen Namen an."),
             ({"contact_email": "kein-at"}, "contact_email",
              "Bitte geben Sie eine gültige E-Mail-Adresse an."),
             ({"registration_mode": "alle"}, "registration_mode", "Bitte wählen Sie"),
             ({"default_language": "fr"}, "default_language", "Bitte wählen Sie"),
             ({"allowed_domains": "social.example\nkein host!"}, "allowed_domains",
              "ist kein Domainname")]
    for change, field, message in cases:
        bad = await post_form(ruth, "/admin/settings", "/admin/settings", {**base, **change})
        assert bad.status_code == 422, change
        assert f'id="f-{field}-error"' in bad.text and message in bad.text, bad.text
    english = await post_form(ruth, "/admin/settings", "/admin/settings",
                              {**base, "name": ""}, headers=EN)
    assert "Please enter a name." in english.text
    async with ctx.pool.acquire() as conn:
        assert await accounts.get_registration_mode(conn) == "open"  # nothing written
        assert await moderation_store.domain_allows(conn) == []
    assert "instance_settings_update" not in await actions(ctx)
    forged = await ruth.post("/admin/settings", data=base)
    assert forged.status_code == 403


async def test_groups(client_for: Client, ctx: Context, staff: dict[str, Any]) -> None:
    ruth = await client_for("ruth")
    fields = {"title": "Schule und Kita", "summary": "Alles zu **Schulen**.",
              "rules": "1. Bleiben Sie sachlich.", "default_kind": "discussion",
              "who_starts": "moderators"}
    bad = await post_form(ruth, "/admin/groups", "/admin/groups",
                          {**fields, "name": "Schule!"})
    assert bad.status_code == 422 and 'id="f-name-error"' in bad.text
    taken = await post_form(ruth, "/admin/groups", "/admin/groups",
                            {**fields, "name": "verkehr"})
    assert taken.status_code == 409 and 'id="f-name-error"' in taken.text
    no_title = await post_form(ruth, "/admin/groups", "/admin/groups",
                               {**fields, "name": "schule", "title": ""})
    assert no_title.status_code == 422 and 'id="f-title-error"' in no_title.text
    created = await post_form(ruth, "/admin/groups", "/admin/groups",
                              {**fields, "name": "schule"})
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/groups/schule"
    async with ctx.pool.acquire() as conn:
        group = await actor_store.local_by_name(conn, "schule", "Group")
        assert group is not None and group.name == "Schule und Kita"
        assert group.posting_restricted_to_mods
        row = await group_store.get(conn, group.id)
        assert row is not None and row.rules_source == "1. Bleiben Sie sachlich."
        assert row.default_kind == "discussion"
        assert [m.username for m in await group_store.moderators(conn, group.id)] == ["ruth"]
    public = await (await client_for()).get("/groups/schule", headers=HTML)
    assert "Bleiben Sie sachlich." in public.text

    edited = await post_form(ruth, "/admin/groups/schule", "/admin/groups/schule", {
        **fields, "title": "Schulen", "rules": "Keine Werbung.", "default_kind": "question",
        "who_starts": "everyone"})
    assert edited.status_code == 303
    async with ctx.pool.acquire() as conn:
        group = await actor_store.local_by_name(conn, "schule", "Group")
        row = await group_store.get(conn, group.id) if group else None
    assert group is not None and group.name == "Schulen"
    assert not group.posting_restricted_to_mods
    assert row is not None and row.rules_source == "Keine Werbung."
    assert row.default_kind == "question"
    bad_edit = await post_form(ruth, "/admin/groups/schule", "/admin/groups/schule",
                               {**fields, "default_kind": "umfrage"})
    assert bad_edit.status_code == 422 and 'id="f-default_kind-error"' in bad_edit.text

    # Moderators: add a local one, an unknown one is a form error, remove.
    page = "/admin/groups/schule"
    added = await post_form(ruth, page, page + "/moderators",
                            {"action": "add", "actor": "alice"})
    assert added.status_code == 303
    unknown = await post_form(ruth, page, page + "/moderators",
                              {"action": "add", "actor": "niemand"})
    assert unknown.status_code == 404 and "niemand" in unknown.text
    assert 'value="niemand"' in unknown.text
    async with ctx.pool.acquire() as conn:
        assert await group_store.is_moderator(conn, group.id, staff["alice"].actor.id)
    removed = await post_form(ruth, page, page + "/moderators",
                              {"action": "remove", "actor": staff["alice"].actor.ap_id})
    assert removed.status_code == 303
    async with ctx.pool.acquire() as conn:
        assert not await group_store.is_moderator(conn, group.id, staff["alice"].actor.id)

    # Delete, with a confirmation page first.
    confirm = await ruth.get(page + "/delete")
    assert confirm.status_code == 200 and "Gruppe Schulen löschen" in confirm.text
    deleted = await post_form(ruth, page + "/delete", page + "/delete",
                              {"reason": "Zusammengelegt"})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/admin/groups"
    async with ctx.pool.acquire() as conn:
        assert await actor_store.local_by_name(conn, "schule", "Group") is None
    assert (await ruth.get(page)).status_code == 404
    logged = await actions(ctx)
    for action in ("group_create", "group_update", "moderator_add", "moderator_remove",
                   "group_delete"):
        assert action in logged, action
    modlog = await ruth.get("/modlog")
    assert "Zusammengelegt" in modlog.text


async def test_a_moderator_edits_their_own_group(client_for: Client, ctx: Context,
                                                 staff: dict[str, Any]) -> None:
    mia = await client_for("mia")
    page = "/admin/groups/breitband"
    saved = await post_form(mia, page, page, {
        "title": "Glasfaser", "summary": "", "rules": "Nur zum Ausbau.",
        "default_kind": "question", "who_starts": "everyone"})
    assert saved.status_code == 303
    added = await post_form(mia, page, page + "/moderators", {"action": "add",
                                                              "actor": "bob"})
    assert added.status_code == 303
    async with ctx.pool.acquire() as conn:
        row = await group_store.get(conn, staff["group"].id)
        assert row is not None and row.rules_source == "Nur zum Ausbau."
        assert await group_store.is_moderator(conn, staff["group"].id, staff["bob"].actor.id)
    assert (await mia.get(page)).text.count("/delete") == 0
    other = await mia.post("/admin/groups/verkehr", data={"title": "X"})
    assert other.status_code == 403
    assert (await actions(ctx))[-2:] == ["group_update", "moderator_add"]


async def test_what_microblog_followers_get_is_a_group_setting(
        client_for: Client, ctx: Context, staff: dict[str, Any]) -> None:
    mia = await client_for("mia")
    page = "/admin/groups/breitband"
    shown = await mia.get(page)
    assert "Was Follower auf Mastodon und ähnlichen Diensten erhalten" in shown.text
    assert 'name="microblog_fanout" value="threads" checked' in shown.text
    fields = {"title": "Breitbandausbau", "summary": "", "rules": "",
              "default_kind": "question", "who_starts": "everyone"}
    refused = await post_form(mia, page, page, {**fields, "microblog_fanout": "alles"})
    assert refused.status_code == 422
    assert "Bitte wählen Sie, was Follower auf Mastodon und ähnlichen Diensten erhalten." \
        in refused.text
    saved = await post_form(mia, page, page, {**fields, "microblog_fanout": "everything"})
    assert saved.status_code == 303
    async with ctx.pool.acquire() as conn:
        row = await group_store.get(conn, staff["group"].id)
    assert row is not None and row.microblog_fanout == "everything"
    assert 'name="microblog_fanout" value="everything" checked' in (await mia.get(page)).text


async def test_accounts(client_for: Client, ctx: Context, staff: dict[str, Any],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    ruth = await client_for("ruth")
    alice_browser = await client_for("alice")
    found = await ruth.get("/admin/accounts?q=ALICE@example")
    assert found.status_code == 200
    assert 'id="account-alice"' in found.text and 'id="account-bob"' not in found.text
    monkeypatch.setattr(admin_account_pages, "PER_PAGE", 2)
    first = await ruth.get("/admin/accounts")
    assert first.text.count('class="report-item"') == 2
    assert 'href="/admin/accounts?page=2"' in first.text
    second = await ruth.get("/admin/accounts?page=2")
    assert 'id="account-mia"' in second.text  # alice, bob | mia, ruth
    monkeypatch.setattr(admin_account_pages, "PER_PAGE", 25)

    page = "/admin/accounts?q=alice"

    async def act(action: str, **more: str) -> httpx.Response:
        return await post_form(ruth, page, "/admin/accounts/alice",
                               {"action": action, "back": page, **more})

    assert (await alice_browser.get("/settings")).status_code == 200
    reset = await act("sessions")
    assert reset.status_code == 303 and reset.headers["location"] == page
    assert (await alice_browser.get("/settings")).status_code == 303  # logged out
    assert (await act("suspend", reason="Spam")).status_code == 303
    async with ctx.pool.acquire() as conn:
        account = await account_store.by_username(conn, "alice")
    assert account is not None and account.status == "suspended"
    assert (await act("unsuspend")).status_code == 303
    no_office = await act("official", position=" ")
    assert no_office.status_code == 422 and "alice" in no_office.text
    assert (await act("official", position="Bürgermeisterin")).status_code == 303
    listed = await ruth.get(page)
    assert "Bürgermeisterin" in listed.text
    assert (await act("unofficial")).status_code == 303
    assert (await act("explode")).status_code == 422
    own = await post_form(ruth, page, "/admin/accounts/ruth", {"action": "suspend"})
    assert own.status_code == 422

    confirm = await ruth.get("/admin/accounts/alice/delete")
    assert confirm.status_code == 200 and "Konto alice löschen" in confirm.text
    deleted = await post_form(ruth, "/admin/accounts/alice/delete",
                              "/admin/accounts/alice/delete", {"reason": "Auf Wunsch"})
    assert deleted.status_code == 303
    async with ctx.pool.acquire() as conn:
        assert await account_store.by_username(conn, "alice") is None
    assert (await ruth.get("/admin/accounts/alice/delete")).status_code == 404
    logged = await actions(ctx)
    for action in ("account_sessions_reset", "account_suspend", "account_unsuspend",
                   "official_set", "official_withdraw", "account_delete"):
        assert action in logged, action


async def test_api_parity(app_client: httpx.AsyncClient, ctx: Context,
                          staff: dict[str, Any]) -> None:
    ruth, alice = staff["ruth"].headers, staff["alice"].headers
    path = "/api/v1/admin/settings/instance"
    assert (await app_client.get(path, headers=alice)).status_code == 403
    assert (await app_client.put(path, json={"name": "X"}, headers=alice)).status_code == 403
    bad = await app_client.put(path, json={"contact_email": "nein"}, headers=ruth)
    assert bad.status_code == 422 and bad.json()["field"] == "contact_email"
    changed = await app_client.put(path, json={"name": "Stadtforum",
                                               "registration_mode": "closed"}, headers=ruth)
    assert changed.status_code == 200
    assert changed.json()["name"] == "Stadtforum"
    assert changed.json()["registration_mode"] == "closed"
    assert (await app_client.get(path, headers=ruth)).json()["name"] == "Stadtforum"
    actor = await app_client.get("/actor", headers={"Accept": "application/activity+json"})
    assert actor.status_code == 200 and actor.json()["name"] == "Stadtforum"
    renamed = await app_client.put(path, json={"name": "Stadtforum Süd"}, headers=ruth)
    assert renamed.status_code == 200
    actor = await app_client.get("/actor", headers={"Accept": "application/activity+json"})
    assert actor.json()["name"] == "Stadtforum Süd"  # the existing actor follows

    reset = await app_client.post("/api/v1/admin/accounts/bob/sessions/reset", headers=ruth)
    assert reset.status_code == 200 and reset.json()["ended"] >= 1
    assert (await app_client.get("/api/v1/me", headers=staff["bob"].headers)
            ).status_code == 401
    refused = await app_client.post("/api/v1/admin/accounts/bob/sessions/reset",
                                    headers=alice)
    assert refused.status_code == 403

    kind = await app_client.patch("/api/v1/admin/groups/breitband",
                                  json={"default_kind": "discussion"}, headers=ruth)
    assert kind.status_code == 200
    async with ctx.pool.acquire() as conn:
        row = await group_store.get(conn, staff["group"].id)
    assert row is not None and row.default_kind == "discussion"
    logged = await actions(ctx)
    assert "instance_settings_update" in logged and "account_sessions_reset" in logged


async def test_the_default_language_applies_when_the_browser_names_none(
        client_for: Client, staff: dict[str, Any]) -> None:
    anonymous = await client_for()
    plain = {"Accept": "text/html", "Accept-Language": "fr"}
    assert '<html lang="de">' in (await anonymous.get("/", headers=plain)).text
    ruth = await client_for("ruth")
    saved = await post_form(ruth, "/admin/settings", "/admin/settings", {
        "name": "Forum", "description": "", "lead_markdown": "", "contact_email": "",
        "default_language": "en", "registration_mode": "open",
        "email_confirmation": "required", "allowed_domains": ""})
    assert saved.status_code == 303
    english = await anonymous.get("/", headers=plain)
    assert '<html lang="en">' in english.text and "Topic groups" in english.text
    german = await anonymous.get("/", headers={**plain, "Accept-Language": "de"})
    assert '<html lang="de">' in german.text  # the browser's choice still wins
