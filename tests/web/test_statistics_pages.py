"""The public statistics (issue 18): the page /statistik (an accessible table), its CSV
export for German spreadsheets, GET /api/v1/statistics (checked against the OpenAPI
document) and NodeInfo, all reporting the counts of one scene built with known numbers."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from tests.routes.test_openapi import Api
from tests.support.statistics_scene import Scene, build_scene

COLUMNS = ["threads", "replies", "questions", "questions_solved", "events_upcoming",
           "events_past", "remote_followers"]


@pytest.fixture
async def scene(app_client: httpx.AsyncClient) -> Scene:
    ctx: Context = app_client.app.state.ctx  # type: ignore[attr-defined]
    return await build_scene(ctx)


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row_html, re.S)]


async def test_page_shows_an_accessible_table(app_client: httpx.AsyncClient,
                                              scene: Scene) -> None:
    response = await app_client.get("/statistik")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Statistik</h1>" in html
    assert re.search(r'<caption id="stats-caption">Themen, Fragen, Veranstaltungen', html)
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert head.count('<th scope="col">') == 1 + len(COLUMNS)
    assert _cells(head) == ["Gruppe", "Themen", "Antworten", "Fragen", "Gelöste Fragen",
                            "Nächste Veranstaltungen", "Vergangene Veranstaltungen",
                            "Folgende von anderen Servern"]
    rows = re.findall(r"<tr>(.*?)</tr>", html[html.index("<tbody>"):], re.S)
    by_name = {_cells(r)[0]: _cells(r)[1:] for r in rows}
    expected = scene.expected_groups
    assert by_name["Breitbandausbau"] == [str(expected["breitband"][c]) for c in COLUMNS]
    assert by_name["Schulen"] == [str(expected["schule"][c]) for c in COLUMNS]
    assert by_name["Gesamt"] == [str(scene.expected_totals[c]) for c in COLUMNS]
    assert 'th scope="row"><a href="/g/breitband">' in html
    summary = re.sub(r"\s+", " ", html[html.index("<dl"):html.index("</dl>")])
    assert f"<dt>Konten</dt> <dd>{scene.accounts}</dd>" in summary
    assert f"<dt>Aktive Konten (30 Tage)</dt> <dd>{scene.active_month}</dd>" in summary
    assert 'href="/statistik.csv"' in html

    english = await app_client.get("/statistik", headers={"Accept-Language": "en"})
    assert "<h1>Statistics</h1>" in english.text and "Questions solved" in english.text


async def test_csv_opens_in_german_spreadsheets(app_client: httpx.AsyncClient,
                                                scene: Scene) -> None:
    response = await app_client.get("/statistik.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="statistik-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["content-disposition"])
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Gruppe", "Adresse", "Themen", "Antworten", "Fragen", "Gelöste Fragen",
                       "Nächste Veranstaltungen", "Vergangene Veranstaltungen",
                       "Folgende von anderen Servern", "Konten", "Aktive Konten (30 Tage)"]
    body = {row[1] or row[0]: row for row in rows[1:]}
    assert set(body) == {"breitband", "schule", "Gesamt"} and len(rows) == 4
    for name, counts in scene.expected_groups.items():
        assert body[name][2:9] == [str(counts[c]) for c in COLUMNS]
        assert body[name][9:] == ["", ""]
    assert body["breitband"][0] == "Breitbandausbau"
    assert body["Gesamt"][2:] == [str(scene.expected_totals[c]) for c in COLUMNS] + [
        str(scene.accounts), str(scene.active_month)]


async def test_api_and_nodeinfo_report_the_same_counts(app_client: httpx.AsyncClient,
                                                       scene: Scene) -> None:
    api = Api(app_client)
    data: dict[str, Any] = await api("GET", "/api/v1/statistics", status=200)
    assert data["accounts"] == {"total": scene.accounts, "active_month": scene.active_month,
                                "active_halfyear": scene.active_halfyear}
    assert data["local_posts"] == scene.local_posts
    assert data["totals"] == scene.expected_totals
    groups = {g["name"]: g for g in data["groups"]}
    for name, counts in scene.expected_groups.items():
        assert {c: groups[name][c] for c in COLUMNS} == counts
    assert groups["breitband"]["url"] == "http://127.0.0.1:8000/groups/breitband"
    assert groups["schule"]["title"] == "Schulen"

    for version in ("2.0", "2.1"):
        nodeinfo = (await app_client.get(f"/nodeinfo/{version}")).json()
        assert nodeinfo["usage"] == {
            "users": {"total": data["accounts"]["total"],
                      "activeMonth": data["accounts"]["active_month"],
                      "activeHalfyear": data["accounts"]["active_halfyear"]},
            "localPosts": data["local_posts"]}
