"""NodeInfo: the documents we serve and a client that asks what software a host runs.

The application uses :func:`fetch_nodeinfo` to pick the Announce form for each
follower's server (forum software wants ``Announce(Create)``, Mastodon the object id),
and Lemmy counts an instance as dead when ``/.well-known/nodeinfo`` fails for 3 days,
so serving it matters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from activitypub.errors import FetchError, FetchStatusError, InvalidObject
from activitypub.fetch import RawResponse, guarded_get, parse_json_object
from activitypub.netguard import scheme_for_host
from activitypub.ports import Resolver

__all__ = [
    "SCHEMA_REL",
    "NodeInfoSummary",
    "NodeInfoVersion",
    "fetch_nodeinfo",
    "nodeinfo_content_type",
    "nodeinfo_document",
    "nodeinfo_index",
]

NodeInfoVersion = Literal["2.0", "2.1"]
SCHEMA_REL = "http://nodeinfo.diaspora.software/ns/schema/"
_VERSIONS: tuple[NodeInfoVersion, ...] = ("2.1", "2.0")  # preferred first
_SOFTWARE_NAME = re.compile(r"[a-z0-9-]+")  # required by both schemas
_MAX_BYTES = 200_000


def nodeinfo_index(base_url: str) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: links to our 2.1 and 2.0 documents."""
    base = base_url.rstrip("/")
    return {
        "links": [
            {"rel": f"{SCHEMA_REL}{version}", "href": f"{base}/nodeinfo/{version}"}
            for version in _VERSIONS
        ]
    }


def nodeinfo_content_type(version: NodeInfoVersion) -> str:
    """The Content-Type the schema asks for when serving a NodeInfo document."""
    return f'application/json; profile="{SCHEMA_REL}{version}#"'


def nodeinfo_document(
    version: NodeInfoVersion,
    software_name: str,
    software_version: str,
    users_total: int,
    users_active_month: int,
    users_active_halfyear: int,
    local_posts: int,
    open_registrations: bool,
    metadata: Mapping[str, Any],
    *,
    repository: str | None = None,
    homepage: str | None = None,
) -> dict[str, Any]:
    """A NodeInfo 2.0 or 2.1 document (``repository``/``homepage`` exist only in 2.1)."""
    if version not in _VERSIONS:
        raise ValueError(f"unsupported NodeInfo version {version!r}")
    if not _SOFTWARE_NAME.fullmatch(software_name):
        raise ValueError(f"NodeInfo software name must match [a-z0-9-]+: {software_name!r}")
    software: dict[str, str] = {"name": software_name, "version": software_version}
    if version == "2.1":
        software.update(_present(repository=repository, homepage=homepage))
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": users_total,
                "activeMonth": users_active_month,
                "activeHalfyear": users_active_halfyear,
            },
            "localPosts": local_posts,
        },
        "metadata": dict(metadata),
    }


def _present(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class NodeInfoSummary:
    """What the application needs to know about a remote server."""

    version: str  # the NodeInfo schema version that was read
    software_name: str  # lower-cased, e.g. "mastodon", "lemmy", "mbin", "piefed"
    software_version: str
    protocols: tuple[str, ...]
    open_registrations: bool | None


async def fetch_nodeinfo(
    client: httpx.AsyncClient,
    host: str,
    *,
    allow_private: bool,
    scheme: Literal["https", "http"] | None = None,
    resolver: Resolver | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 (also sets httpx's per-operation timeouts)
) -> NodeInfoSummary:
    """Read ``host``'s NodeInfo through its well-known index (2.1 preferred, then 2.0).

    ``host`` may carry a port; ``scheme`` None picks it as
    :func:`~activitypub.netguard.scheme_for_host` does. Requests are unsigned. Raises a
    :class:`FetchError` (subclass) when the index or document is missing or malformed.
    """

    async def get(url: str) -> dict[str, Any]:
        answer = await guarded_get(
            client,
            url,
            headers={"Accept": "application/json"},
            auth=None,
            allow_private=allow_private,
            resolver=resolver,
            timeout=timeout,
            max_bytes=_MAX_BYTES,
        )
        return _json_of(answer)

    base = f"{scheme or scheme_for_host(host, allow_private=allow_private)}://{host}"
    version, url = _pick_link(await get(f"{base}/.well-known/nodeinfo"), base)
    return _summary(await get(url), version, url)


def _json_of(answer: RawResponse) -> dict[str, Any]:
    if answer.status != 200:
        raise FetchStatusError(f"{answer.url} answered {answer.status}", answer.status)
    try:
        return parse_json_object(answer.body, answer.url)
    except InvalidObject as exc:
        raise FetchError(exc.reason) from exc


def _pick_link(index: dict[str, Any], base: str) -> tuple[str, str]:
    links = index.get("links")
    hrefs: dict[str, str] = {}
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            # Some servers write the rel with https:// or a trailing '#'.
            rel = str(link.get("rel", "")).replace("https://", "http://").rstrip("#")
            if rel.startswith(SCHEMA_REL):
                hrefs[rel.removeprefix(SCHEMA_REL)] = link["href"]
    for version in _VERSIONS:
        if version in hrefs:
            return version, hrefs[version]
    raise FetchError(f"{base}/.well-known/nodeinfo links no NodeInfo 2.0 or 2.1 document")


def _summary(document: dict[str, Any], version: str, url: str) -> NodeInfoSummary:
    software = document.get("software")
    if not isinstance(software, dict) or not isinstance(software.get("name"), str):
        raise FetchError(f"NodeInfo at {url} names no software")
    protocols = document.get("protocols")
    registrations = document.get("openRegistrations")
    return NodeInfoSummary(
        version=str(document.get("version", version)),
        software_name=software["name"].lower(),
        software_version=str(software.get("version", "")),
        protocols=tuple(p for p in protocols if isinstance(p, str))
        if isinstance(protocols, list)
        else (),
        open_registrations=registrations if isinstance(registrations, bool) else None,
    )
