"""The OpenAPI document (/api/v1/openapi.json): valid OpenAPI 3.1, every shape a named
schema, every route documented, and, checked against real answers of the app, true to
what the API sends: each answer's status must be documented for its operation and its
body must match the declared schema with no undocumented fields."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Route

from fedi.app import collect_routes
from fedi.core.context import Context
from fedi.routes import (
    api_accounts_spec,
    api_admin_groups_spec,
    api_admin_spec,
    api_forum_spec,
    api_modlog_spec,
    api_terms_spec,
)
from fedi.routes.openapi import build_document
from tests.support.helpers import User, make_group, make_user

DOC = build_document("http://127.0.0.1:8000")
METHODS = ("get", "put", "post", "delete", "patch")
ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        pointer = node["$ref"]
        assert pointer.startswith("#/"), pointer
        target: Any = doc
        for part in pointer[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


# --- the document itself ------------------------------------------------------------------


async def test_served_document_is_valid_openapi(app_client: httpx.AsyncClient) -> None:
    r = await app_client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    served = r.json()
    assert served == DOC
    validate_spec(served)  # raises with the first violation of the OpenAPI 3.1 schema


def test_the_validator_catches_a_broken_document() -> None:
    broken = copy.deepcopy(DOC)
    broken["paths"]["/api/v1/me"]["get"]["responses"]["200"] = {"content": {}}  # no description
    with pytest.raises(Exception, match="description"):
        validate_spec(broken)


def test_every_api_route_is_documented_and_nothing_else() -> None:
    served = {
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method.lower())
        for route in collect_routes()
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or ()) if method != "HEAD"
    }
    documented = {(path, method) for path, method, _ in operations(DOC)}
    assert served == documented


def test_every_ref_resolves_and_every_schema_is_used() -> None:
    refs = {node["$ref"] for node in walk(DOC) if isinstance(node, dict) and "$ref" in node}
    for pointer in refs:
        resolve(DOC, {"$ref": pointer})  # KeyError when dangling
    named = {f"#/components/schemas/{name}" for name in DOC["components"]["schemas"]}
    assert named - refs == set(), "schemas nobody refers to"
    shared = {f"#/components/responses/{name}" for name in DOC["components"]["responses"]}
    assert shared - refs == set(), "shared responses nobody refers to"


def test_no_bare_objects_anywhere() -> None:
    """A client generator turns {"type": "object"} into an untyped map: every object says
    its properties, or says explicitly that it is free-form."""
    for node in walk(DOC):
        if isinstance(node, dict) and node.get("type") == "object":
            assert "properties" in node or node.get("additionalProperties") is True, node


def test_operations_name_their_schemas() -> None:
    ids: list[str] = []
    for path, method, op in operations(DOC):
        where = f"{method.upper()} {path}"
        ids.append(op["operationId"])
        assert op["summary"] and op["tags"], where
        body = op.get("requestBody")
        if body is not None:
            # JSON, or a multipart upload (POST /api/v1/media).
            (schema,) = [c["schema"] for c in body["content"].values()]
            assert set(schema) == {"$ref"}, f"{where}: inline request body"
        for status, response in op["responses"].items():
            answer = resolve(DOC, response)
            content = answer.get("content")
            if status.startswith("2"):
                if status == "204":
                    assert content is None, where
                    continue
                # JSON, or one named binary type (the data export's ZIP).
                (schema,) = [c["schema"] for c in content.values()]
                assert set(schema) == {"$ref"}, f"{where} {status}: not a named schema"
                assert schema["$ref"].startswith("#/components/schemas/"), where
            else:
                assert status[0] in "45", f"{where}: {status}"
                assert content["application/json"]["schema"] == ERROR_REF, f"{where} {status}"
                assert answer["description"], where
            if "security" in op:
                assert "401" in op["responses"], where
    assert len(ids) == len(set(ids)), "duplicate operationId"


# --- the document against the real answers --------------------------------------------------


def strict(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy in which every described object refuses undocumented fields: an answer that
    grew a field the document does not name fails the conformance check."""
    doc = copy.deepcopy(doc)
    for node in walk(doc["components"]["schemas"]):
        if isinstance(node, dict) and "properties" in node:
            node.setdefault("additionalProperties", False)
    return doc


