"""The web forum in a real browser: Debian's Chromium, headless, driven by Playwright.

Runs against a real uvicorn server (the ``instance`` fixture, in this test's event loop,
hence Playwright's async API). Checks each main page with axe-core (no serious or
critical violation) and writes screenshots to tests/output/screenshots/ for review.
Playwright never downloads a browser here: ``make test`` installs Debian's ``chromium``.
Set DEMISA_SKIP_BROWSER=1 to skip these tests on a machine without it.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from fedi.core.context import Context
from fedi.forum import posts as post_service
from tests.support.helpers import make_group, make_user

pytestmark = pytest.mark.skipif(bool(os.environ.get("DEMISA_SKIP_BROWSER")),
                                reason="DEMISA_SKIP_BROWSER is set")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "screenshots"
DESKTOP: Any = {"width": 1280, "height": 800}
PHONE: Any = {"width": 375, "height": 740}
PASSWORD = "ein langes Passwort"


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'make test' (it installs Debian's chromium) "
                    "or set DEMISA_SKIP_BROWSER=1")
    return CHROMIUM


@pytest.fixture
async def browser(tmp_path: Path, chromium: Path) -> AsyncIterator[Any]:
    """A browser context with a fresh profile, German like most of our readers."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
            args=CHROMIUM_ARGS, locale="de-DE", viewport=DESKTOP,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


