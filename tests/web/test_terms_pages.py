"""Terms of use and privacy policy in the web forum (issue 13 point 9): their pages, the
box on the sign-up form, the banner and page that ask for a new version, and the admin
form that publishes one."""

from __future__ import annotations

import html

import httpx

from fedi.core.context import Context
from fedi.forum import terms
from fedi.forum.staff import staff_of
from storage import accounts as account_store
from tests.support.helpers import User, make_user
from tests.web.conftest import PASSWORD, Client, csrf_of, post_form

BLOCKED_DE = ("Die Nutzungsbedingungen oder die Datenschutzerklärung wurden geändert: Bitte "
              "lesen und akzeptieren Sie die neue Fassung, bevor Sie wieder schreiben.")
BLOCKED_EN = ("The terms of use or the privacy policy have changed: please read and accept "
              "the new version before you write again.")


def shown(page: httpx.Response) -> str:
    return " ".join(html.unescape(page.text).split())


async def publish(ctx: Context, admin: User, kind: str, text: str) -> terms.Document:
    return await terms.publish(ctx, await staff_of(ctx, admin.account), kind, text)


async def test_the_documents_have_pages_linked_from_every_page(
        app_client: httpx.AsyncClient) -> None:
    start = await app_client.get("/")
    assert 'href="/nutzungsbedingungen"' in start.text
    assert 'href="/datenschutz"' in start.text
    for path, title in (("/nutzungsbedingungen", "Nutzungsbedingungen"),
                        ("/datenschutz", "Datenschutzerklärung")):
        page = await app_client.get(path)
        assert page.status_code == 200
        text = shown(page)
        assert f"<h1>{title}</h1>" in text
        assert "Fassung 1, zuletzt geändert am" in text
        assert "Vorlage:" in text  # the built-in template says what it is
        english = await app_client.get(path, headers={"Accept-Language": "en"})
        assert "Version 1, last changed on" in english.text


async def test_the_page_shows_the_newest_version(app_client: httpx.AsyncClient,
                                                 ctx: Context) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    await publish(ctx, admin, "privacy",
                  "## Wer wir sind\n\nDie Gemeinde <b>Musterstadt</b>.")
    page = shown(await app_client.get("/datenschutz"))
    assert "Fassung 2, zuletzt geändert am" in page
    assert "<h2>Wer wir sind</h2>" in page
    raw = (await app_client.get("/datenschutz")).text
    assert "<b>Musterstadt" not in raw and "&lt;b&gt;Musterstadt" in raw  # HTML stays text


async def test_sign_up_needs_the_box_ticked(app_client: httpx.AsyncClient,
                                            ctx: Context) -> None:
    form = await app_client.get("/signup")
    assert 'name="accept_terms"' in form.text and 'href="/datenschutz"' in form.text
    values = {"username": "clara", "email": "clara@example.org", "password": PASSWORD,
              "password_confirm": PASSWORD}
    refused = await post_form(app_client, "/signup", "/signup", values)
    assert refused.status_code == 422
    assert ("Bitte akzeptieren Sie die Nutzungsbedingungen und die Datenschutzerklärung."
            in shown(refused))
    assert 'value="clara"' in refused.text  # what was typed stays
    async with ctx.pool.acquire() as conn:
        assert await account_store.by_username(conn, "clara") is None
    done = await post_form(app_client, "/signup", "/signup", {**values, "accept_terms": "yes"})
    assert done.status_code == 303, done.text
    async with ctx.pool.acquire() as conn:
        account = await account_store.by_username(conn, "clara")
        assert account is not None
        accepted = await terms.acceptances(conn, account)
    assert sorted((a.kind, a.version) for a in accepted) == [("privacy", 1), ("terms", 1)]


async def test_a_new_version_is_accepted_on_a_page_before_writing_again(
        client_for: Client, ctx: Context, alice: User, group: object) -> None:
    admin = await make_user(ctx, "chefin", admin=True)
    web = await client_for("alice")
    assert "/zustimmen" not in (await web.get("/")).text  # nothing to accept yet
    await publish(ctx, admin, "terms", "Neue Regeln für alle.")

    start = await web.get("/")
    assert BLOCKED_DE in shown(start) and 'href="/zustimmen?next=%2F"' in start.text
    # Writing through a form is refused with the policy's sentence, in either language.
    # (the form is not even offered).
    for lang, sentence in (("de", BLOCKED_DE), ("en", BLOCKED_EN)):
        for refused in (
                await web.get("/groups/breitband/new", headers={"Accept-Language": lang}),
                await web.post("/groups/breitband/new", headers={"Accept-Language": lang},
                               data={"title": "Neu", "content": "Text",
                                     "csrf_token": csrf_of(start.text)})):
            assert refused.status_code == 403
            assert sentence in shown(refused)

    page = await web.get("/zustimmen?next=/groups/breitband")
    assert "Neue Regeln für alle." in page.text and "Nutzungsbedingungen" in page.text
    assert BLOCKED_DE not in shown(page)  # no banner on the page that is the answer
    forged = await web.post("/zustimmen", data={"terms": "2"})
    assert forged.status_code == 403  # no CSRF token
    stale = await web.post("/zustimmen", data={"terms": "1", "csrf_token": csrf_of(page.text)})
    assert stale.status_code == 409 and "Neue Regeln für alle." in stale.text
    accepted = await web.post("/zustimmen", data={
        "terms": "2", "next": "/groups/breitband", "csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/groups/breitband"
    after = await web.get("/groups/breitband")
    assert "Danke: Sie haben die aktuellen Bedingungen akzeptiert." in shown(after)
    assert BLOCKED_DE not in shown(after)
    posted = await post_form(web, "/groups/breitband/new", "/groups/breitband/new",
                             {"title": "Neu", "content": "Text"})
    assert posted.status_code == 303, posted.text
    nothing = await web.get("/zustimmen")
    assert "Sie haben die aktuellen Nutzungsbedingungen" in shown(nothing)


async def test_admins_publish_through_a_form(client_for: Client, ctx: Context,
                                             alice: User) -> None:
    await make_user(ctx, "chefin", admin=True)
    user = await client_for("alice")
    assert (await user.get("/admin/terms")).status_code == 403
    admin = await client_for("chefin")
    form = await admin.get("/admin/terms?kind=privacy")
    assert form.status_code == 200 and "Vorlage" in form.text
    same = await admin.post("/admin/terms", data={
        "kind": "privacy", "text": "", "csrf_token": csrf_of(form.text)})
    assert same.status_code == 422
    done = await admin.post("/admin/terms", data={
        "kind": "privacy", "text": "Neue Erklärung", "csrf_token": csrf_of(form.text)})
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/terms?kind=privacy"
    listed = shown(await admin.get("/admin/terms?kind=privacy"))
    assert "Fassung 2, zuletzt geändert am" in listed and "(chefin)" in listed
    modlog = shown(await admin.get("/modlog"))
    assert "Nutzungsbedingungen oder Datenschutzerklärung geändert" in modlog