STRICT = strict(DOC)


def template_of(method: str, url: str) -> str:
    """The documented path whose template matches ``url``; literal segments win."""
    path = url.split("?", 1)[0]
    matches = []
    for template, item in DOC["paths"].items():
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if method in item and re.match(pattern, path):
            matches.append(template)
    assert matches, f"{method.upper()} {path} is in no documented path"
    return min(matches, key=lambda t: t.count("{"))


class Api:
    """Sends requests to the app and checks every answer against the document."""

    def __init__(self, client: httpx.AsyncClient | None) -> None:
        self.client = client
        self.covered: set[tuple[str, str, str]] = set()

    async def __call__(self, method: str, url: str, user: User | str | None = None, *,
                       status: int, **kwargs: Any) -> Any:
        """``user``: a test user, or a bearer token."""
        if user is not None:
            token = user if isinstance(user, str) else user.token
            kwargs["headers"] = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
        assert self.client is not None
        r = await self.client.request(method, url, **kwargs)
        assert r.status_code == status, f"{method} {url}: {r.status_code} {r.text}"
        self.check(method.lower(), url, r)
        return r.json() if r.content else None

    def check(self, method: str, url: str, r: httpx.Response) -> None:
        template = template_of(method, url)
        op = STRICT["paths"][template][method]
        status = str(r.status_code)
        where = f"{method.upper()} {template} -> {status}"
        assert status in op["responses"], f"{where}: status not documented"
        answer = resolve(STRICT, op["responses"][status])
        self.covered.add((template, method, status))
        if "content" not in answer:
            assert r.content == b"", where
            return
        schema = answer["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": STRICT["components"]},
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                    for e in validator.iter_errors(r.json())]
        assert not problems, f"{where}: {problems}"

    def assert_covers(self, *modules: Any) -> None:
        """Every operation of ``modules`` was seen answering its success status."""
        wanted = {(path, method, next(s for s in op["responses"] if s.startswith("2")))
                  for module in modules for path, item in module.OPENAPI_PATHS.items()
                  for method, op in item.items()}
        assert wanted - self.covered == set()


def test_the_conformance_check_catches_an_undocumented_field() -> None:
    api = Api(None)  # only the check runs, on answers made up here
    body = {"id": 1, "like_count": 0, "liked": True}
    good = httpx.Response(200, json=body)
    api.check("post", "/api/v1/posts/1/like", good)
    with pytest.raises(AssertionError, match="Additional properties"):
        api.check("post", "/api/v1/posts/1/like", httpx.Response(200, json={**body, "x": 1}))
    with pytest.raises(AssertionError, match="'liked' is a required property"):
        api.check("post", "/api/v1/posts/1/like", httpx.Response(200, json={"id": 1,
                                                                            "like_count": 0}))
    with pytest.raises(AssertionError, match="status not documented"):
        api.check("post", "/api/v1/posts/1/like", httpx.Response(418, json=body))


