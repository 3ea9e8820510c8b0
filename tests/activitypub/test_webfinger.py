"""WebFinger and host-meta: our documents, and lookups against servers on 127.0.0.1."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import FetchTimeout, UnsafeAddress, WebFingerError
from activitypub.netguard import scheme_for_host
from activitypub.webfinger import (
    host_meta_xml,
    parse_handle,
    webfinger_document,
    webfinger_lookup,
)
from tests.activitypub._servers import NoNetwork, Recorder, serve

AS_LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def build_app(base: str, recorder: Recorder, peer: dict[str, str], *, host_meta_only: bool
              ) -> Starlette:
    """One WebFinger host. ``peer["host"]`` is the other test server's host."""
    host = base.removeprefix("http://")

    def jrd_for(name: str) -> Response:
        actor = f"{base}/u/{name}"
        subjects = {} if host_meta_only else {
            "alias": f"canonical@{host}", "away": f"away@{peer['host']}",
            "spin": f"spin2@{host}", "spin2": f"spin3@{host}"}
        if name == "gone":
            return Response(status_code=410)
        if name == "missing":
            return Response(status_code=404)
        if name == "badjson":
            return Response("{not json", media_type="application/jrd+json")
        doc = webfinger_document(subjects.get(name, f"acct:{name}@{host}"), actor,
                                 f"{base}/@{name}")
        if name == "ld":
            doc["links"][0]["type"] = AS_LD
        if name == "plainjson":
            doc["links"][0]["type"] = "application/json"
        if name == "noacct":
            doc["subject"] = f"noacct@{host}"
        return JSONResponse(doc, media_type="application/jrd+json")

    async def webfinger(request: Request) -> Response:
        await recorder.record(request)
        if host_meta_only:
            return Response(status_code=404)
        return await answer(request)

    async def answer(request: Request) -> Response:
        raw = request.scope["query_string"].decode()
        prefix = "resource=acct:" if "resource=" in raw else "res=acct:"
        if not raw.startswith(prefix) or "%" in raw:
            return Response("resource must not be percent-encoded", status_code=400)
        name, _, asked_host = raw.removeprefix(prefix).partition("@")
        if asked_host != host:
            return Response(status_code=404)
        return jrd_for(name.lower())

    async def alternative(request: Request) -> Response:
        await recorder.record(request)
        return await answer(request)

    async def host_meta(request: Request) -> Response:
        await recorder.record(request)
        if not host_meta_only:
            return Response(status_code=404)
        xml = host_meta_xml(base).replace("/.well-known/webfinger?resource=", "/wf-alt?res=")
        return Response(xml, media_type="application/xrd+xml")

    return Starlette(routes=[
        Route("/.well-known/webfinger", webfinger), Route("/.well-known/host-meta", host_meta),
        Route("/wf-alt", alternative),
    ])


Servers = tuple[str, str, Recorder]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_servers() -> AsyncIterator[Servers]:
    recorder = Recorder()
    main: dict[str, str] = {}
    other: dict[str, str] = {}
    async with serve(lambda b: build_app(b, recorder, other, host_meta_only=False)) as main_url, \
            serve(lambda b: build_app(b, recorder, main, host_meta_only=True)) as other_url:
        main["host"] = main_url.removeprefix("http://")
        other["host"] = other_url.removeprefix("http://")
        yield main_url, other_url, recorder


@pytest.fixture
def servers(module_servers: Servers) -> Servers:
    module_servers[2].clear()
    return module_servers


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


async def lookup(client: httpx.AsyncClient, handle: str) -> str:
    return await webfinger_lookup(client, handle, allow_private=True)


def host_of(url: str) -> str:
    return url.removeprefix("http://")


# --- documents -----------------------------------------------------------------------

def test_webfinger_document_has_an_activitypub_self_link() -> None:
    doc = webfinger_document("cats@groups.example", "https://groups.example/g/cats",
                             "https://groups.example/g/cats", ["https://groups.example/@cats"])
    assert doc["subject"] == "acct:cats@groups.example"
    assert doc["links"][0] == {"rel": "self", "type": "application/activity+json",
                               "href": "https://groups.example/g/cats"}
    assert doc["links"][1]["rel"] == "http://webfinger.net/rel/profile-page"
    assert doc["aliases"] == ["https://groups.example/@cats"]


def test_host_meta_points_lrdd_at_webfinger() -> None:
    root = ET.fromstring(host_meta_xml("https://groups.example/"))
    [link] = list(root)
    assert link.tag == "{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link"
    assert link.get("rel") == "lrdd"
    assert link.get("template") == \
        "https://groups.example/.well-known/webfinger?resource={uri}"


# --- handles and schemes -------------------------------------------------------------

@pytest.mark.parametrize("handle", ["cats@Host.Example", "@cats@host.example",
                                    "acct:cats@host.example", " ACCT:cats@host.example "])
def test_handle_forms(handle: str) -> None:
    assert parse_handle(handle) == ("cats", "host.example")


