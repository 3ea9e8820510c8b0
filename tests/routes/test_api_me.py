"""The caller's settings in the JSON API (GET/PATCH /api/v1/me, password, log out
everywhere) and official accounts (PUT/DELETE /api/v1/admin/accounts/{name}/official),
checked against the OpenAPI document as they answer."""

from __future__ import annotations

import email
import email.policy
import re

import httpx
import pytest

from fedi.core.context import Context
from fedi.routes import api_admin_officials, api_me_spec
from tests.routes.test_openapi import Api
from tests.support.helpers import make_group, make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def test_profile_is_read_changed_and_validated(app_client: httpx.AsyncClient,
                                                     ctx: Context) -> None:
    api = Api(app_client)
    anna = await make_user(ctx, "anna")
    me = await api("GET", "/api/v1/me", anna, status=200)
    assert (me["bio"], me["affiliation"], me["language"], me["official"]) == ("", None, None,
                                                                             None)
    changed = await api("PATCH", "/api/v1/me", anna, status=200, json={
        "display_name": "Anna Amt", "bio": "Ich kümmere mich um **Glasfaser**.<script>x",
        "organisation": "Gemeinde Musterstadt", "municipality": "Musterstadt",
        "affiliation": "administration", "language": "en"})
    assert changed["display_name"] == "Anna Amt"
    assert "<strong>Glasfaser</strong>" in changed["bio_html"]
    assert "<script" not in changed["bio_html"]
    assert (changed["affiliation"], changed["language"]) == ("administration", "en")
    # Only the fields sent change.
    again = await api("PATCH", "/api/v1/me", anna, status=200, json={"municipality": ""})
    assert (again["municipality"], again["organisation"]) == ("", "Gemeinde Musterstadt")

    bad = await api("PATCH", "/api/v1/me", anna, status=422, json={"affiliation": "king"})
    assert bad["field"] == "affiliation"
    assert "affiliation must be one of administration, mayor" in bad["message"]
    bad = await api("PATCH", "/api/v1/me", anna, status=422, json={"language": "fr"})
    assert bad["field"] == "language"
    bad = await api("PATCH", "/api/v1/me", anna, status=422, json={"bio": "x" * 2001})
    assert "at most 2000 characters" in bad["message"]
    bad = await api("PATCH", "/api/v1/me", anna, status=422, json={"role": "admin"})
    assert bad["field"] == "role" and "unknown field" in bad["message"]
    await api("PATCH", "/api/v1/me", anna, status=400, content=b"[]")
    await api("PATCH", "/api/v1/me", status=401, json={})
    assert (await api("GET", "/api/v1/me", anna, status=200))["affiliation"] == "administration"


async def test_password_change_needs_the_current_password(app_client: httpx.AsyncClient,
                                                          ctx: Context) -> None:
    api = Api(app_client)
    anna = await make_user(ctx, "anna")
    other = (await app_client.post("/api/v1/auth/token", json={
        "username": "anna", "password": PASSWORD})).json()["token"]
    wrong = await api("POST", "/api/v1/me/password", anna, status=403, json={
        "current_password": "not my password", "new_password": "lila Laterne am Fluss"})
    assert wrong["error"] == "wrong_password"
    weak = await api("POST", "/api/v1/me/password", anna, status=422, json={
        "current_password": PASSWORD, "new_password": "passwort123"})
    assert weak["field"] == "password"
    await api("POST", "/api/v1/me/password", anna, status=204, json={
        "current_password": PASSWORD, "new_password": "lila Laterne am Fluss"})
    # The old password no longer logs in, the new one does; other tokens ended.
    old = await app_client.post("/api/v1/auth/token",
                                json={"username": "anna", "password": PASSWORD})
    assert old.status_code == 401
    new = await app_client.post("/api/v1/auth/token",
                                json={"username": "anna", "password": "lila Laterne am Fluss"})
    assert new.status_code == 200
    await api("GET", "/api/v1/me", anna, status=200)
    await api("GET", "/api/v1/me", other, status=401)