async def test_account_answers_match_the_document(app_client: httpx.AsyncClient,
                                                  ctx: Context) -> None:
    api = Api(app_client)
    admin = await make_user(ctx, "chefin", admin=True)
    account = await api("POST", "/api/v1/accounts", status=201, json={
        "username": "jonas", "email": "jonas@example.org", "password": "correct horse battery",
        "display_name": "Jonas", "accept_terms": True})
    assert account["username"] == "jonas"
    await api("POST", "/api/v1/accounts", status=409, json={
        "username": "jonas", "email": "j2@example.org", "password": "correct horse battery",
        "accept_terms": True})
    await api("POST", "/api/v1/accounts", status=400, json={
        "username": "jonas2", "email": "j3@example.org", "password": "correct horse battery"})
    await api("POST", "/api/v1/accounts", status=400, content=b"{nope",
              headers={"Content-Type": "application/json"})
    await api("POST", "/api/v1/accounts", status=422, json={"username": "x"})
    login = {"username": "jonas", "password": "correct horse battery"}
    first = await api("POST", "/api/v1/auth/token", status=200, json={**login, "name": "App"})
    second = await api("POST", "/api/v1/auth/token", status=200, json=login)
    await api("POST", "/api/v1/auth/token", status=401, json={**login, "password": "falsch!"})
    jonas = second["token"]
    me = await api("GET", "/api/v1/me", jonas, status=200)
    assert me["email"] == "jonas@example.org"
    await api("GET", "/api/v1/me", status=401)
    tokens = await api("GET", "/api/v1/auth/tokens?limit=1", jonas, status=200)
    assert tokens["next"] is not None
    await api("GET", f"/api/v1/auth/tokens?cursor={tokens['next']}", jonas, status=200)
    await api("GET", "/api/v1/auth/tokens?limit=0", jonas, status=422)
    await api("DELETE", f"/api/v1/auth/tokens/{first['token_id']}", jonas, status=204)
    await api("DELETE", f"/api/v1/auth/tokens/{first['token_id']}", jonas, status=404)
    await api("GET", "/api/v1/admin/settings/registration", admin, status=200)
    await api("GET", "/api/v1/admin/settings/registration", jonas, status=403)
    await api("PUT", "/api/v1/admin/settings/registration", admin, status=200,
              json={"mode": "approval"})
    await api("PUT", "/api/v1/admin/settings/registration", admin, status=422,
              json={"mode": "sometimes"})
    await api("DELETE", "/api/v1/auth/token", jonas, status=204)
    # Past the per-address limit of log-ins: a documented 429 in the Error shape.
    for _ in range(20):
        r = await app_client.post("/api/v1/auth/token", json={**login, "password": "falsch!"})
        api.check("post", "/api/v1/auth/token", r)
        if r.status_code == 429:
            break
    assert r.status_code == 429 and r.headers["Retry-After"].isdigit()
    await api("GET", "/api/v1/openapi.json", status=200)
    api.assert_covers(api_accounts_spec)


