"""fetch_document and the address guard, against real servers on 127.0.0.1."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from activitypub.auth import HttpSignatureAuth
from activitypub.errors import (
    FetchStatusError,
    FetchTimeout,
    FetchTooLarge,
    InvalidObject,
    NotActivityPub,
    OriginMismatch,
    TooManyRedirects,
    UnsafeAddress,
)
from activitypub.fetch import (
    ACTIVITYPUB_ACCEPT,
    fetch_document,
    is_activitypub_content_type,
    parse_json_object,
)
from activitypub.netguard import is_public_address
from tests.activitypub._servers import (
    NoNetwork,
    Recorder,
    answer_slowly,
    check_signature,
    document,
    fake_resolver,
    serve,
    signing_key,
)


def build_app(base: str, recorder: Recorder) -> Starlette:
    def obj(path: str) -> dict[str, Any]:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": base + path,
                "type": "Note"}

    async def typed(request: Request) -> Response:
        await recorder.record(request)
        return document(obj(request.url.path), CONTENT_TYPES[int(request.path_params["i"])])

    async def simple(request: Request) -> Response:
        await recorder.record(request)
        return document(obj(request.url.path))

    async def hops(request: Request) -> Response:
        await recorder.record(request)
        left = int(request.path_params["n"])
        if left == 0:
            return document(obj("/hops/0"))
        return RedirectResponse(f"/hops/{left - 1}", status_code=302)

    async def with_id(request: Request) -> Response:
        await recorder.record(request)
        return document({"id": request.query_params.get("id"), "type": "Note"})

    async def raw(request: Request) -> Response:
        await recorder.record(request)
        body = request.query_params["body"]
        body = "[" * 100_000 if body == "deep" else body  # deep enough to hit the recursion limit
        return Response(body, media_type="application/activity+json")

    async def status(request: Request) -> Response:
        return Response("no", status_code=int(request.path_params["code"]))

    async def big(request: Request) -> Response:
        return Response(b" " * 5000, media_type="application/activity+json")

    async def big_stream(request: Request) -> Response:
        async def chunks() -> Any:
            for _ in range(50):
                yield b" " * 1000

        return StreamingResponse(chunks(), media_type="application/activity+json")

    async def gzipped(request: Request) -> Response:
        body = gzip.compress(b" " * int(request.query_params["pad"]) + b'{"id": "%s"}' % (
            base + "/gzip?pad=" + request.query_params["pad"]).encode())
        return Response(body, media_type="application/activity+json",
                        headers={"Content-Encoding": "gzip"})

    async def signed(request: Request) -> Response:
        verified = await check_signature(request, await recorder.record(request))
        if verified is None:
            return Response("unsigned", status_code=401)
        return document(obj(request.url.path))

    async def slow(request: Request) -> Response:
        return await answer_slowly(request)

    return Starlette(routes=[
        Route("/typed/{i}", typed), Route("/obj/{name}", simple), Route("/hops/{n}", hops),
        Route("/with-id", with_id), Route("/raw", raw), Route("/status/{code}", status),
        Route("/big", big), Route("/big-stream", big_stream), Route("/gzip", gzipped),
        Route("/slow", slow), Route("/signed", signed),
    ])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_server() -> AsyncIterator[tuple[str, Recorder]]:
    recorder = Recorder()
    async with serve(lambda base: build_app(base, recorder)) as base:
        yield base, recorder


@pytest.fixture
def server(module_server: tuple[str, Recorder]) -> tuple[str, Recorder]:
    module_server[1].clear()
    return module_server


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient() as c:
        yield c


async def fetch(client: httpx.AsyncClient, url: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("auth", None)
    kw.setdefault("allow_private", True)
    return await fetch_document(client, url, **kw)


# --- content types -------------------------------------------------------------------

GOOD_TYPES = [
    "application/activity+json",
    "application/activity+json; charset=utf-8",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    'application/ld+json; charset=utf-8; profile="https://www.w3.org/ns/activitystreams"',
]
BAD_TYPES = [
    "application/json", "application/ld+json", "text/html; charset=utf-8",
    'application/ld+json; profile="https://example.com/other"',
]
CONTENT_TYPES = GOOD_TYPES + BAD_TYPES


@pytest.mark.parametrize("index", range(len(GOOD_TYPES)))
async def test_activitypub_content_types_are_accepted(server: Any, client: Any,
                                                      index: int) -> None:
    base, recorder = server
    doc = await fetch(client, f"{base}/typed/{index}")
    assert doc["type"] == "Note"
    assert recorder.requests[0].headers["accept"] == ACTIVITYPUB_ACCEPT


@pytest.mark.parametrize("index", range(len(GOOD_TYPES), len(CONTENT_TYPES)))
async def test_other_content_types_are_refused(server: Any, client: Any, index: int) -> None:
    base, _ = server
    with pytest.raises(NotActivityPub):
        await fetch(client, f"{base}/typed/{index}")


def test_content_type_rule_matches_mastodon() -> None:
    assert is_activitypub_content_type("Application/Activity+JSON")
    assert is_activitypub_content_type(
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams https://x/y\"")
    assert not is_activitypub_content_type("")


# --- origin rule ---------------------------------------------------------------------

async def test_id_equal_to_url_is_returned(server: Any, client: Any) -> None:
    base, recorder = server
    doc = await fetch(client, base + "/obj/a")
    assert doc["id"] == base + "/obj/a"
    assert recorder.paths() == ["/obj/a"]


async def test_same_origin_id_is_refetched_and_must_confirm(server: Any, client: Any) -> None:
    base, recorder = server
    doc = await fetch(client, f"{base}/with-id?id={base}/obj/canonical")
    assert doc["id"] == base + "/obj/canonical"
    assert recorder.paths() == ["/with-id", "/obj/canonical"]


async def test_refetched_id_that_does_not_confirm_is_refused(server: Any, client: Any) -> None:
    base, _ = server
    second = str(httpx.URL(base + "/with-id", params={"id": base + "/elsewhere"}))
    with pytest.raises(OriginMismatch):
        await fetch(client, str(httpx.URL(base + "/with-id", params={"id": second})))


@pytest.mark.parametrize("claimed", ["https://evil.example/obj/a", "http://127.0.0.2:1/x", ""])
async def test_id_on_another_origin_is_refused(server: Any, client: Any, claimed: str) -> None:
    base, recorder = server
    with pytest.raises(OriginMismatch):
        await fetch(client, str(httpx.URL(base + "/with-id", params={"id": claimed})))
    assert len(recorder.requests) == 1  # no re-fetch of a foreign id


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_get_is_signed_when_auth_is_given(server: Any, client: Any, scheme: Any) -> None:
    base, recorder = server
    with pytest.raises(FetchStatusError):
        await fetch(client, base + "/signed")
    doc = await fetch(client, base + "/signed", auth=HttpSignatureAuth(signing_key(), scheme))
    assert doc["id"] == base + "/signed"
    assert "digest" not in recorder.requests[-1].headers  # a GET has no body to digest


# --- body ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["not json", "[1, 2]", "deep"])
async def test_non_object_bodies_are_invalid(server: Any, client: Any, body: str) -> None:
    base, _ = server
    with pytest.raises(InvalidObject):
        await fetch(client, str(httpx.URL(base + "/raw", params={"body": body})))


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
async def test_bodies_over_the_limit_are_refused(server: Any, client: Any, path: str) -> None:
    base, _ = server
    with pytest.raises(FetchTooLarge):
        await fetch(client, base + path, max_bytes=4000)


async def test_limit_applies_to_the_decompressed_size(server: Any, client: Any) -> None:
    base, _ = server
    doc = await fetch(client, base + "/gzip?pad=100")
    assert doc["id"] == base + "/gzip?pad=100"
    with pytest.raises(FetchTooLarge):  # a 5 MB gzip bomb of ~5 KB
        await fetch(client, base + "/gzip?pad=5000000")


# --- status, redirects, time -----------------------------------------------------------

@pytest.mark.parametrize("code", [201, 204, 404, 410, 500])
async def test_anything_but_200_is_a_status_error(server: Any, client: Any, code: int) -> None:
    base, _ = server
    with pytest.raises(FetchStatusError) as caught:
        await fetch(client, f"{base}/status/{code}")
    assert caught.value.status == code


async def test_three_redirects_are_followed(server: Any, client: Any) -> None:
    base, recorder = server
    doc = await fetch(client, base + "/hops/3")
    assert doc["id"] == base + "/hops/0"  # canonical id on the same origin, confirmed
    assert recorder.paths()[:4] == ["/hops/3", "/hops/2", "/hops/1", "/hops/0"]


async def test_four_redirects_are_refused(server: Any, client: Any) -> None:
    base, recorder = server
    with pytest.raises(TooManyRedirects):
        await fetch(client, base + "/hops/4")
    assert "/hops/0" not in recorder.paths()


async def test_slow_server_times_out(server: Any, client: Any) -> None:
    base, _ = server
    with pytest.raises(FetchTimeout):
        await fetch(client, base + "/slow", timeout=0.2)


async def test_connection_refused_is_a_timeout_error(client: Any) -> None:
    with pytest.raises(FetchTimeout):
        await fetch(client, "http://127.0.0.1:9/x")


# --- address guard -------------------------------------------------------------------

BLOCKED = [
    "127.0.0.1", "[::1]", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "224.0.0.1", "0.0.0.0", "240.0.0.1", "100.64.0.1", "[::ffff:127.0.0.1]", "[fc00::1]",
    "[fe80::1]", "[ff02::1]", "[::]", "[2002:7f00:1::]", "localhost",
]


@pytest.mark.parametrize("host", BLOCKED)
async def test_private_addresses_are_refused_before_sending(host: str) -> None:
    transport = NoNetwork()
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(UnsafeAddress):
            await fetch_document(c, f"http://{host}/x", auth=None, allow_private=False)
    assert transport.sent == []


def test_public_addresses_pass_the_guard() -> None:
    for address in ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888"]:
        assert is_public_address(address)
    for host in BLOCKED[:-1]:
        assert not is_public_address(host.strip("[]"))


async def test_a_name_with_any_private_address_is_refused() -> None:
    transport = NoNetwork()
    resolve = fake_resolver({"mixed.example": ["93.184.215.14", "10.0.0.5"]})
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(UnsafeAddress):
            await fetch_document(c, "https://mixed.example/x", auth=None, allow_private=False,
                                 resolver=resolve)
    assert transport.sent == []


async def test_unresolvable_name_is_a_timeout_error() -> None:
    async with httpx.AsyncClient(transport=NoNetwork()) as c:
        with pytest.raises(FetchTimeout):
            await fetch_document(c, "https://nowhere.example/x", auth=None,
                                 allow_private=False, resolver=fake_resolver({}))


async def test_every_redirect_hop_is_checked() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://10.0.0.1/internal"})

    resolve = fake_resolver({"public.example": ["93.184.215.14"]})
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(UnsafeAddress):
            await fetch_document(c, "https://public.example/x", auth=None,
                                 allow_private=False, resolver=resolve)
    assert sent == ["https://public.example/x"]


async def test_server_on_loopback_receives_nothing(server: Any, client: Any) -> None:
    base, recorder = server
    with pytest.raises(UnsafeAddress):
        await fetch_document(client, base + "/obj/a", auth=None, allow_private=False)
    assert recorder.requests == []


async def test_rebinding_to_loopback_is_caught_at_the_peer(server: Any, client: Any) -> None:
    # The resolver claims a public address, but the connection reaches 127.0.0.1:
    # the answer must not be used.
    base, _ = server
    port = httpx.URL(base).port
    resolve = fake_resolver({"localhost": ["93.184.215.14"]})
    with pytest.raises(UnsafeAddress, match="connected to non-public"):
        await fetch_document(client, f"http://localhost:{port}/obj/a", auth=None,
                             allow_private=False, resolver=resolve)


def test_a_deeply_nested_document_is_refused_without_recursion() -> None:
    """A fetched document nested deeper than the limit is an InvalidObject, not a crash of
    the worker that walks it later (the inbox refuses the same with 400)."""
    body = b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}"
    with pytest.raises(InvalidObject, match="nested deeper than 64 levels"):
        parse_json_object(body, "https://remote.example/deep")
    assert parse_json_object(b'{"a": [[1]]}', "https://remote.example/ok") == {"a": [[1]]}
