"""WebFinger and host-meta: the documents we serve and the lookup of a remote handle.

A lookup follows Mastodon (``app/lib/webfinger.rb``, ``resolve_account_service.rb``):
the resource goes into the query *unencoded*, a 404 falls back to host-meta's ``lrdd``
template, the ``self`` link must carry an ActivityPub type exactly, and a ``subject``
naming another account is accepted only after that account confirms itself (one hop).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any, Literal
from xml.sax.saxutils import quoteattr

import httpx

from activitypub.errors import InvalidObject, WebFingerError
from activitypub.fetch import AS_PROFILE, RawResponse, guarded_get, parse_json_object
from activitypub.netguard import scheme_for_host
from activitypub.ports import Resolver

__all__ = [
    "ACTIVITYPUB_LINK_TYPES",
    "PROFILE_PAGE_REL",
    "host_meta_xml",
    "parse_handle",
    "webfinger_document",
    "webfinger_lookup",
]

ACTIVITYPUB_LINK_TYPES = frozenset(
    {"application/activity+json", f'application/ld+json; profile="{AS_PROFILE}"'}
)
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
_JRD_ACCEPT = "application/jrd+json, application/json"
_XRD_NS = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
# Characters that survive an unencoded query string (no '&', '#', '+', '%', space).
_USERNAME = re.compile(r"[A-Za-z0-9_.~-]+")
_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?"
)
_MAX_BYTES = 100_000  # WebFinger and host-meta documents are tiny


def webfinger_document(
    subject: str,
    actor_id: str,
    profile_url: str | None = None,
    aliases: Sequence[str] = (),
) -> dict[str, Any]:
    """The JRD for one local actor; ``subject`` as ``acct:name@host`` or ``name@host``."""
    links: list[dict[str, str]] = [
        {"rel": "self", "type": "application/activity+json", "href": actor_id}
    ]
    if profile_url is not None:
        links.append({"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url})
    document: dict[str, Any] = {"subject": _with_acct(subject), "links": links}
    if aliases:
        document["aliases"] = list(aliases)
    return document


def host_meta_xml(base_url: str) -> str:
    """The host-meta XRD pointing its ``lrdd`` template at our WebFinger endpoint."""
    template = f"{base_url.rstrip('/')}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<XRD xmlns="{_XRD_NS}">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )


def parse_handle(handle: str) -> tuple[str, str]:
    """Split ``name@host``, ``@name@host`` or ``acct:name@host`` into (name, host).

    The host is lower-cased (IDNA-encoded if needed) and may carry a port.
    """
    text = handle.strip()
    if text[:5].lower() == "acct:":
        text = text[5:]
    name, sep, host = text.removeprefix("@").partition("@")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise WebFingerError(f"invalid host in handle {handle!r}") from exc
    host = host.lower()
    if not sep or not _USERNAME.fullmatch(name) or not _HOST.fullmatch(host):
        raise WebFingerError(f"not a handle of the form name@host: {handle!r}")
    return name, host


async def webfinger_lookup(
    client: httpx.AsyncClient,
    handle: str,
    *,
    allow_private: bool,
    scheme: Literal["https", "http"] | None = None,
    resolver: Resolver | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 (also sets httpx's per-operation timeouts)
) -> str:
    """Resolve ``handle`` to its actor id (the ``self`` link's ``href``).

    ``scheme`` None means :func:`~activitypub.netguard.scheme_for_host`: https, or http
    for loopback/private hosts when ``allow_private`` is on. Requests are unsigned.
    Raises :class:`WebFingerError` with the reason, or a ``FetchError`` subclass when
    the host cannot be reached safely (unsafe address, timeout).
    """
    lookup = _Lookup(client, allow_private, scheme, resolver, timeout)
    name, host = parse_handle(handle)
    wanted = f"{name}@{host}"
    subject, actor_id = await lookup.query(name, host)
    if subject.lower() == wanted.lower():
        return actor_id
    # Mastodon's one redirect hop: the named account must confirm itself.
    other_name, other_host = parse_handle(subject)
    confirmed, actor_id = await lookup.query(other_name, other_host)
    if confirmed.lower() != subject.lower():
        raise WebFingerError(
            f"{wanted} named {subject}, which names {confirmed}: too many redirects"
        )
    return actor_id


class _Lookup:
    """The settings one lookup shares between its requests."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        allow_private: bool,
        scheme: str | None,
        resolver: Resolver | None,
        timeout: float,
    ) -> None:
        self.client = client
        self.allow_private = allow_private
        self.scheme = scheme
        self.resolver = resolver
        self.timeout = timeout

    async def query(self, name: str, host: str) -> tuple[str, str]:
        """(subject without ``acct:``, self href) of ``name@host``."""
        resource = f"acct:{name}@{host}"
        base = f"{self.scheme or scheme_for_host(host, allow_private=self.allow_private)}://{host}"
        # Built by hand: httpx `params=` would percent-encode ':' and '@'.
        answer = await self.get(f"{base}/.well-known/webfinger?resource={resource}", _JRD_ACCEPT)
        if answer.status == 404:
            template = await self.lrdd_template(base)
            answer = await self.get(template.replace("{uri}", resource), _JRD_ACCEPT)
        if answer.status == 410:
            raise WebFingerError(f"{name}@{host} is gone (410)")
        if answer.status != 200:
            raise WebFingerError(f"WebFinger for {name}@{host} answered {answer.status}")
        return _read_jrd(answer)

    async def lrdd_template(self, base: str) -> str:
        answer = await self.get(f"{base}/.well-known/host-meta", "application/xrd+xml")
        if answer.status != 200:
            raise WebFingerError(f"no WebFinger at {base}, and host-meta answered {answer.status}")
        try:
            root = ET.fromstring(answer.body)  # noqa: S314 (size-limited; expat refuses entity bombs)
        except ET.ParseError as exc:
            raise WebFingerError(f"host-meta of {base} is not XML: {exc}") from exc
        for link in root.iter():
            template = link.get("template")
            if link.tag.endswith("Link") and link.get("rel") == "lrdd" and template:
                if "{uri}" in template:
                    return template
        raise WebFingerError(f"host-meta of {base} has no lrdd template")

    async def get(self, url: str, accept: str) -> RawResponse:
        return await guarded_get(
            self.client,
            url,
            headers={"Accept": accept},
            auth=None,  # Mastodon sends WebFinger and host-meta unsigned
            allow_private=self.allow_private,
            resolver=self.resolver,
            timeout=self.timeout,
            max_bytes=_MAX_BYTES,
        )


def _read_jrd(answer: RawResponse) -> tuple[str, str]:
    try:
        jrd = parse_json_object(answer.body, answer.url)
    except InvalidObject as exc:
        raise WebFingerError(f"WebFinger answer from {answer.url} is not a JSON object") from exc
    subject = jrd.get("subject")
    if not isinstance(subject, str) or not subject:
        raise WebFingerError(f"WebFinger answer from {answer.url} has no subject")
    return _without_acct(subject), _self_href(jrd, answer.url)


def _self_href(jrd: dict[str, Any], url: str) -> str:
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and isinstance(link.get("type"), str)  # a list would not hash
            and link["type"] in ACTIVITYPUB_LINK_TYPES
        ):
            href = link.get("href")
            if isinstance(href, str) and href.startswith(("https://", "http://")):
                return href
    raise WebFingerError(f"WebFinger answer from {url} has no ActivityPub self link")


def _with_acct(subject: str) -> str:
    return subject if subject.lower().startswith("acct:") else f"acct:{subject}"


def _without_acct(subject: str) -> str:
    return subject[5:] if subject.lower().startswith("acct:") else subject