async def test_forum_answers_match_the_document(app_client: httpx.AsyncClient,
                                                ctx: Context) -> None:
    api = Api(app_client)
    admin = await make_user(ctx, "chefin", admin=True)
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    await make_group(ctx, moderators=[anna.actor])
    group = await api("POST", "/api/v1/admin/groups", admin, status=201, json={
        "name": "verkehr", "title": "Verkehr", "summary": "Busse und **Bahnen**",
        "rules": "Freundlich bleiben", "language": "de"})
    assert group["moderators"] == ["chefin@127.0.0.1:8000"]
    await api("POST", "/api/v1/admin/groups", admin, status=409,
              json={"name": "verkehr", "title": "Nochmal"})
    await api("POST", "/api/v1/admin/groups", anna, status=403,
              json={"name": "neu", "title": "Neu"})
    await api("PATCH", "/api/v1/admin/groups/verkehr", admin, status=200,
              json={"title": "Verkehr und Mobilität", "reason": "genauer"})
    await api("GET", "/api/v1/groups", status=200)
    await api("GET", "/api/v1/groups/breitband", status=200)
    await api("GET", "/api/v1/groups/niemand", status=404)
    await api("POST", "/api/v1/groups/breitband/follow", ben, status=200)
    joined = await api("GET", "/api/v1/groups/breitband", ben, status=200)
    assert joined["follow_state"] == "accepted"
    await api("DELETE", "/api/v1/groups/breitband/follow", ben, status=200)

    thread = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                       json={"title": "Förderung?", "content": "Wer weiß was zu #Gigabit?"})
    await api("POST", "/api/v1/groups/breitband/threads", anna, status=422,
              json={"title": "", "content": "x"})
    await api("POST", "/api/v1/groups/breitband/threads", status=401,
              json={"title": "x", "content": "x"})
    await api("POST", "/api/v1/groups/breitband/threads", anna, status=400, content=b"[]")
    await api("POST", "/api/v1/groups/verkehr/threads", anna, status=201,
              json={"title": "Busse", "content": "Takt?"})
    reply = await api("POST", f"/api/v1/posts/{thread['id']}/replies", ben, status=201,
                      json={"content": "Ja, hier!"})
    await api("POST", f"/api/v1/posts/{reply['id']}/replies", anna, status=201,
              json={"content": "Erzähl mehr"})
    await api("POST", f"/api/v1/posts/{thread['id']}/like", ben, status=200)
    await api("DELETE", f"/api/v1/posts/{thread['id']}/like", ben, status=200)
    await api("POST", f"/api/v1/posts/{thread['id']}/like", ben, status=200)
    async with ctx.pool.acquire() as conn:
        # The fields a post from another server fills in (fedi/inbound/posts.py).
        await conn.execute(
            "UPDATE posts SET summary = 'Technik', sensitive = true, language = 'de',"
            " attachments = $2 WHERE id = $1", reply["id"],
            [{"url": "https://remote.example/plan.png", "media_type": "image/png",
              "name": None}])
    tree = await api("GET", f"/api/v1/posts/{thread['id']}", ben, status=200)
    assert tree["replies"][0]["attachments"][0]["media_type"] == "image/png"
    assert tree["replies"][0]["replies"], "a nested reply, checked recursively"
    await api("GET", f"/api/v1/posts/{thread['id']}", status=200)
    await api("GET", "/api/v1/posts/999999", status=404)
    await api("PATCH", f"/api/v1/posts/{reply['id']}", anna, status=403, json={"content": "x"})
    await api("PATCH", f"/api/v1/posts/{reply['id']}", ben, status=200,
              json={"content": "Ja, *hier*!"})
    page = await api("GET", "/api/v1/groups/breitband/threads?limit=1", status=200)
    await api("GET", "/api/v1/groups/breitband/threads?cursor=kaputt", status=422)
    assert page["items"][0]["id"] == thread["id"]
    await api("DELETE", f"/api/v1/posts/{reply['id']}", ben, status=204)
    await api("GET", f"/api/v1/posts/{thread['id']}", ben, status=200)  # a deleted reply
    await api("PATCH", f"/api/v1/posts/{reply['id']}", ben, status=410, json={"content": "x"})
    await api("POST", f"/api/v1/posts/{reply['id']}/like", anna, status=410)
    await api("POST", f"/api/v1/posts/{reply['id']}/replies", anna, status=410,
              json={"content": "x"})

    encoded = ben.actor.ap_id.replace(":", "%3A").replace("/", "%2F")
    mods = await api("PUT", f"/api/v1/admin/groups/breitband/moderators/{encoded}", anna,
                     status=200)
    assert len(mods["moderators"]) == 2
    await api("DELETE", "/api/v1/admin/groups/breitband/moderators/ben", anna, status=200)
    await api("DELETE", "/api/v1/admin/groups/breitband/moderators/ben", anna, status=404)
    await api("DELETE", "/api/v1/admin/groups/verkehr", admin, status=204,
              json={"reason": "zusammengelegt"})
    await api("DELETE", "/api/v1/admin/groups/verkehr", admin, status=404)
    api.assert_covers(api_forum_spec, api_admin_groups_spec)


