"""NodeInfo: our documents, and reading a server's NodeInfo over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activitypub.errors import FetchError, FetchStatusError, UnsafeAddress
from activitypub.nodeinfo import (
    NodeInfoSummary,
    fetch_nodeinfo,
    nodeinfo_content_type,
    nodeinfo_document,
    nodeinfo_index,
)
from tests.activitypub._servers import NoNetwork, Recorder, serve

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"


def sample(version: Any, name: str = "demisa") -> dict[str, Any]:
    return nodeinfo_document(version, name, "0.1.0", 10, 5, 7, 123, False,
                             {"nodeName": "Teststadt"})


class State:
    """What the test server answers; each test sets it."""

    def __init__(self) -> None:
        self.index: Any = None
        self.documents: dict[str, Any] = {}


def build_app(base: str, state: State, recorder: Recorder) -> Starlette:
    async def index(request: Request) -> Response:
        await recorder.record(request)
        if state.index is None:
            return Response(status_code=404)
        return JSONResponse(state.index)

    async def doc(request: Request) -> Response:
        await recorder.record(request)
        version = request.path_params["version"]
        if version not in state.documents:
            return Response(status_code=404)
        return JSONResponse(state.documents[version],
                            media_type=nodeinfo_content_type("2.1" if version == "2.1" else "2.0"))

    return Starlette(routes=[Route("/.well-known/nodeinfo", index),
                             Route("/nodeinfo/{version}", doc)])


Server = tuple[str, State, Recorder]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def module_server() -> AsyncIterator[Server]:
    state, recorder = State(), Recorder()
    async with serve(lambda base: build_app(base, state, recorder)) as base:
        yield base, state, recorder


@pytest.fixture
def server(module_server: Server) -> Server:
    base, state, recorder = module_server
    state.index = nodeinfo_index(base)
    state.documents = {"2.1": sample("2.1"), "2.0": sample("2.0")}
    recorder.clear()
    return module_server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


async def read(client: httpx.AsyncClient, base: str) -> NodeInfoSummary:
    return await fetch_nodeinfo(client, base.removeprefix("http://"), allow_private=True)


def test_index_lists_21_then_20() -> None:
    assert nodeinfo_index("https://x.example/") == {"links": [
        {"rel": SCHEMA + "2.1", "href": "https://x.example/nodeinfo/2.1"},
        {"rel": SCHEMA + "2.0", "href": "https://x.example/nodeinfo/2.0"},
    ]}


def test_documents_follow_the_schemas() -> None:
    doc = nodeinfo_document("2.1", "demisa", "0.1.0", 10, 5, 7, 123, True, {"a": 1},
                            repository="https://git.example/demisa")
    assert doc["version"] == "2.1"
    assert doc["software"] == {"name": "demisa", "version": "0.1.0",
                               "repository": "https://git.example/demisa"}
    assert doc["protocols"] == ["activitypub"]
    assert doc["usage"] == {"users": {"total": 10, "activeMonth": 5, "activeHalfyear": 7},
                            "localPosts": 123}
    assert doc["openRegistrations"] is True and doc["metadata"] == {"a": 1}
    older = nodeinfo_document("2.0", "demisa", "0.1.0", 1, 1, 1, 1, False, {},
                              repository="https://git.example/demisa")
    assert "repository" not in older["software"]  # not part of the 2.0 schema
    with pytest.raises(ValueError):
        nodeinfo_document("2.1", "dEMiSA", "1", 0, 0, 0, 0, False, {})
    with pytest.raises(ValueError):
        nodeinfo_document("3.0", "demisa", "1", 0, 0, 0, 0, False, {})  # type: ignore[arg-type]


async def test_prefers_21(server: Server, client: Any) -> None:
    base, _, recorder = server
    assert await read(client, base) == NodeInfoSummary("2.1", "demisa", "0.1.0",
                                                       ("activitypub",), False)
    assert recorder.paths() == ["/.well-known/nodeinfo", "/nodeinfo/2.1"]
    assert "signature" not in recorder.requests[0].headers


async def test_falls_back_to_20(server: Server, client: Any) -> None:
    base, state, recorder = server
    state.index = {"links": [nodeinfo_index(base)["links"][1]]}
    summary = await read(client, base)
    assert (summary.version, summary.software_name) == ("2.0", "demisa")
    assert recorder.paths()[-1] == "/nodeinfo/2.0"


async def test_tolerates_https_rel_and_fragment(server: Server, client: Any) -> None:
    base, state, _ = server
    state.index = {"links": [{"rel": "https://nodeinfo.diaspora.software/ns/schema/2.0#",
                              "href": base + "/nodeinfo/2.0"}]}
    state.documents["2.0"] = sample("2.0")
    state.documents["2.0"]["software"]["name"] = "mastodon"
    assert (await read(client, base)).software_name == "mastodon"


@pytest.mark.parametrize("index", [None, {"links": []}, {"links": [{"rel": "x", "href": "y"}]},
                                   {"links": "nope"}, ["not", "an", "object"]])
async def test_missing_or_useless_index(server: Server, client: Any, index: Any) -> None:
    base, state, _ = server
    state.index = index
    with pytest.raises(FetchError):
        await read(client, base)


async def test_document_without_software(server: Server, client: Any) -> None:
    base, state, _ = server
    state.documents["2.1"] = {"version": "2.1"}
    with pytest.raises(FetchError, match="names no software"):
        await read(client, base)


async def test_linked_document_missing(server: Server, client: Any) -> None:
    base, state, _ = server
    state.documents = {}
    with pytest.raises(FetchStatusError) as caught:
        await read(client, base)
    assert caught.value.status == 404


async def test_private_host_refused_without_sending() -> None:
    transport = NoNetwork()
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(UnsafeAddress):
            await fetch_nodeinfo(c, "192.168.1.5", allow_private=False)
    assert transport.sent == []