async def test_log_out_everywhere_ends_every_session_and_token(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    anna = await make_user(ctx, "anna")
    second = (await app_client.post("/api/v1/auth/token", json={
        "username": "anna", "password": PASSWORD})).json()["token"]
    tokens = await api("GET", "/api/v1/auth/tokens", anna, status=200)
    assert len(tokens["items"]) == 2
    # Every settings operation once more, so this test covers the whole spec part.
    await api("GET", "/api/v1/me", anna, status=200)
    await api("PATCH", "/api/v1/me", anna, status=200, json={"affiliation": "citizen"})
    await api("POST", "/api/v1/me/password", anna, status=204, json={
        "current_password": PASSWORD, "new_password": "lila Laterne am Fluss"})
    second = (await app_client.post("/api/v1/auth/token", json={
        "username": "anna", "password": "lila Laterne am Fluss"})).json()["token"]
    await api("DELETE", "/api/v1/me/sessions", second, status=204)
    await api("GET", "/api/v1/me", anna, status=401)
    await api("GET", "/api/v1/me", second, status=401)
    async with ctx.pool.acquire() as conn:
        left = await conn.fetchval("SELECT count(*) FROM api_tokens WHERE account_id = $1",
                                   anna.account.id)
    assert left == 0


async def test_official_badge_in_the_api_and_the_actor_document(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    api = Api(app_client)
    admin = await make_user(ctx, "chefin", admin=True)
    anna = await make_user(ctx, "anna")
    await make_group(ctx)
    thread = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                       json={"title": "Ausbau", "content": "Stand der Dinge"})
    assert thread["author"]["official"] is None

    await api("PUT", "/api/v1/admin/accounts/anna/official", anna, status=403,
              json={"position": "Königin"})
    bad = await api("PUT", "/api/v1/admin/accounts/anna/official", admin, status=422,
                    json={"position": "  "})
    assert bad["field"] == "position"
    await api("PUT", "/api/v1/admin/accounts/niemand/official", admin, status=404,
              json={"position": "x"})
    marked = await api("PUT", "/api/v1/admin/accounts/anna/official", admin, status=200,
                       json={"position": "Bürgermeisterin der Gemeinde Musterstadt"})
    assert marked["official"] == {"position": "Bürgermeisterin der Gemeinde Musterstadt"}

    tree = await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
    assert tree["author"]["official"]["position"] == "Bürgermeisterin der Gemeinde Musterstadt"
    me = await api("GET", "/api/v1/me", anna, status=200)
    assert me["official"] == {"position": "Bürgermeisterin der Gemeinde Musterstadt"}
    r = await app_client.get("/users/anna", headers={"Accept": "application/activity+json"})
    fields = {f["name"]: f["value"] for f in r.json()["attachment"]}
    assert fields["Offizielle Funktion"] == "Bürgermeisterin der Gemeinde Musterstadt"
    assert all(f["type"] == "PropertyValue" for f in r.json()["attachment"])

    async with ctx.pool.acquire() as conn:
        logged = await conn.fetch("SELECT action, details FROM modlog WHERE action LIKE"
                                  " 'official_%' ORDER BY id")
    assert [row["action"] for row in logged] == ["official_set"]
    modlog = await app_client.get("/modlog")
    assert "Als offizielles Konto gekennzeichnet" in modlog.text

    withdrawn = await api("DELETE", "/api/v1/admin/accounts/anna/official", admin,
                          status=200)
    assert withdrawn["official"] is None
    await api("DELETE", "/api/v1/admin/accounts/anna/official", admin, status=404)
    tree = await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
    assert tree["author"]["official"] is None
    api.assert_covers(api_admin_officials)


def _text_of(message: bytes) -> str:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def test_email_change_is_confirmed_at_the_new_address(app_client: httpx.AsyncClient,
                                                            ctx: Context) -> None:
    api = Api(app_client)
    anna = await make_user(ctx, "anna")
    await make_user(ctx, "ben")
    wrong = await api("POST", "/api/v1/me/email", anna, status=403, json={
        "current_password": "nicht meins", "email": "anna@musterstadt.de"})
    assert wrong["error"] == "wrong_password"
    await api("POST", "/api/v1/me/email", anna, status=409, json={
        "current_password": PASSWORD, "email": "Ben@example.org"})
    await api("POST", "/api/v1/me/email", anna, status=422, json={
        "current_password": PASSWORD, "email": "kein-at-zeichen"})
    await api("POST", "/api/v1/me/email", anna, status=202, json={
        "current_password": PASSWORD, "email": "anna@musterstadt.de"})
    async with ctx.pool.acquire() as conn:
        mails = {r["recipient"]: _text_of(r["message"]) for r in await conn.fetch(
            "SELECT recipient, message FROM mail_outbox ORDER BY id")}
    assert set(mails) == {"anna@musterstadt.de", "anna@example.org"}
    assert "anna@musterstadt.de" in mails["anna@example.org"]  # the old address is told
    link = re.search(r"http://\S+/email/confirm/(\S+)", mails["anna@musterstadt.de"])
    assert link is not None
    # Nothing changes before the link is confirmed.
    assert (await api("GET", "/api/v1/me", anna, status=200))["email"] == "anna@example.org"
    await api("POST", "/api/v1/auth/email-change/confirm", status=400,
              json={"token": "erfunden"})
    await api("POST", "/api/v1/auth/email-change/confirm", status=204,
              json={"token": link.group(1)})
    assert (await api("GET", "/api/v1/me", anna, status=200))["email"] == "anna@musterstadt.de"
    again = await api("POST", "/api/v1/auth/email-change/confirm", status=400,
                      json={"token": link.group(1)})
    assert again["error"] == "invalid_token"
    # The other settings operations once, so this test covers the whole spec part.
    await api("PATCH", "/api/v1/me", anna, status=200, json={"affiliation": "citizen"})
    await api("POST", "/api/v1/me/password", anna, status=204, json={
        "current_password": PASSWORD, "new_password": "lila Laterne am Fluss"})
    await api("DELETE", "/api/v1/me/sessions", anna, status=204)
    api.assert_covers(api_me_spec)
