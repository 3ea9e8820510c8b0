"""The pages a German public body must publish (issue 18 point 2): Impressum,
accessibility statement with its feedback form, Netiquette, the help page; their versions
and admin form; the footer of every page and of every e-mail; the required documents that
are still missing. Mails go to a real SMTP server on loopback."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.routing import Route

from fedi.app import create_app
from fedi.core.config import parse_smtp_url
from fedi.core.context import Context
from fedi.core.i18n import TIME_ZONE
from fedi.core.mail import render_mail
from fedi.core.mail_send import MailQueue
from fedi.core.queue import Worker
from fedi.core.ratelimit import RateLimiter
from fedi.forum import legal, terms
from fedi.forum import posts as post_service
from fedi.forum.staff import staff_of
from fedi.web.legal_pages import FEEDBACK_ACTION
from tests.conftest import make_settings
from tests.support.helpers import make_group, make_user
from tests.support.smtp import SmtpServer
from tests.web.conftest import csrf_of, log_in, post_form

IMPRESSUM = "## Diensteanbieter\n\nGemeinde **Musterstadt**, Rathausplatz 1, 12345 Musterstadt"
FOOTER = ('href="/impressum"', 'href="/datenschutz"', 'href="/barrierefreiheit"')


def shown(page: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def _ctx(client: httpx.AsyncClient) -> Context:
    ctx: Context = client.app.state.ctx  # type: ignore[attr-defined]
    return ctx


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def site(dsn: str, smtp: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a real SMTP server behind its mail outbox, asking in German."""
    settings = make_settings(smtp=parse_smtp_url(smtp.url))
    app = create_app(settings, dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url,
                                     headers={"Accept-Language": "de"}) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def _browser(site: httpx.AsyncClient, username: str | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=site.app)  # type: ignore[attr-defined]
    client = httpx.AsyncClient(transport=transport, base_url=str(site.base_url),
                               headers={"Accept-Language": "de"})
    if username is not None:
        await log_in(client, username)
    return client


async def _send_mails(site: httpx.AsyncClient) -> None:
    ctx = _ctx(site)
    await Worker(ctx.pool, [MailQueue(ctx)], concurrency=1).run_once()


async def _publish_from_the_form(client: httpx.AsyncClient, kind: str,
                                 text: str) -> httpx.Response:
    return await post_form(client, f"/admin/terms?kind={kind}", "/admin/terms",
                           {"kind": kind, "text": text})


# The pages ---------------------------------------------------------------------------------

async def test_unpublished_pages_say_so_and_never_show_the_template(
        app_client: httpx.AsyncClient) -> None:
    notices = {
        "/impressum": ("Impressum", "hat ihr Impressum noch nicht veröffentlicht"),
        "/barrierefreiheit": ("Erklärung zur Barrierefreiheit",
                              "hat ihre Erklärung zur Barrierefreiheit noch nicht"),
        "/regeln": ("Netiquette und Forenregeln", "hat ihre Regeln noch nicht veröffentlicht"),
    }
    for path, (title, notice) in notices.items():
        page = await app_client.get(path)
        assert page.status_code == 200, path
        assert f"<h1>{title}</h1>" in page.text
        assert notice in shown(page)
        assert "[Name der Kommune]" not in page.text  # no placeholder reaches the public
        assert "Stand:" not in shown(page)
    english = await app_client.get("/impressum", headers={"Accept-Language": "en"})
    assert "<h1>Legal notice</h1>" in english.text
    assert "has not yet published its legal notice" in shown(english)


async def test_the_accessibility_page_has_the_form_and_the_schlichtungsstelle(
        app_client: httpx.AsyncClient) -> None:
    page = await app_client.get("/barrierefreiheit")
    assert 'href="https://www.schlichtungsstelle-bgg.de"' in page.text
    assert "§ 16" in shown(page)
    assert 'action="/barrierefreiheit#feedback"' in page.text
    assert 'name="csrf_token"' in page.text
    for field in ("name", "email", "message"):
        assert f'name="{field}"' in page.text
    assert re.search(r'<textarea id="f-message" name="message"[^>]* required', page.text)
    assert not re.search(r'<input id="f-(name|email)"[^>]* required', page.text)


