"""Every admin route checks who calls before it looks at the request: anonymous callers get
401 and accounts without the role get 403, whatever the body, query or path holds, so a
refused caller learns nothing about the fields a route takes or what exists."""

from __future__ import annotations

import json
import re

import httpx
from starlette.routing import Route

from fedi.core.context import Context
from tests.support.helpers import make_group, make_user

# Wrong in every way a field can be wrong: types, values, unknown names.
WRONG_FIELDS = json.dumps({
    "reason": 42, "blocked": "yes", "allowed": [], "allowlist_mode": "x",
    "modlog_show_moderators": 3, "mode": 1, "actor": 7, "group": [], "expires_at": "never",
    "remove_content": "x", "assignee": 3, "resolution": {}, "name": 5, "title": [],
    "summary": 9, "restricted": "x", "unknown": True,
}).encode()
BAD_BODIES = (WRONG_FIELDS, b"{not json", b"[" * 5000)
BAD_QUERY = "?limit=0&cursor=%25%25%25&state=x&status=x&all=x"
PATH_VALUES = {"id": "1", "domain": "Not A Domain", "name": "breitband",
               "actor": "nobody@example.com", "token_id": "1", "kind": "terms"}
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def admin_calls(app: object) -> list[tuple[str, str]]:
    """(method, path) of every route under /api/v1/admin/, path parameters filled in."""
    calls = []
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or not route.path.startswith("/api/v1/admin/"):
            continue
        path = _PARAM.sub(lambda m: PATH_VALUES[m.group(1)], route.path)
        calls += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return calls


async def _answers(client: httpx.AsyncClient, method: str, path: str,
                   headers: dict[str, str]) -> list[httpx.Response]:
    if method == "GET":
        return [await client.get(path + BAD_QUERY, headers=headers)]
    return [await client.request(method, path + BAD_QUERY, content=body,
                                 headers={**headers, "Content-Type": "application/json"})
            for body in BAD_BODIES]


async def test_every_admin_route_refuses_before_reading_the_request(
        app_client: httpx.AsyncClient) -> None:
    ctx: Context = app_client.app.state.ctx  # type: ignore[attr-defined]
    user = await make_user(ctx, "uwe")
    await make_group(ctx)
    calls = admin_calls(app_client.app)  # type: ignore[attr-defined]
    assert len(calls) > 30  # the walk found the admin API
    wrong = []
    for method, path in calls:
        for answer in await _answers(app_client, method, path, {}):
            if answer.status_code != 401 or answer.json()["error"] != "unauthorized":
                wrong.append(("anonymous", method, path, answer.status_code, answer.text))
        for answer in await _answers(app_client, method, path, user.headers):
            if answer.status_code != 403 or not answer.json()["message"]:
                wrong.append(("user", method, path, answer.status_code, answer.text))
    assert wrong == [], "\n".join(map(str, wrong))


async def test_the_two_settings_routes_answer_admins_after_the_role_check(
        app_client: httpx.AsyncClient) -> None:
    # The role comes first, but an admin still gets the field errors.
    ctx: Context = app_client.app.state.ctx  # type: ignore[attr-defined]
    admin = await make_user(ctx, "vera", admin=True)
    for path, field in (("/api/v1/admin/domains/spam.example", "blocked"),
                        ("/api/v1/admin/settings/moderation", "allowlist_mode")):
        answer = await app_client.put(path, json={}, headers=admin.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