def test_handle_with_port_and_idn() -> None:
    assert parse_handle("a@127.0.0.1:8000") == ("a", "127.0.0.1:8000")
    assert parse_handle("a@[::1]:8000") == ("a", "[::1]:8000")
    assert parse_handle("a@bücher.example") == ("a", "xn--bcher-kva.example")


@pytest.mark.parametrize("handle", ["cats", "cats@", "@host.example", "a b@host.example",
                                    "cats@host.example/x", "cats@host?x", "a&b@host.example",
                                    "a+b@host.example", "a@b@host.example", ""])
def test_bad_handles(handle: str) -> None:
    with pytest.raises(WebFingerError):
        parse_handle(handle)


def test_scheme_rule() -> None:
    assert scheme_for_host("127.0.0.1:8000", allow_private=True) == "http"
    assert scheme_for_host("[::1]:8000", allow_private=True) == "http"
    assert scheme_for_host("localhost:3000", allow_private=True) == "http"
    assert scheme_for_host("10.0.0.2", allow_private=True) == "http"
    assert scheme_for_host("127.0.0.1:8000", allow_private=False) == "https"
    assert scheme_for_host("groups.example", allow_private=True) == "https"
    assert scheme_for_host("8.8.8.8", allow_private=True) == "https"


# --- lookups -------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["{n}@{h}", "@{n}@{h}", "acct:{n}@{h}", "{N}@{h}"])
async def test_lookup_sends_the_resource_unencoded(servers: Servers, client: Any,
                                                   form: str) -> None:
    main, _, recorder = servers
    handle = form.format(n="cats", N="CATS", h=host_of(main))
    assert await lookup(client, handle) == f"{main}/u/cats"
    [seen] = recorder.requests
    name = "CATS" if "{N}" in form else "cats"
    assert seen.raw_query == f"resource=acct:{name}@{host_of(main)}".encode()
    assert "signature" not in seen.headers
    assert seen.headers["accept"].startswith("application/jrd+json")


async def test_ld_json_self_link_is_accepted(servers: Servers, client: Any) -> None:
    main, _, _ = servers
    assert await lookup(client, f"ld@{host_of(main)}") == f"{main}/u/ld"


async def test_subject_without_acct_prefix_is_accepted(servers: Servers, client: Any) -> None:
    main, _, _ = servers
    assert await lookup(client, f"noacct@{host_of(main)}") == f"{main}/u/noacct"


async def test_subject_naming_another_account_is_confirmed(servers: Servers,
                                                           client: Any) -> None:
    main, _, recorder = servers
    assert await lookup(client, f"alias@{host_of(main)}") == f"{main}/u/canonical"
    assert len(recorder.requests) == 2


async def test_subject_on_the_canonical_host_is_followed(servers: Servers, client: Any) -> None:
    # main says away@main is away@other; other (host-meta only) confirms itself.
    main, other, recorder = servers
    assert await lookup(client, f"away@{host_of(main)}") == f"{other}/u/away"
    assert recorder.paths() == ["/.well-known/webfinger", "/.well-known/webfinger",
                                "/.well-known/host-meta", "/wf-alt"]


async def test_subject_that_does_not_confirm_is_refused(servers: Servers, client: Any) -> None:
    main, _, _ = servers
    with pytest.raises(WebFingerError, match="too many redirects"):
        await lookup(client, f"spin@{host_of(main)}")


async def test_host_meta_fallback(servers: Servers, client: Any) -> None:
    _, other, recorder = servers
    assert await lookup(client, f"cats@{host_of(other)}") == f"{other}/u/cats"
    assert recorder.requests[-1].raw_query == f"res=acct:cats@{host_of(other)}".encode()


async def test_404_without_host_meta(servers: Servers, client: Any) -> None:
    main, _, _ = servers
    with pytest.raises(WebFingerError, match="host-meta answered 404"):
        await lookup(client, f"missing@{host_of(main)}")


@pytest.mark.parametrize(("name", "reason"), [
    ("gone", "gone"), ("plainjson", "no ActivityPub self link"), ("badjson", "not a JSON"),
])
async def test_bad_answers(servers: Servers, client: Any, name: str, reason: str) -> None:
    main, _, _ = servers
    with pytest.raises(WebFingerError, match=reason):
        await lookup(client, f"{name}@{host_of(main)}")


async def test_private_host_is_refused_without_sending() -> None:
    transport = NoNetwork()
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(UnsafeAddress):
            await webfinger_lookup(c, "cats@127.0.0.1:8000", allow_private=False)
        with pytest.raises(UnsafeAddress):
            await webfinger_lookup(c, "cats@localhost", allow_private=False)
    assert transport.sent == []


async def test_https_is_used_unless_allowed_private() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=webfinger_document(
            "acct:cats@groups.example", "https://groups.example/g/cats"))

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
        actor = await webfinger_lookup(c, "@cats@groups.example", allow_private=False,
                                       resolver=resolve)
    assert actor == "https://groups.example/g/cats"
    assert seen == ["https://groups.example/.well-known/webfinger?resource=acct:cats@groups.example"]


async def test_unreachable_host(client: Any) -> None:
    with pytest.raises(FetchTimeout):
        await webfinger_lookup(client, "cats@127.0.0.1:9", allow_private=True, timeout=1.0)