class Checker:
    """axe-core on a page, screenshots, and the console errors seen so far."""

    def __init__(self, page: Any) -> None:
        from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

        self.page = page
        self.axe = Axe()
        self.console_errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    async def accessible(self, name: str) -> None:
        results = await self.axe.run(self.page)
        bad = [v for v in results.response["violations"]
               if v.get("impact") in ("serious", "critical")]
        report = "\n".join(
            f"  {v['id']} ({v['impact']}): {v['help']} at "
            f"{[n['target'] for n in v['nodes']][:5]}" for v in bad)
        assert not bad, f"axe found serious or critical violations on {name}:\n{report}"

    async def screenshots(self, name: str) -> None:
        """Desktop and phone width; the phone must not need horizontal scrolling."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"),
                                   full_page=True)
        await self.page.set_viewport_size(PHONE)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
        for width in (PHONE["width"], 320):
            await self.page.set_viewport_size({"width": width, "height": 740})
            overflow = await self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        await self.page.set_viewport_size(DESKTOP)

    async def check(self, name: str) -> None:
        await self.accessible(name)
        await self.screenshots(name)


async def _h1(page: Any) -> str:
    headings = await page.locator("h1").all_inner_texts()
    assert len(headings) == 1, headings
    return " ".join(headings[0].split())


async def _seed(ctx: Context) -> Any:
    """A group with a few threads (one pinned) by another member, for realistic pages."""
    mayor = await make_user(ctx, "buergermeisterin")
    group = await make_group(ctx, moderators=[mayor.actor])
    pinned = await post_service.create_thread(
        ctx, author=mayor.actor, group=group, title="Willkommen in der Gruppe Breitbandausbau",
        content="Hier beantworten wir **alle Fragen** zum Glasfaserausbau in der Gemeinde.")
    for title in ("Baustelle in der Hauptstraße", "Wann wird Ortsteil Nord angeschlossen?"):
        await post_service.create_thread(ctx, author=mayor.actor, group=group, title=title,
                                         content="Bitte hier sammeln.")
    async with ctx.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET pinned_at = now() WHERE id = $1", pinned.id)
    return group


async def test_a_citizen_signs_up_writes_and_reads_in_german_and_english(
        instance: Callable[..., Awaitable[Any]], browser: Any) -> None:
    server = await instance()
    ctx: Context = server.app.state.ctx
    await _seed(ctx)
    await browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = await browser.new_page()
    checker = Checker(page)
    main = page.locator("main")

    # Start page, German.
    await page.goto(server.url + "/")
    assert await page.get_attribute("html", "lang") == "de"
    assert await _h1(page) == "Teststadt"
    await checker.check("start-de")

    # Sign up: logged in at once.
    await page.get_by_role("link", name="Registrieren").click()
    await checker.accessible("signup-de")
    await page.fill("#f-username", "clara")
    await page.fill("#f-display_name", "Clara Müller")
    await page.fill("#f-email", "clara@example.org")
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-password_confirm", PASSWORD)
    await page.check("#f-accept_terms")
    await main.get_by_role("button", name="Konto anlegen").click()
    await page.get_by_text("Willkommen! Ihr Konto wurde angelegt").wait_for()

    # Log out and in again.
    await page.get_by_role("button", name="Abmelden").click()
    await page.get_by_text("Sie sind abgemeldet.").wait_for()
    await page.get_by_role("navigation").get_by_role("link", name="Anmelden").click()
    await checker.accessible("login-de")
    await page.fill("#f-username", "clara")
    await page.fill("#f-password", PASSWORD)
    await main.get_by_role("button", name="Anmelden").click()
    await page.get_by_text("Sie sind angemeldet.").wait_for()

    # Until the e-mail address is confirmed she may read but not write: she follows the
    # link of the confirmation mail (queued in the mail outbox) and presses the button.
    async with ctx.pool.acquire() as conn:
        mail = await conn.fetchval("SELECT message FROM mail_outbox WHERE recipient = $1",
                                   "clara@example.org")
    text = mail.decode().replace("=\r\n", "")
    token = text[text.index("/confirm/") + len("/confirm/"):].split()[0]
    token = token.split("<")[0].split('"')[0]
    await page.goto(f"{server.url}/confirm/{token}")
    await checker.accessible("confirm-de")
    await main.get_by_role("button", name="Bestätigen").click()
    await page.get_by_text("Vielen Dank").first.wait_for()
    await main.get_by_role("link", name="Zurück zur Startseite").click()

    # The group page, its copy button, and a new thread.
    await page.get_by_role("link", name="Breitbandausbau").first.click()
    assert await _h1(page) == "Breitbandausbau"
    titles = await page.locator(".thread-title").all_inner_texts()
    assert titles[0] == "Willkommen in der Gruppe Breitbandausbau"  # pinned on top
    copy = page.get_by_role("button", name="Adresse kopieren")
    await copy.click()  # hidden without JavaScript: clicking proves the script ran
    await page.get_by_text("In die Zwischenablage kopiert").wait_for()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == f"@breitband@127.0.0.1:{server.port}"
    await checker.check("group-de")
    await page.get_by_role("link", name="Neues Thema").click()
    await checker.accessible("new-thread-de")
    await main.get_by_role("button", name="Veröffentlichen").click()  # empty: browser stops it
    assert await page.locator("#f-title:invalid").count() == 1
    await page.fill("#f-title", "Förderanträge für Glasfaser")
    await page.fill("#f-content", "Wer hilft beim **Antrag**?")
    await main.get_by_role("button", name="Veröffentlichen").click()
    assert await _h1(page) == "Förderanträge für Glasfaser"
    thread_url = page.url

    # A reply, then a reply to that reply.
    await page.fill("#f-content", "Die Gemeinde hilft beim Ausfüllen.")
    await main.get_by_role("button", name="Antwort veröffentlichen").click()
    first = page.locator("article.post", has_text="Die Gemeinde hilft beim Ausfüllen.")
    await first.get_by_role("link", name="Antworten").click()
    await page.fill("#f-content", "Danke, wo finde ich das Formular?")
    await main.get_by_role("button", name="Veröffentlichen").click()
    nested = page.locator("li.reply details.subreplies article.post",
                          has_text="Danke, wo finde ich das Formular?")
    await nested.wait_for()
    assert re.search(r"#post-\d+$", page.url)

    # Edit the nested reply.
    await nested.get_by_role("link", name="Bearbeiten").click()
    assert await page.input_value("#f-content") == "Danke, wo finde ich das Formular?"
    await page.fill("#f-content", "Danke! Wo finde ich das Antragsformular?")
    await main.get_by_role("button", name="Änderungen speichern").click()
    edited = page.locator("article.post", has_text="Wo finde ich das Antragsformular?")
    await edited.get_by_text("(bearbeitet)").wait_for()

    # Like the thread.
    root = page.locator("article.post").first
    await root.get_by_role("button", name="Gefällt mir").click()
    root = page.locator("article.post").first
    like = root.get_by_role("button", name="Gefällt mir")
    assert await like.get_attribute("aria-pressed") == "true"
    assert (await like.inner_text()).split()[-1] == "1"

    # The asker accepts the first reply (issue 15): the box under the question, checked
    # by axe with the thread page below.
    await page.locator("li.reply", has_text="Die Gemeinde hilft beim Ausfüllen.").first \
        .get_by_role("button", name="Als Antwort akzeptieren").first.click()
    box = page.locator("section.accepted-answer")
    await box.get_by_role("heading", name="✔ Akzeptierte Antwort").wait_for()
    await box.get_by_text("Die Gemeinde hilft beim Ausfüllen.").wait_for()

    # Thread page: collapsing a reply's replies hides them (native <details>).
    await page.goto(thread_url)
    await checker.check("thread-de")
    summary = page.locator("details.subreplies > summary").first
    await summary.click()
    assert not await nested.is_visible()
    await summary.click()

    # English through the visible switch, on the same three pages.
    await page.get_by_role("link", name="English").click()
    assert await page.get_attribute("html", "lang") == "en"
    assert await _h1(page) == "Förderanträge für Glasfaser"
    assert await page.locator("h1").get_attribute("lang") == "de"  # the post keeps its own
    await page.get_by_role("heading", name="2 replies").wait_for()
    await checker.check("thread-en")
    await page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Breitbandausbau").click()
    await page.get_by_role("heading", name="Threads", exact=True).wait_for()
    await checker.check("group-en")
    await page.get_by_role("link", name="Groups", exact=True).click()
    await page.get_by_role("heading", name="Topic groups").wait_for()
    await checker.check("start-en")

    # Someone answers rudely; Clara reports that reply (still in English).
    await page.goto(thread_url)
    troll = await make_user(ctx, "troll")
    thread = await post_service.get_post(ctx, int(thread_url.rsplit("/", 1)[1]))
    await post_service.create_reply(ctx, author=troll.actor, parent=thread,
                                    content="Alles Lüge, ihr Ahnungslosen!")
    await page.reload()
    rude = page.locator("article.post", has_text="Alles Lüge")
    await rude.get_by_role("link", name="Report").click()
    assert await _h1(page) == "Report a post"
    await checker.accessible("report-en")
    await page.fill("#f-reason", "Insults the people in this thread.")
    await main.get_by_role("button", name="Send report").click()
    await page.get_by_text("Thank you! The moderators will look at your report.").wait_for()

    # Log out.
    await page.get_by_role("button", name="Log out").click()
    await page.get_by_text("You are logged out.").wait_for()

    await _a_moderator_handles_the_report(page, checker, thread_url)
    assert not [e for e in checker.console_errors if "Content Security Policy" in e], \
        checker.console_errors


async def _a_moderator_handles_the_report(page: Any, checker: Checker, thread_url: str) -> None:
    """The group's moderator (the mayor) finds the report, removes the reply, resolves
    the report and logs out; the public then sees the reply as removed."""
    main = page.locator("main")
    await page.get_by_role("link", name="Deutsch").click()
    await page.get_by_role("navigation").get_by_role("link", name="Anmelden").click()
    await page.fill("#f-username", "buergermeisterin")
    await page.fill("#f-password", "correct horse battery")
    await main.get_by_role("button", name="Anmelden").click()
    await page.locator("header").get_by_role("link", name="Moderation").click()
    assert await _h1(page) == "Meldungen"
    report = page.locator("li.report-item", has_text="Insults the people in this thread.")
    await report.get_by_text("Alles Lüge, ihr Ahnungslosen!").wait_for()
    await checker.check("reports-de")

    await report.get_by_role("button", name="Mir zuweisen").click()
    await page.get_by_text("Die Meldung ist Ihnen zugewiesen.").wait_for()
    report = page.locator("li.report-item", has_text="Insults the people in this thread.")
    await report.get_by_role("link", name="Beitrag entfernen").click()
    assert await _h1(page) == "Diesen Beitrag entfernen?"
    await checker.accessible("remove-de")
    await page.fill("#f-reason", "Beleidigung")
    await main.get_by_role("button", name="Entfernen").click()
    await page.get_by_text("Der Beitrag wurde entfernt.").wait_for()
    assert await _h1(page) == "Meldungen"  # back in the queue
    report = page.locator("li.report-item", has_text="Insults the people in this thread.")
    await report.get_by_label("Notiz zur Erledigung").fill("Beitrag entfernt, Person verwarnt.")
    await report.get_by_role("button", name="Als erledigt markieren").click()
    await page.get_by_text("Die Meldung ist erledigt.").wait_for()
    await page.get_by_text("Keine offenen Meldungen. Gut gemacht!").wait_for()

    # The moderator still sees what was removed, behind a click, with the reason.
    await page.goto(thread_url)
    removed = page.locator("article.post", has_text="Dieser Beitrag wurde von der Moderation")
    await removed.get_by_text("Entfernten Text zeigen").click()
    await removed.get_by_text("Alles Lüge").wait_for()
    await checker.accessible("thread-moderator-de")

    await page.locator("footer").get_by_role("link", name="Moderationsprotokoll").click()
    assert await _h1(page) == "Moderationsprotokoll"
    entry = page.locator("li.modlog-entry").first
    await entry.get_by_text("Beitrag entfernt").wait_for()
    await entry.get_by_text("Beleidigung").wait_for()
    await checker.check("modlog-de")

    await page.get_by_role("button", name="Abmelden").click()
    await page.get_by_text("Sie sind abgemeldet.").wait_for()
    await page.goto(thread_url)
    await page.get_by_text("Dieser Beitrag wurde von der Moderation entfernt.").wait_for()
    assert await page.get_by_text("Alles Lüge").count() == 0


async def test_pages_work_without_javascript(instance: Callable[..., Awaitable[Any]],
                                             browser: Any) -> None:
    """Plain forms: log in and reply with scripts off; the copy button stays hidden."""
    server = await instance()
    ctx: Context = server.app.state.ctx
    await _seed(ctx)
    await make_user(ctx, "dora")
    page = await browser.new_page()
    await page.route("**/*.js", lambda route: route.abort())
    await page.goto(server.url + "/groups/breitband")
    assert not await page.get_by_role("button", name="Adresse kopieren").is_visible()
    await page.get_by_role("link", name="Baustelle in der Hauptstraße").click()
    await page.get_by_role("link", name="Melden Sie sich an, um zu antworten").click()
    await page.fill("#f-username", "dora")
    await page.fill("#f-password", "correct horse battery")
    await page.locator("main").get_by_role("button", name="Anmelden").click()
    assert await _h1(page) == "Baustelle in der Hauptstraße"  # back where she came from
    await page.fill("#f-content", "Die Ampel ist seit Montag aus.")
    await page.locator("main").get_by_role("button", name="Antwort veröffentlichen").click()
    await page.get_by_text("Ihre Antwort wurde veröffentlicht.").wait_for()
    await page.get_by_text("Die Ampel ist seit Montag aus.").wait_for()


async def test_the_checks_catch_a_bad_page(browser: Any) -> None:
    """The axe and sideways-scroll checks fail on a page that breaks them."""
    page = await browser.new_page()
    await page.set_content(
        '<html><body><main><input type="text"><p style="color:#bbb;background:#fff">'
        'faint</p><div style="width:900px">wide</div></main></body></html>')
    checker = Checker(page)
    with pytest.raises(AssertionError, match="label"):
        await checker.accessible("a bad page")
    with pytest.raises(AssertionError, match="scrolls sideways"):
        await checker.screenshots("bad-page-check")
    for leftover in SCREENSHOTS.glob("bad-page-check-*.png"):
        leftover.unlink()


PHONE_390: Any = {"width": 390, "height": 844}


async def _header_height_and_bound(page: Any) -> tuple[float, float]:
    """The header's height, and the most it may take: two lines of the site name (the
    largest text in it) plus the header row's padding."""
    box = await page.locator("header.site-header").bounding_box()
    bound = await page.evaluate("""() => {
        const name = getComputedStyle(document.querySelector('.site-name'));
        const row = getComputedStyle(document.querySelector('.header-row'));
        return 2 * parseFloat(name.lineHeight)
            + parseFloat(row.paddingTop) + parseFloat(row.paddingBottom);
    }""")
    return box["height"], bound