async def test_moderation_answers_match_the_document(app_client: httpx.AsyncClient,
                                                     ctx: Context) -> None:
    api = Api(app_client)
    admin = await make_user(ctx, "chefin", admin=True)
    mod = await make_user(ctx, "mod")
    anna = await make_user(ctx, "anna")
    ben = await make_user(ctx, "ben")
    await make_group(ctx, moderators=[mod.actor])
    first = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                      json={"title": "Werbung", "content": "Kauft Kabel!"})
    second = await api("POST", "/api/v1/groups/breitband/threads", anna, status=201,
                       json={"title": "Frage", "content": "Wann?"})

    base = "/api/v1/admin/posts"
    await api("POST", f"{base}/{first['id']}/remove", mod, status=422, json={})
    removed = await api("POST", f"{base}/{first['id']}/remove", mod, status=200,
                        json={"reason": "Werbung"})
    assert removed["removed_reason"] == "Werbung"
    await api("POST", f"{base}/{first['id']}/remove", mod, status=409, json={"reason": "x"})
    await api("POST", f"{base}/{first['id']}/restore", admin, status=200)
    for action in ("lock", "unlock", "pin", "unpin"):
        await api("POST", f"{base}/{second['id']}/{action}", mod, status=200)
    await api("POST", f"{base}/{second['id']}/lock", anna, status=403)
    await api("POST", f"{base}/999999/lock", mod, status=404)

    ban = await api("POST", "/api/v1/admin/bans", mod, status=201, json={
        "actor": ben.actor.handle, "group": "breitband", "reason": "Beleidigungen",
        "expires_at": "2999-01-01T00:00:00+01:00"})
    await api("POST", "/api/v1/admin/bans", mod, status=409,
              json={"actor": ben.actor.handle, "group": "breitband"})
    await api("POST", "/api/v1/admin/bans", mod, status=422, json={"group": "breitband"})
    await api("GET", "/api/v1/admin/bans", mod, status=200)
    await api("DELETE", f"/api/v1/admin/bans/{ban['id']}", mod, status=200)
    await api("DELETE", f"/api/v1/admin/bans/{ban['id']}", mod, status=409)
    await api("GET", "/api/v1/admin/bans?all=true", admin, status=200)

    report = await api("POST", "/api/v1/reports", ben, status=201,
                       json={"post_id": second["id"], "reason": "Spam"})
    await api("POST", "/api/v1/reports", ben, status=201, json={"actor": "anna", "reason": "x"})
    await api("POST", "/api/v1/reports", ben, status=422, json={"reason": "x"})
    await api("POST", "/api/v1/reports", ben, status=404,
              json={"post_id": 999999, "reason": "x"})
    await api("GET", "/api/v1/admin/reports", mod, status=200)
    await api("GET", "/api/v1/admin/reports?state=kaputt", mod, status=422)
    await api("POST", f"/api/v1/admin/reports/{report['id']}/assign", mod, status=200)
    await api("POST", f"/api/v1/admin/reports/{report['id']}/resolve", mod, status=200,
              json={"resolution": "erledigt"})
    await api("GET", "/api/v1/admin/reports?state=all", admin, status=200)

    await api("PUT", "/api/v1/admin/domains/spam.example", admin, status=200,
              json={"blocked": True, "reason": "Spam"})
    await api("PUT", "/api/v1/admin/domains/spam.example", admin, status=422, json={})
    await api("PUT", "/api/v1/admin/domains/spam.example", mod, status=403,
              json={"blocked": True})
    domains = await api("GET", "/api/v1/admin/domains", admin, status=200)
    assert [d["domain"] for d in domains["items"]] == ["spam.example"]
    await api("DELETE", "/api/v1/admin/domains/spam.example", admin, status=204)

    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO instances (domain, software, software_version, failing_since)"
            " VALUES ('remote.example', 'mastodon', '4.3.0', now())")
        await conn.execute(
            "INSERT INTO inbox_activities (ap_id, type, actor_ap_id, payload, state,"
            " last_error) VALUES ('https://remote.example/a/1', 'Create',"
            " 'https://remote.example/u', '{\"type\": \"Create\"}', 'parked', 'boom'),"
            " ('https://remote.example/a/2', 'Like', 'https://remote.example/u', '{}',"
            " 'parked', 'boom')")
    instances = await api("GET", "/api/v1/admin/instances", admin, status=200)
    assert [i["domain"] for i in instances["items"]] == ["remote.example"]
    await api("POST", "/api/v1/admin/instances/remote.example/retry", admin, status=200)
    await api("POST", "/api/v1/admin/instances/remote.example/reset", admin, status=200)
    await api("POST", "/api/v1/admin/instances/unknown.example/reset", admin, status=404)
    parked = await api("GET", "/api/v1/admin/inbox/parked", admin, status=200)
    await api("GET", "/api/v1/admin/inbox/parked", mod, status=403)
    newest, oldest = (item["id"] for item in parked["items"])
    await api("POST", f"/api/v1/admin/inbox/parked/{newest}/retry", admin, status=204)
    await api("DELETE", f"/api/v1/admin/inbox/parked/{oldest}", admin, status=204)
    await api("DELETE", f"/api/v1/admin/inbox/parked/{oldest}", admin, status=404)

    await api("PUT", "/api/v1/admin/settings/registration", admin, status=200,
              json={"mode": "approval"})
    for name in ("neu", "abgelehnt"):
        await api("POST", "/api/v1/accounts", status=201, json={
            "username": name, "email": f"{name}@example.org",
            "password": "correct horse battery", "accept_terms": True})
    await api("GET", "/api/v1/admin/accounts?status=pending", admin, status=200)
    await api("GET", "/api/v1/admin/accounts?status=kaputt", admin, status=422)
    await api("POST", "/api/v1/admin/accounts/neu/approve", admin, status=200)
    await api("POST", "/api/v1/admin/accounts/abgelehnt/reject", admin, status=200,
              json={"reason": "kein Bezug zur Gemeinde"})
    await api("POST", "/api/v1/admin/accounts/anna/suspend", admin, status=200,
              json={"reason": "Spam"})
    await api("POST", "/api/v1/admin/accounts/anna/suspend", admin, status=409)
    await api("POST", "/api/v1/admin/accounts/anna/unsuspend", admin, status=200)
    await api("POST", "/api/v1/admin/accounts/niemand/approve", admin, status=404)
    await api("GET", "/api/v1/admin/accounts", admin, status=200)

    await api("GET", "/api/v1/admin/settings/moderation", admin, status=200)
    await api("PUT", "/api/v1/admin/settings/moderation", admin, status=200,
              json={"modlog_show_moderators": True})
    await api("PUT", "/api/v1/admin/settings/moderation", admin, status=422, json={})
    await api("GET", "/api/v1/admin/settings/instance", admin, status=200)
    await api("GET", "/api/v1/admin/settings/instance", mod, status=403)
    await api("PUT", "/api/v1/admin/settings/instance", admin, status=200,
              json={"name": "Stadtforum", "lead_markdown": "**Willkommen**",
                    "registration_mode": "approval"})
    await api("PUT", "/api/v1/admin/settings/instance", admin, status=422,
              json={"default_language": "fr"})
    await api("POST", "/api/v1/admin/accounts/ben/sessions/reset", admin, status=200)
    await api("POST", "/api/v1/admin/accounts/niemand/sessions/reset", admin, status=404)
    log = await api("GET", "/api/v1/modlog?group=breitband", status=200)
    assert log["items"] and log["items"][0]["moderator"] is not None
    await api("GET", "/api/v1/modlog?group=niemand", status=404)
    await api("GET", "/api/v1/modlog?limit=2", status=200)
    await api("GET", "/api/v1/admin/modlog", admin, status=200)
    await api("GET", "/api/v1/admin/modlog", mod, status=403)
    api.assert_covers(api_admin_spec, api_modlog_spec)