async def test_a_published_version_shows_its_text_and_date_and_a_new_one_replaces_it(
        client_for: object, ctx: Context, app_client: httpx.AsyncClient) -> None:
    await make_user(ctx, "chefin", admin=True)
    admin = await client_for("chefin")  # type: ignore[operator]
    # The form starts from the German template while nothing is published.
    form = await admin.get("/admin/terms?kind=impressum")
    assert form.status_code == 200
    assert "[Name der Kommune]" in form.text and "§ 5" in form.text
    assert "Noch nicht veröffentlicht" in shown(form)
    sent = await _publish_from_the_form(admin, "impressum", IMPRESSUM)
    assert sent.status_code == 303
    async with ctx.pool.acquire() as conn:  # version 1 dated in the past
        await conn.execute("UPDATE legal_documents SET created_at = '2025-01-02 09:30+00'"
                           " WHERE kind = 'impressum' AND version = 1")
    page = await app_client.get("/impressum")
    text = shown(page)
    assert "Stand: 2. Januar 2025" in text and "(Fassung 1)" in text
    assert "<strong>Musterstadt</strong>" in page.text
    assert "noch nicht veröffentlicht" not in text

    sent = await _publish_from_the_form(admin, "impressum", IMPRESSUM.replace(
        "Rathausplatz 1", "Marktstraße 7") + "\n\n<script>alert(1)</script>")
    assert sent.status_code == 303
    page = await app_client.get("/impressum")
    text = shown(page)
    today = datetime.now(UTC).astimezone(TIME_ZONE)  # pages show dates in German time
    assert "(Fassung 2)" in text and "2. Januar 2025" not in text
    assert f"{today.day}." in text and str(today.year) in text
    assert "Marktstraße 7" in text and "Rathausplatz 1" not in text
    assert "<script>alert" not in page.text  # rendered sanitised
    english = await app_client.get("/impressum", headers={"Accept-Language": "en"})
    assert "As of" in shown(english) and "(version 2)" in shown(english)

    # The old text stays in the history: the admin form lists both, the API returns both.
    history = shown(await admin.get("/admin/terms?kind=impressum"))
    assert "Fassung 2" in history and "Fassung 1" in history
    chefin = await make_user(ctx, "chefin2", admin=True)
    listed = await app_client.get("/api/v1/admin/terms/impressum", headers=chefin.headers)
    assert listed.status_code == 200
    texts = [item["text"] for item in listed.json()["items"]]
    assert len(texts) == 2 and "Rathausplatz 1" in texts[1] and "Marktstraße 7" in texts[0]


async def test_rules_and_accessibility_publish_the_same_way(
        client_for: object, ctx: Context, app_client: httpx.AsyncClient) -> None:
    await make_user(ctx, "chefin", admin=True)
    admin = await client_for("chefin")  # type: ignore[operator]
    template = (await admin.get("/admin/terms?kind=accessibility")).text
    assert "schlichtungsstelle-bgg.de" in template and "PDF" in template
    rules_form = await admin.get("/admin/terms?kind=rules")
    assert "Netiquette" in rules_form.text
    assert (await _publish_from_the_form(admin, "rules", "1. Seien Sie freundlich.\n"
                                                          "2. Bleiben Sie beim Thema.")
            ).status_code == 303
    assert (await _publish_from_the_form(admin, "accessibility", "Teilweise barrierefrei.")
            ).status_code == 303
    rules = await app_client.get("/regeln")
    assert "Seien Sie freundlich." in rules.text and "Stand:" in shown(rules)
    statement = await app_client.get("/barrierefreiheit")
    assert "Teilweise barrierefrei." in statement.text
    assert 'href="https://www.schlichtungsstelle-bgg.de"' in statement.text  # always there
    # The admin start page warns only about what is still missing.
    start = (await admin.get("/admin")).text
    assert "Die Erklärung zur Barrierefreiheit ist noch nicht veröffentlicht." not in start
    assert "Das Impressum ist noch nicht veröffentlicht." in start