async def test_the_header_stays_compact_on_a_phone(instance: Callable[..., Awaitable[Any]],
                                                    browser: Any) -> None:
    """At 390 px a moderator's header (the most links) takes at most two lines; the
    navigation folds into a menu that opens without JavaScript (issue 11)."""
    server = await instance()
    await _seed(server.app.state.ctx)
    page = await browser.new_page()
    await page.route("**/*.js", lambda route: route.abort())
    await page.set_viewport_size(PHONE_390)
    await page.goto(server.url + "/login")
    await page.fill("#f-username", "buergermeisterin")
    await page.fill("#f-password", "correct horse battery")
    await page.locator("main").get_by_role("button", name="Anmelden").click()
    await page.get_by_text("Sie sind angemeldet.").wait_for()
    await page.goto(server.url + "/groups/breitband")

    height, bound = await _header_height_and_bound(page)
    assert height <= bound, f"the header is {height}px high at 390px, at most {bound}px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "header-390-de.png"))
    checker = Checker(page)
    await checker.accessible("group-phone-de")

    menu = page.get_by_text("Menü", exact=True)
    await menu.click()
    await page.screenshot(path=str(SCREENSHOTS / "header-390-menu-de.png"))
    await checker.accessible("group-phone-menu-de")
    await page.locator("header").get_by_role("link", name="Moderation").click()
    assert await _h1(page) == "Meldungen"

    # On a desktop the navigation is one row and there is no menu button.
    await page.set_viewport_size(DESKTOP)
    await page.goto(server.url + "/groups/breitband")
    assert not await page.get_by_text("Menü", exact=True).is_visible()
    assert await page.locator("header").get_by_role("link", name="Moderation").is_visible()
    height, bound = await _header_height_and_bound(page)
    assert height <= bound / 2 + 20, f"the desktop header is {height}px high"
    await page.screenshot(path=str(SCREENSHOTS / "header-1280-de.png"))
