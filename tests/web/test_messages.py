"""Every message a person sees is a sentence in their language (testers, issue 11 point 8):
service errors, exception texts, Starlette's own answers (404, 405) and remote lookups."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from fedi.core.context import Context
from fedi.forum import posts as post_service
from fedi.web.messages import GENERIC, GENERIC_OTHER, generic_message, translate_message
from tests.support.helpers import User, make_user
from tests.web.conftest import csrf_of, log_in

ROOT = Path(__file__).resolve().parents[2]
# The modules whose errors can reach a page (the API's own checks cannot).
PAGE_MODULES = [*sorted((ROOT / "fedi" / "forum").glob("*.py")),
                *sorted((ROOT / "fedi" / "web").glob("*.py")),
                ROOT / "fedi" / "core" / "actors.py", ROOT / "fedi" / "routes" / "activitypub.py"]
ERRORS = {"AppError": 400, "ValidationFailed": 422, "Unauthorized": 401, "Forbidden": 403,
          "NotFound": 404, "Conflict": 409, "Gone": 410, "TooManyRequests": 429,
          "BadGateway": 502, "InvalidCredentials": 401}
# Raised only for the JSON API or ActivityPub clients, never on a page.
NOT_ON_PAGES = {
    "post 42 is a copy of 42; fetch it there",
    "post 42 has no context collection here",
    "post 42 is no thread of a group here",
    "no activity at 42",
    "no parked inbound activity 42",
    "name must be at most 100 characters",
    "mode must be one of open, closed, approval, got 'beispiel'",
    "posting_restricted_to_mods must be true or false",
    "nothing to change: give title, summary, rules, language, default_kind or "
    "posting_restricted_to_mods",
    "no local account 'beispiel'",
    "beispiel does not moderate this report's group",
    "beispiel is not a moderator of beispiel",
    "beispiel is a beispiel, not a person",
    "no parked inbound activity beispiel",
    "beispiel is not a known instance",
    "beispiel is neither blocked nor allowed",
    "language must be a language tag such as 'de' or 'en'",
    "username must be text",  # fedi.forum.groups.check_text: a group's fields
    "username must be at most beispiel characters",
    "mode must be one of beispiel, got 'beispiel'",
    "title must be at most 100 characters",  # a group's title: admin API and CLI
    "give either post_id or actor",
    "the author of post 42 is unknown",  # a local post always has its author
    # fedi.forum.instance_settings: the admin page's form has no other fields, and
    # fedi.web.common.text drops NUL characters
    "unknown setting 'username'",
    "username must not contain NUL characters",
}
SAMPLE = "beispiel"
# Values of parameters that decide the message's words, per module.
SAMPLES = {"field": "username", "what": "group"}
MODULE_SAMPLES = {"fedi/forum/staff.py": {"field": "actor"}}


def _constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level names bound to a literal, or to N_("literal")."""
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and value.args and isinstance(value.func, ast.Name) \
                    and value.func.id == "N_":
                value = value.args[0]
            try:
                found[node.targets[0].id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found


def _samples(node: ast.expr, constants: dict[str, Any],
             samples: dict[str, str] = SAMPLES) -> list[str]:
    """The texts a message expression can produce, with ``beispiel`` for its values."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name):
        value = constants.get(node.id)
        return [value] if isinstance(value, str) else []
    if isinstance(node, ast.JoinedStr):
        texts = [""]
        for part in node.values:
            if isinstance(part, ast.Constant):
                options = [str(part.value)]
            else:
                assert isinstance(part, ast.FormattedValue)
                inner = part.value
                if isinstance(inner, ast.IfExp):
                    options = [*_samples(inner.body, constants, samples),
                               *_samples(inner.orelse, constants, samples)]
                elif isinstance(inner, ast.Name) and isinstance(constants.get(inner.id), int):
                    options = [str(constants[inner.id])]
                elif isinstance(inner, ast.BinOp):  # NAME_MAX // 1024 and the like
                    options = [SAMPLE]
                else:
                    source = ast.unparse(inner)
                    value = "42" if source.endswith("id") else samples.get(source, SAMPLE)
                    options = [repr(value) if part.conversion == ord("r") else value]
            texts = [t + o for t in texts for o in options]
        return texts
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _samples(node.left, constants, samples)
                for b in _samples(node.right, constants, samples)]
    return []


def _raised_messages() -> list[tuple[str, str, int]]:
    found = []
    for path in PAGE_MODULES:
        tree = ast.parse(path.read_text())
        constants = _constants(tree)
        where = str(path.relative_to(ROOT))
        samples = {**SAMPLES, **MODULE_SAMPLES.get(where, {})}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ERRORS and node.args):
                for text in _samples(node.args[0], constants, samples):
                    found.append((f"{where}:{node.lineno}", text, ERRORS[node.func.id]))
    return found


def test_the_scan_sees_the_services_messages() -> None:
    texts = {text for _, text, _ in _raised_messages()}
    assert "reason must not be empty" in texts
    assert "title must be at most 200 characters" in texts
    assert "could not reach the host of group: beispiel" in texts
    assert "no post 42" in texts
    assert len(texts) > 80


def test_every_message_a_page_can_show_is_translated() -> None:
    generic = {generic_message("de", status) for status in (*GENERIC, None)}
    untranslated = []
    for where, text, status in _raised_messages():
        if text in NOT_ON_PAGES:
            continue
        german = translate_message("de", text, status)
        if german == text or (german in generic and text not in GENERIC.values()):
            untranslated.append(f"{where}: {text}")
    assert untranslated == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_an_unknown_message_becomes_the_general_sentence(lang: str) -> None:
    raw = "could not frobnicate: ConnectError(All connection attempts failed)"
    assert translate_message(lang, raw, 502) == generic_message(lang, 502)
    assert translate_message(lang, "Method Not Allowed", 405) == generic_message(lang, 405)
    assert translate_message(lang, "weird", None) == generic_message(lang, None)
    assert generic_message(lang, 418) == generic_message(lang, 400)
    if lang == "de":
        assert generic_message("de", 404) == "Diese Seite gibt es nicht."
        assert generic_message("de", None) != GENERIC_OTHER


def test_english_service_messages_are_sentences() -> None:
    for text in ("reason must not be empty", "title is required", "email is required",
                 "password must be at least 10 characters", "no post 5 here"):
        english = translate_message("en", text, 422)
        assert re.match(r"^[A-Z].*[.!?]$", english), (text, english)


# The pages --------------------------------------------------------------------------------

class _Messages(HTMLParser):
    """The texts of a page's messages: the error page's sentence, the refusal, the error
    summary and the errors next to fields."""

    CLASSES: ClassVar[set[str]] = {"message", "field-error"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._depth = 0
        self._summary = 0
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag in ("br", "input", "meta", "link", "img"):
            return
        self._stack.append(tag)
        if classes & {"error-summary", "refusal"}:
            self._summary = len(self._stack)
        if self._depth == 0 and (classes & self.CLASSES or (
                self._summary and tag in ("li", "p"))):
            self._depth = len(self._stack)
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            return
        if self._depth == len(self._stack):
            self._depth = 0
        if self._summary == len(self._stack):
            self._summary = 0
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.texts[-1] += data


def messages_of(html: str) -> list[str]:
    parser = _Messages()
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.texts if t.strip()]


RAW = re.compile(r"Error\(|ConnectError|Method Not Allowed|Not Found|could not|"
                 r"\bno (post|group|user|actor)\b|must not|is required|named '")
SENTENCE = re.compile(r"^[A-ZÄÖÜ0-9„\"].*[.!?]$")
UNREACHABLE = "nobody@127.0.0.1:9"  # nothing listens on port 9 (discard)


@pytest.fixture
async def ruth(ctx: Context) -> User:
    return await make_user(ctx, "ruth", admin=True)


async def _requests(client: httpx.AsyncClient, ctx: Context, lang: str,
                    alice: User, group: Any) -> dict[str, httpx.Response]:
    headers = {"Accept": "text/html", "Accept-Language": lang}
    token = csrf_of((await client.get("/", headers=headers)).text)
    thread = await post_service.create_thread(ctx, author=alice.actor, group=group,
                                              title="Thema", content="Text")

    async def post(url: str, data: dict[str, str]) -> httpx.Response:
        return await client.post(url, data={**data, "csrf_token": token}, headers=headers)

    return {
        "unknown post": await client.get("/posts/99999", headers=headers),
        "unknown group": await client.get("/groups/nope", headers=headers),
        "unknown person": await client.get("/users/nobody", headers=headers),
        "unknown page": await client.get("/nichts/hier", headers=headers),
        "wrong method": await client.delete("/search", headers=headers),
        "follow unreachable": await post("/follow", {"action": "follow",
                                                     "group": UNREACHABLE}),
        "follow unreachable from start": await post("/follow", {
            "action": "follow", "origin": "start", "group": UNREACHABLE}),
        "follow bad name": await post("/follow", {"action": "follow", "group": "a b@c d"}),
        "ban unreachable": await post("/mod/ban", {"actor": UNREACHABLE}),
        "report without reason": await post("/users/alice/report", {"reason": "  "}),
        "remove without reason": await post(f"/posts/{thread.id}/moderate",
                                            {"action": "remove", "reason": ""}),
    }


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_pages_show_sentences_in_the_readers_language(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, ruth: User, group: Any,
        lang: str) -> None:
    await log_in(app_client, "ruth")
    responses = await _requests(app_client, ctx, lang, alice, group)
    for name, response in responses.items():
        assert response.status_code >= 400, name
        assert response.headers["content-type"].startswith("text/html"), name
        assert response.headers["content-language"] == lang, name
        texts = messages_of(response.text)
        assert texts, f"{name}: no message on the page"
        for text in texts:
            assert SENTENCE.match(text), (name, text)
            if lang == "de":
                assert not RAW.search(text), (name, text)
        assert "ConnectError" not in response.text and "Method Not Allowed" not in response.text


async def test_german_and_english_messages_differ(
        app_client: httpx.AsyncClient, ctx: Context, alice: User, ruth: User,
        group: Any) -> None:
    """The German page says it in German: no message is the English one unchanged."""
    await log_in(app_client, "ruth")
    german = await _requests(app_client, ctx, "de", alice, group)
    english = await _requests(app_client, ctx, "en", alice, group)
    for name in german:
        assert set(messages_of(german[name].text)).isdisjoint(
            messages_of(english[name].text)), name


async def test_get_logout_offers_the_button(app_client: httpx.AsyncClient,
                                            alice: User) -> None:
    await log_in(app_client, "alice")
    page = await app_client.get("/logout")
    assert page.status_code == 200
    assert 'action="/logout"' in page.text.split("<main")[1]
    response = await app_client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    assert "demisa_session" not in app_client.cookies
    english = await app_client.get("/logout", headers={"Accept-Language": "en"})
    assert english.status_code == 200 and "You are logged out." in english.text