async def test_only_admins_edit_and_each_change_is_in_the_modlog(
        client_for: object, ctx: Context, app_client: httpx.AsyncClient) -> None:
    await make_user(ctx, "chefin", admin=True)
    alice = await make_user(ctx, "alice")
    browser = await client_for("alice")  # type: ignore[operator]
    assert (await browser.get("/admin/terms?kind=impressum")).status_code == 403
    assert (await browser.get("/admin/feedback")).status_code == 403
    start = await browser.get("/")
    refused = await browser.post("/admin/terms", data={
        "kind": "impressum", "text": "Hijacked", "csrf_token": csrf_of(start.text)})
    assert refused.status_code == 403
    api = await app_client.put("/api/v1/admin/terms/impressum", headers=alice.headers,
                               json={"text": "Hijacked"})
    assert api.status_code == 403
    anonymous = await client_for()  # type: ignore[operator]
    assert (await anonymous.get("/admin/terms?kind=impressum")).status_code in (302, 303)
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM legal_documents"
                                   " WHERE kind = 'impressum'") == 0

    admin = await client_for("chefin")  # type: ignore[operator]
    assert (await _publish_from_the_form(admin, "impressum", IMPRESSUM)).status_code == 303
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT m.action, m.details, a.username FROM modlog m"
            " JOIN actors a ON a.id = m.moderator_id ORDER BY m.id DESC LIMIT 1")
    assert row["action"] == "legal_publish" and row["username"] == "chefin"
    assert "impressum" in str(row["details"])
    modlog = shown(await app_client.get("/modlog"))
    assert "Impressum, Erklärung zur Barrierefreiheit oder Regeln geändert" in modlog


async def test_bad_input_in_the_admin_form_gets_a_sentence(
        client_for: object, ctx: Context) -> None:
    await make_user(ctx, "chefin", admin=True)
    admin = await client_for("chefin")  # type: ignore[operator]
    empty = await _publish_from_the_form(admin, "accessibility", "   ")
    assert empty.status_code == 422
    assert "Bitte prüfen Sie Ihre Eingaben" in shown(empty)
    assert (await _publish_from_the_form(admin, "accessibility", "Text")).status_code == 303
    same = await _publish_from_the_form(admin, "accessibility", "Text")
    assert same.status_code == 409
    assert "Fassung 1" in shown(same)