async def test_terms_answers_match_the_document(app_client: httpx.AsyncClient,
                                                ctx: Context) -> None:
    api = Api(app_client)
    admin = await make_user(ctx, "chefin", admin=True)
    anna = await make_user(ctx, "anna")
    await api("GET", "/api/v1/terms", status=200)
    await api("GET", "/api/v1/terms", anna, status=200)
    await api("GET", "/api/v1/admin/terms/terms", admin, status=200)
    await api("GET", "/api/v1/admin/terms/agb", admin, status=422)
    await api("GET", "/api/v1/admin/terms/terms", anna, status=403)
    new = await api("PUT", "/api/v1/admin/terms/terms", admin, status=201,
                    json={"text": "Neue **Regeln**"})
    await api("PUT", "/api/v1/admin/terms/terms", admin, status=409,
              json={"text": "Neue **Regeln**"})
    await api("PUT", "/api/v1/admin/terms/terms", admin, status=422, json={"text": ""})
    await api("GET", "/api/v1/admin/terms/terms", admin, status=200)
    listed = await api("GET", "/api/v1/terms", anna, status=200)
    assert listed["items"][0]["accepted"] is False
    await api("POST", "/api/v1/terms/accept", anna, status=409,
              json={"kind": "terms", "version": 1})
    await api("POST", "/api/v1/terms/accept", anna, status=422,
              json={"kind": "agb", "version": 1})
    await api("POST", "/api/v1/terms/accept", anna, status=204,
              json={"kind": "terms", "version": new["version"]})
    await api("POST", "/api/v1/terms/accept", status=401, json={"kind": "terms", "version": 2})
    await api("GET", "/api/v1/terms/impressum", status=404)  # nothing published yet
    await api("GET", "/api/v1/terms/agb", status=422)
    await api("PUT", "/api/v1/admin/terms/impressum", admin, status=201,
              json={"text": "Gemeinde Musterstadt"})
    await api("GET", "/api/v1/terms/impressum", status=200)
    await api("GET", "/api/v1/terms/terms", anna, status=200)
    api.assert_covers(api_terms_spec)
