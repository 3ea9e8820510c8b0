"""GET /api/v1/instance (issue 18): the instance in the shape of Mastodon's v2 Instance
entity, from the admins' settings (fedi/forum/instance_settings.py), the registration mode,
the Netiquette's rules and the legal pages; checked against the OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import instance_settings, terms
from fedi.forum.staff import staff_of
from fedi.routes.api_instance import RULES_KIND, rules_of
from tests.routes.test_openapi import Api
from tests.support.helpers import make_user

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


async def test_defaults_from_the_config(app_client: httpx.AsyncClient) -> None:
    api = Api(app_client)
    data: dict[str, Any] = await api("GET", "/api/v1/instance", status=200)
    assert data["domain"] == "127.0.0.1:8000"
    assert data["title"] == "Teststadt"  # FEDI_INSTANCE_NAME, nothing stored yet
    assert data["description"] == "" and data["contact"] == {"email": None}
    assert data["languages"] == ["de", "en"]
    assert data["registrations"] == {"enabled": True, "approval_required": False,
                                     "mode": "open"}
    assert data["usage"] == {"users": {"active_month": 0}}
    assert data["links"] == {
        "impressum": f"{BASE}/impressum", "privacy": f"{BASE}/datenschutz",
        "terms": f"{BASE}/nutzungsbedingungen", "accessibility": f"{BASE}/barrierefreiheit",
        "rules": f"{BASE}/regeln", "statistics": f"{BASE}/statistik"}
    assert data["rules"] == []  # no Netiquette published yet


async def test_admin_settings_and_registration_mode_show(app_client: httpx.AsyncClient,
                                                         ctx: Context) -> None:
    admin = await make_user(ctx, "verwaltung", admin=True)
    await instance_settings.update(ctx, await staff_of(ctx, admin.account), {
        "name": "Gemeinde Musterstadt", "description": "Das Bürgerforum der Gemeinde.",
        "contact_email": "forum@musterstadt.example", "default_language": "en",
        "registration_mode": "approval"})
    api = Api(app_client)
    data: dict[str, Any] = await api("GET", "/api/v1/instance", status=200)
    assert data["title"] == "Gemeinde Musterstadt"
    assert data["description"] == "Das Bürgerforum der Gemeinde."
    assert data["contact"] == {"email": "forum@musterstadt.example"}
    assert data["languages"] == ["en", "de"]
    assert data["registrations"] == {"enabled": True, "approval_required": True,
                                     "mode": "approval"}
    assert data["usage"]["users"]["active_month"] == 1  # the admin's token is new
    statistics = await api("GET", "/api/v1/statistics", status=200)
    assert data["usage"]["users"]["active_month"] == statistics["accounts"]["active_month"]

    await instance_settings.update(ctx, await staff_of(ctx, admin.account),
                                   {"registration_mode": "closed"})
    closed = await api("GET", "/api/v1/instance", status=200)
    assert closed["registrations"] == {"enabled": False, "approval_required": False,
                                       "mode": "closed"}


async def test_rules_of_the_netiquette(app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "verwaltung", admin=True)
    await terms.publish(ctx, await staff_of(ctx, admin.account), RULES_KIND,
                        "# Netiquette\n\n- Bleiben Sie sachlich.\n- Keine Werbung.\n")
    data = await Api(app_client)("GET", "/api/v1/instance", status=200)
    assert data["rules"] == [{"id": "1", "text": "Bleiben Sie sachlich."},
                             {"id": "2", "text": "Keine Werbung."}]


def test_rules_are_the_list_items_or_else_the_paragraphs() -> None:
    markdown = ("# Forenregeln\n\nWir bitten um Folgendes:\n\n"
                "1. Bleiben Sie sachlich\n   und freundlich.\n"
                "2. Keine Werbung.\n\n* Keine persönlichen Daten anderer.\n")
    assert rules_of(markdown) == [
        {"id": "1", "text": "Bleiben Sie sachlich und freundlich."},
        {"id": "2", "text": "Keine Werbung."},
        {"id": "3", "text": "Keine persönlichen Daten anderer."}]
    assert rules_of("## Regeln\n\nSeien Sie freundlich.\n\nBleiben Sie\nbeim Thema.") == [
        {"id": "1", "text": "Seien Sie freundlich."},
        {"id": "2", "text": "Bleiben Sie beim Thema."}]
    assert rules_of("") == []