async def test_new_legal_documents_ask_nobody_to_accept_them(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    alice = await make_user(ctx, "alice")
    staff = await staff_of(ctx, admin.account)
    for kind in ("impressum", "accessibility", "rules"):
        await terms.publish(ctx, staff, kind, f"Fassung eins von {kind}")
        await terms.publish(ctx, staff, kind, f"Fassung zwei von {kind}")
    async with ctx.pool.acquire() as conn:
        assert await terms.due(conn, alice.account) == []
    listed = await app_client.get("/api/v1/terms", headers=alice.headers)
    assert [item["kind"] for item in listed.json()["items"]] == ["terms", "privacy"]
    accept = await app_client.post("/api/v1/terms/accept", headers=alice.headers,
                                   json={"kind": "impressum", "version": 2})
    assert accept.status_code == 422
    # A change of the privacy policy still asks for consent.
    await terms.publish(ctx, staff, "privacy", "Neue Datenschutzerklärung")
    async with ctx.pool.acquire() as conn:
        assert [d.kind for d in await terms.due(conn, alice.account)] == ["privacy"]


async def test_the_api_reads_each_document(app_client: httpx.AsyncClient,
                                           ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    missing = await app_client.get("/api/v1/terms/impressum")
    assert missing.status_code == 404
    unknown = await app_client.get("/api/v1/terms/agb")
    assert unknown.status_code == 422
    put = await app_client.put("/api/v1/admin/terms/impressum", headers=admin.headers,
                               json={"text": IMPRESSUM})
    assert put.status_code == 201 and put.json()["version"] == 1
    found = await app_client.get("/api/v1/terms/impressum")
    assert found.status_code == 200
    body = found.json()
    assert body["kind"] == "impressum" and body["text"] == IMPRESSUM
    assert body["url"].endswith("/impressum") and body["consent_required"] is False
    assert body["accepted"] is None and "<strong>Musterstadt</strong>" in body["html"]
    privacy = (await app_client.get("/api/v1/terms/privacy", headers=admin.headers)).json()
    assert privacy["consent_required"] is True and privacy["accepted"] is True
    spec = (await app_client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/terms/{kind}" in spec["paths"]


async def test_missing_required_documents(ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    staff = await staff_of(ctx, admin.account)
    async with ctx.pool.acquire() as conn:
        # The privacy policy's built-in placeholder (version 1) does not count.
        assert await legal.missing_required_documents(conn) == [
            "impressum", "privacy", "accessibility"]
    await terms.publish(ctx, staff, "impressum", IMPRESSUM)
    await terms.publish(ctx, staff, "rules", "Seien Sie freundlich.")
    async with ctx.pool.acquire() as conn:
        assert await legal.missing_required_documents(conn) == ["privacy", "accessibility"]
    await terms.publish(ctx, staff, "privacy", "Datenschutzerklärung der Gemeinde")
    await terms.publish(ctx, staff, "accessibility", "Erklärung zur Barrierefreiheit")
    async with ctx.pool.acquire() as conn:
        assert await legal.missing_required_documents(conn) == []


async def test_the_help_page_uses_this_host_and_a_real_group(
        app_client: httpx.AsyncClient, ctx: Context) -> None:
    await make_group(ctx, "radwege", title="Radwege in Teststadt")
    page = await app_client.get("/hilfe")
    assert page.status_code == 200
    text = shown(page)
    handle = f"@radwege@{ctx.settings.host}"
    assert handle in text and "Radwege in Teststadt" in text
    assert "Einer Gruppe von Mastodon aus folgen" in text
    assert "Von Mastodon aus antworten" in text
    assert "Von Mastodon aus ein Thema beginnen" in text
    assert 'href="/datenschutz"' in page.text and 'href="/settings/privacy"' in page.text
    assert re.search(r"\b(du|dein|deine|euch)\b", text, re.IGNORECASE) is None
    english = shown(await app_client.get("/hilfe", headers={"Accept-Language": "en"}))
    assert "Following a group from Mastodon" in english and handle in english


# The feedback form -------------------------------------------------------------------------

async def test_feedback_reaches_every_admin_by_mail_and_in_the_admin_area(
        site: httpx.AsyncClient, smtp: SmtpServer) -> None:
    ctx = _ctx(site)
    await make_user(ctx, "chefin", admin=True)
    await make_user(ctx, "kaemmerer", admin=True)
    await make_user(ctx, "alice")
    visitor = await _browser(site)  # no log-in needed
    sent = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit", {
        "name": "Erika Mustermann", "email": "erika@example.net",
        "page": "/statistik", "message": "Die Tabelle der Statistik ist mit dem "
                                         "Screenreader schwer zu lesen."})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/barrierefreiheit?sent=1#feedback"
    thanks = await visitor.get(sent.headers["location"])
    assert "Vielen Dank! Ihre Nachricht wurde" in shown(thanks)

    await _send_mails(site)
    mails = await smtp.wait_for(2)
    assert sorted(r for m in mails for r in m.recipients) == [
        "chefin@example.org", "kaemmerer@example.org"]
    mail = mails[0]
    assert "Barrierefreiheit" in mail.message["Subject"]
    assert mail.message["Reply-To"] == "erika@example.net"
    assert "Screenreader schwer zu lesen" in mail.text and "Erika Mustermann" in mail.text
    assert "Screenreader schwer zu lesen" in mail.html
    assert f"{ctx.settings.base_url}/admin/feedback" in mail.text

    admin = await _browser(site, "chefin")
    listing = await admin.get("/admin/feedback")
    assert listing.status_code == 200
    text = shown(listing)
    assert "Screenreader schwer zu lesen" in text and "erika@example.net" in text
    assert "/statistik" in text

    # Dealt with: the admin deletes it (personal data); others may not; the modlog knows.
    async with ctx.pool.acquire() as conn:
        feedback_id = await conn.fetchval("SELECT id FROM accessibility_feedback")
    alice = await _browser(site, "alice")
    refused = await alice.post(f"/admin/feedback/{feedback_id}/delete",
                               data={"csrf_token": csrf_of((await alice.get("/")).text)})
    assert refused.status_code == 403
    deleted = await admin.post(f"/admin/feedback/{feedback_id}/delete",
                               data={"csrf_token": csrf_of(listing.text)})
    assert deleted.status_code == 303
    assert "Screenreader" not in (await admin.get("/admin/feedback")).text
    again = await admin.post(f"/admin/feedback/{feedback_id}/delete",
                             data={"csrf_token": csrf_of(listing.text)})
    assert again.status_code == 404
    assert "Diese Rückmeldung gibt es nicht." in shown(again)
    async with ctx.pool.acquire() as conn:
        entry = await conn.fetchrow("SELECT action, public FROM modlog ORDER BY id DESC LIMIT 1")
    assert entry["action"] == "feedback_delete" and entry["public"] is False
    for client in (visitor, admin, alice):
        await client.aclose()


async def test_feedback_without_name_or_address_is_fine(
        site: httpx.AsyncClient, smtp: SmtpServer) -> None:
    ctx = _ctx(site)
    await make_user(ctx, "chefin", admin=True)
    visitor = await _browser(site)
    sent = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                           {"message": "Kontrast zu schwach."})
    assert sent.status_code == 303
    await _send_mails(site)
    (mail,) = await smtp.wait_for(1)
    assert "Kontrast zu schwach." in mail.text and "(nicht angegeben)" in mail.text
    assert mail.message["Reply-To"] is None
    await visitor.aclose()


async def test_bad_feedback_gets_a_clear_error_and_nothing_is_sent(
        site: httpx.AsyncClient, smtp: SmtpServer) -> None:
    ctx = _ctx(site)
    await make_user(ctx, "chefin", admin=True)
    visitor = await _browser(site)
    empty = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                            {"name": "Erika", "message": "   "})
    assert empty.status_code == 422
    assert "Bitte schreiben Sie eine Nachricht." in shown(empty)
    assert 'value="Erika"' in empty.text  # what was typed stays
    bad_address = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                                  {"email": "erika at example", "message": "Hallo"})
    assert bad_address.status_code == 422
    assert "Das ist keine gültige E-Mail-Adresse." in shown(bad_address)
    too_long = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                               {"message": "x" * 5001})
    assert too_long.status_code == 422
    assert "höchstens 5000 Zeichen" in shown(too_long)
    english = await visitor.post("/barrierefreiheit", headers={"Accept-Language": "en"},
                                 data={"message": "", "csrf_token": csrf_of(empty.text)})
    assert english.status_code == 422 and "Please write a message." in shown(english)
    no_csrf = await visitor.post("/barrierefreiheit", data={"message": "Hallo"})
    assert no_csrf.status_code == 403
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM accessibility_feedback") == 0
        assert await conn.fetchval("SELECT count(*) FROM mail_outbox") == 0
    await visitor.aclose()


