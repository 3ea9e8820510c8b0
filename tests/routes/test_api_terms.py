"""Terms of use and privacy policy through the JSON API (issue 13 point 9): sign-up needs
them accepted, a new version blocks writing until it is accepted, admins publish and list
versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import terms
from storage import accounts as account_store
from tests.support.helpers import User, make_group, make_user

PASSWORD = "correct horse battery"
BLOCKED = {"error": "terms_not_accepted",
           "message": "The terms of use or the privacy policy have changed: please read and "
                      "accept the new version before you write again."}


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def call(client: httpx.AsyncClient, method: str, path: str, user: User | None,
               status: int, **kwargs: Any) -> Any:
    r = await client.request(method, path, headers=user.headers if user else None, **kwargs)
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def sign_up_body(name: str, **extra: Any) -> dict[str, Any]:
    return {"username": name, "email": f"{name}@example.org", "password": PASSWORD, **extra}


@pytest.mark.parametrize("extra", [{}, {"accept_terms": False}, {"accept_terms": None}])
async def test_sign_up_without_accepting_the_terms_is_400(
        app_client: httpx.AsyncClient, ctx: Context, extra: dict[str, Any]) -> None:
    r = await app_client.post("/api/v1/accounts", json=sign_up_body("jana", **extra))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "terms_not_accepted"
    assert '"accept_terms": true' in body["message"]
    async with ctx.pool.acquire() as conn:
        assert await account_store.by_username(conn, "jana") is None


async def test_accept_terms_must_be_a_boolean(app_client: httpx.AsyncClient) -> None:
    r = await app_client.post("/api/v1/accounts",
                              json=sign_up_body("jana", accept_terms="yes"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "accept_terms"


async def test_sign_up_stores_the_acceptance_with_the_time(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    before = datetime.now(UTC)
    r = await app_client.post("/api/v1/accounts", json=sign_up_body("jana", accept_terms=True))
    assert r.status_code == 201, r.text
    async with ctx.pool.acquire() as conn:
        account = await account_store.by_username(conn, "jana")
        assert account is not None
        accepted = await terms.acceptances(conn, account)
    assert sorted((a.kind, a.version) for a in accepted) == [("privacy", 1), ("terms", 1)]
    for acceptance in accepted:
        assert before <= acceptance.accepted_at <= datetime.now(UTC)


async def test_a_new_version_blocks_writing_until_it_is_accepted(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    anna = await make_user(ctx, "anna")
    carla = await make_user(ctx, "carla")
    await make_group(ctx)
    thread = await call(app_client, "POST", "/api/v1/groups/breitband/threads", carla, 201,
                        json={"title": "Glasfaser", "content": "Wann?"})
    # An account an admin made is bound by the versions current at its creation.
    listed = await call(app_client, "GET", "/api/v1/terms", anna, 200)
    assert [(d["kind"], d["version"], d["accepted"]) for d in listed["items"]] == \
        [("terms", 1, True), ("privacy", 1, True)]

    published = await call(app_client, "PUT", "/api/v1/admin/terms/privacy", admin, 201,
                           json={"text": "## Datenschutz\n\nNeu gefasst."})
    assert (published["kind"], published["version"]) == ("privacy", 2)
    assert published["html"] == "<h2>Datenschutz</h2>\n<p>Neu gefasst.</p>"
    assert published["published_by"] == "chefin"

    # Every way of writing is refused with the policy's sentence; reporting is not.
    writes = [
        ("POST", "/api/v1/groups/breitband/threads", {"title": "Neu", "content": "x"}),
        ("POST", f"/api/v1/posts/{thread['id']}/replies", {"content": "Antwort"}),
        ("POST", f"/api/v1/posts/{thread['id']}/like", None),
        ("POST", "/api/v1/groups/breitband/follow", None),
    ]
    for method, path, body in writes:
        assert await call(app_client, method, path, anna, 403, json=body) == BLOCKED, path
    await call(app_client, "POST", "/api/v1/reports", anna, 201,
               json={"post_id": thread["id"], "reason": "Spam"})
    # The admin who published was created before it too: the same rule holds.
    assert await call(app_client, "POST", f"/api/v1/posts/{thread['id']}/like", admin,
                      403) == BLOCKED

    listed = await call(app_client, "GET", "/api/v1/terms", anna, 200)
    assert [(d["kind"], d["version"], d["accepted"]) for d in listed["items"]] == \
        [("terms", 1, True), ("privacy", 2, False)]
    refused = await call(app_client, "POST", "/api/v1/terms/accept", anna, 409,
                         json={"kind": "privacy", "version": 1})
    assert refused["field"] == "version"
    await call(app_client, "POST", "/api/v1/terms/accept", anna, 204,
               json={"kind": "privacy", "version": 2})
    await call(app_client, "POST", "/api/v1/terms/accept", anna, 204,
               json={"kind": "privacy", "version": 2})  # again: nothing changes
    for method, path, body in writes:
        r = await app_client.request(method, path, json=body, headers=anna.headers)
        assert r.status_code in (200, 201), (path, r.text)
    assert await call(app_client, "POST", f"/api/v1/posts/{thread['id']}/like", admin,
                      403) == BLOCKED

    # An account created after the new version is bound by it from the start.
    later = await make_user(ctx, "bert")
    await call(app_client, "POST", f"/api/v1/posts/{thread['id']}/like", later, 200)


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"kind": "agb", "version": 1}, 422, "kind"),
    ({"kind": "terms", "version": "1"}, 422, "version"),
    ({"kind": "terms", "version": True}, 422, "version"),
    ({"kind": "terms"}, 422, "version"),
    ({"version": 1}, 422, "kind"),
    ({"kind": "terms", "version": 7}, 409, "version"),
])
async def test_accepting_checks_what_it_is_given(
        app_client: httpx.AsyncClient, ctx: Context, body: dict[str, Any], status: int,
        field: str) -> None:
    anna = await make_user(ctx, "anna")
    answer = await call(app_client, "POST", "/api/v1/terms/accept", anna, status, json=body)
    assert answer["field"] == field and answer["message"]
    await call(app_client, "POST", "/api/v1/terms/accept", None, 401, json=body)


async def test_admins_publish_and_list_versions(app_client: httpx.AsyncClient,
                                                ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    user = await make_user(ctx, "anna")
    path = "/api/v1/admin/terms/terms"
    await call(app_client, "PUT", path, user, 403, json={"text": "Meine Regeln"})
    await call(app_client, "GET", path, user, 403)
    await call(app_client, "PUT", path, admin, 201, json={"text": "Zweite Fassung"})
    same = await call(app_client, "PUT", path, admin, 409, json={"text": "  Zweite Fassung\n"})
    assert "version 2" in same["message"]
    for text in ("", "   ", "x\u0000y"):
        await call(app_client, "PUT", path, admin, 422, json={"text": text})
    await call(app_client, "PUT", path, admin, 422,
               json={"text": "x" * (terms.TEXT_MAX + 1)})
    await call(app_client, "PUT", "/api/v1/admin/terms/agb", admin, 422, json={"text": "x"})
    versions = await call(app_client, "GET", path, admin, 200)
    assert [(v["version"], v["published_by"], v["text"]) for v in versions["items"]] == [
        (2, "chefin", "Zweite Fassung"), (1, None, versions["items"][1]["text"])]
    assert "Vorlage" in versions["items"][1]["text"]  # the built-in template
    current = await call(app_client, "GET", "/api/v1/terms", None, 200)
    assert [(d["version"], d["accepted"]) for d in current["items"]] == [(2, None), (1, None)]
    assert current["items"][0]["url"].endswith("/nutzungsbedingungen")
    async with ctx.pool.acquire() as conn:
        logged = await conn.fetch("SELECT action, details, public FROM modlog"
                                  " WHERE action = 'terms_publish'")
    assert [(r["details"], r["public"]) for r in logged] == [
        ({"kind": "terms", "version": 2}, True)]