async def test_the_feedback_form_is_rate_limited(site: httpx.AsyncClient) -> None:
    ctx = _ctx(site)
    await make_user(ctx, "chefin", admin=True)
    limits = site.app.state.web_limits  # type: ignore[attr-defined]
    limits[FEEDBACK_ACTION] = RateLimiter(FEEDBACK_ACTION, 2, 3600.0)
    visitor = await _browser(site)
    for number in range(2):
        sent = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                               {"message": f"Nachricht {number}"})
        assert sent.status_code == 303
    refused = await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                              {"message": "Nachricht 3"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Zu viele Versuche" in shown(refused)
    async with ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM accessibility_feedback") == 2
    await visitor.aclose()


# Footers -------------------------------------------------------------------------------

# Routes the walk cannot fill: no event exists in the test data (events have their own
# tests); /language/{lang} only redirects; /activities/{token} are ActivityPub documents;
# /media/{name} are uploaded files and /media-proxy/... images of other servers (tests/media).
UNFILLED = {"/events/{event_id:int}", "/events/{event_id:int}.ics",
            "/events/{event_id:int}/edit", "/events/{event_id:int}/participants.csv",
            "/language/{lang}", "/activities/{token:path}", "/media/{name}",
            "/media-proxy/{sig}/{encoded}"}


def _fill(path: str, values: dict[str, str]) -> str | None:
    if path in UNFILLED:
        return None
    names = re.findall(r"{([a-z_]+)(?::[a-z]+)?}", path)
    if path.startswith(("/users/", "/admin/accounts/")):
        values = {**values, "name": "alice"}
    elif path.startswith("/tags/"):
        values = {**values, "name": "glasfaser"}
    if any(name not in values for name in names):
        raise AssertionError(f"no value for a parameter of {path}: add it or list it")
    return re.sub(r"{([a-z_]+)(?::[a-z]+)?}", lambda m: values[m.group(1)], path)


async def test_every_page_links_the_legal_pages_in_its_footer(
        client_for: object, ctx: Context, app_client: httpx.AsyncClient) -> None:
    await make_user(ctx, "chefin", admin=True)
    alice = await make_user(ctx, "alice")
    group = await make_group(ctx)
    thread = await post_service.create_thread(
        ctx, author=alice.actor, group=group, title="Wann kommt Glasfaser?",
        content="Gibt es einen Termin? #glasfaser")
    values = {"name": "breitband", "ref": "breitband", "post_id": str(thread.id),
              "token": "kein-gueltiger-link"}
    paths = []
    for route in app_client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or "GET" not in (route.methods or set()):
            continue
        if route.path.startswith(("/api/", "/.well-known/", "/nodeinfo", "/healthz")):
            continue
        filled = _fill(route.path, values)
        if filled is not None:
            paths.append(filled)
    checked = []
    for who in ("chefin", None):
        browser = await client_for(who)  # type: ignore[operator]
        for path in paths:
            page = await browser.get(path, headers={"Accept": "text/html"})
            assert page.status_code < 500, (path, page.status_code)
            if not page.headers.get("content-type", "").startswith("text/html"):
                continue
            if path == "/search/similar":  # a fragment the thread form loads into itself
                continue
            footer = page.text.rpartition('<footer class="site-footer">')[2]
            for link in FOOTER:
                assert link in footer, f"{path} ({who or 'anonymous'}) lacks {link}"
            checked.append(path)
    assert len(set(checked)) >= 40, sorted(set(checked))
    for path in ("/", "/groups/breitband", f"/posts/{thread.id}", "/admin", "/impressum",
                 "/hilfe", "/settings", "/mod/reports", "/admin/feedback"):
        assert path in checked, path


async def test_every_mail_carries_the_impressum_and_privacy_links(
        site: httpx.AsyncClient, smtp: SmtpServer) -> None:
    ctx = _ctx(site)
    await make_user(ctx, "chefin", admin=True)
    visitor = await _browser(site)
    # A password reset mail (to an account) and the feedback mail (to the admins).
    await post_form(visitor, "/forgot", "/forgot", {"email": "chefin@example.org"})
    await post_form(visitor, "/barrierefreiheit", "/barrierefreiheit",
                    {"message": "Fehlender Alternativtext."})
    await _send_mails(site)
    mails = await smtp.wait_for(2)
    base = ctx.settings.base_url
    for mail in mails:
        for part in (mail.text, mail.html):
            assert f"{base}/impressum" in part, mail.message["Subject"]
            assert f"{base}/datenschutz" in part, mail.message["Subject"]
        assert f'href="{base}/impressum"' in mail.html
    await visitor.aclose()


async def test_the_mail_templates_all_get_the_footer(ctx: Context) -> None:
    """The layout of each language carries the links, whatever the template."""
    for lang in ("de", "en"):
        mail = render_mail(ctx, "accessibility_feedback", lang, {
            "name": "", "email": "", "message": "m", "page": "",
            "feedback_url": ctx.url("/admin/feedback")})
        for part in (mail.text, mail.html):
            assert ctx.url("/impressum") in part and ctx.url("/datenschutz") in part


async def test_an_admin_is_told_of_an_unpublished_page_in_the_form(
        client_for: object, ctx: Context) -> None:
    await make_user(ctx, "chefin", admin=True)
    admin = await client_for("chefin")  # type: ignore[operator]
    page = await admin.get("/admin/terms?kind=rules")
    assert page.status_code == 200
    assert 'aria-current="page"' in page.text
    for kind in ("terms", "privacy", "impressum", "accessibility", "rules"):
        assert f'href="/admin/terms?kind={kind}"' in page.text
