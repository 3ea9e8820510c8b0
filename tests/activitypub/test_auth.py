"""HttpSignatureAuth end to end: real httpx requests checked by our own verifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from activitypub.auth import HttpSignatureAuth
from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, SigningKey, VerifiedSignature, verify_request
from activitypub.keys import KeyPair, generate_ed25519_keypair, load_private_key, public_pem
from tests.support.clock import FakeClock

ACTOR = "https://groups.example/g/cats"
KEY_ID = f"{ACTOR}#main-key"
INBOX = "https://m.example/users/alice/inbox"
NOW = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rsa_pair(test_key_pem: str) -> KeyPair:
    return KeyPair(test_key_pem, public_pem(load_private_key(test_key_pem).public_key()))


class Inbox:
    """A MockTransport handler that verifies every request it gets, as a remote inbox would."""

    def __init__(self, public_pem: str, clock: FakeClock, fail_first: int = 0) -> None:
        self.public_pem = public_pem
        self.clock = clock
        self.fail_first = fail_first
        self.seen: list[httpx.Request] = []
        # Copies: a re-sent Request object is the same object with new headers.
        self.headers: list[dict[str, str]] = []
        self.verified: list[VerifiedSignature] = []

    async def resolve(self, key_id: str) -> ResolvedKey | None:
        return ResolvedKey(key_id, ACTOR, self.public_pem) if key_id == KEY_ID else None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.headers.append(dict(request.headers))
        body = await request.aread()
        try:
            verified = await verify_request(
                request.method,
                str(request.url),
                request.headers,
                body if body or request.method == "POST" else None,
                self.resolve,
                self.clock(),
            )
        except SignatureError as exc:
            return httpx.Response(401, json={"error": exc.reason})
        self.verified.append(verified)
        if len(self.seen) <= self.fail_first:
            return httpx.Response(503)
        return httpx.Response(202)


def client(inbox: Inbox, auth: HttpSignatureAuth) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(inbox), auth=auth)


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_signed_post_and_get_verify(rsa_pair: KeyPair, scheme: str) -> None:
    clock = FakeClock(NOW)
    inbox = Inbox(rsa_pair.public_pem, clock)
    auth = HttpSignatureAuth(SigningKey(KEY_ID, rsa_pair.private_pem), scheme, clock)  # type: ignore[arg-type]
    async with client(inbox, auth) as http:
        posted = await http.post(INBOX, content=b'{"type": "Follow"}')
        fetched = await http.get("https://m.example/users/alice?page=1")
    assert (posted.status_code, fetched.status_code) == (202, 202), posted.text + fetched.text
    assert [v.scheme for v in inbox.verified] == [scheme, scheme]
    post, get = inbox.seen
    if scheme == "cavage":
        assert post.headers["Date"] == "Sat, 01 Aug 2026 10:00:00 GMT"
        assert "Digest" in post.headers and "Digest" not in get.headers
    else:
        assert "Content-Digest" in post.headers and "Content-Digest" not in get.headers


async def test_json_bodies_are_signed_as_sent(rsa_pair: KeyPair) -> None:
    clock = FakeClock(NOW)
    inbox = Inbox(rsa_pair.public_pem, clock)
    auth = HttpSignatureAuth(SigningKey(KEY_ID, rsa_pair.private_pem), clock=clock)
    async with client(inbox, auth) as http:
        response = await http.post(INBOX, json={"type": "Create", "content": "Grüße"})
    assert response.status_code == 202, response.text


async def test_ed25519_rfc9421(rsa_pair: KeyPair) -> None:
    pair = generate_ed25519_keypair()
    clock = FakeClock(NOW)
    inbox = Inbox(pair.public_pem, clock)
    auth = HttpSignatureAuth(SigningKey(KEY_ID, pair.private_pem), "rfc9421", clock)
    async with client(inbox, auth) as http:
        response = await http.post(INBOX, content=b"{}")
    assert response.status_code == 202, response.text
    assert inbox.verified[0].algorithm == "ed25519"


async def test_every_attempt_is_signed_afresh(rsa_pair: KeyPair) -> None:
    """A retry two hours later re-sends the same Request object; it must not reuse the old Date."""
    clock = FakeClock(NOW)
    inbox = Inbox(rsa_pair.public_pem, clock, fail_first=1)
    auth = HttpSignatureAuth(SigningKey(KEY_ID, rsa_pair.private_pem), clock=clock)
    async with client(inbox, auth) as http:
        request = http.build_request("POST", INBOX, content=b'{"type": "Announce"}')
        first = await http.send(request)
        assert first.status_code == 503
        clock.now += timedelta(hours=2)
        second = await http.send(request)
    assert second.status_code == 202, second.text
    dates = [headers["date"] for headers in inbox.headers]
    assert dates == ["Sat, 01 Aug 2026 10:00:00 GMT", "Sat, 01 Aug 2026 12:00:00 GMT"]
    assert inbox.headers[0]["signature"] != inbox.headers[1]["signature"]


async def test_a_stale_signature_would_have_been_rejected(rsa_pair: KeyPair) -> None:
    """The check behind the previous test: the inbox does reject a two-hour-old Date."""
    sign_clock, inbox_clock = FakeClock(NOW), FakeClock(NOW)
    inbox_clock.now += timedelta(hours=2)
    inbox = Inbox(rsa_pair.public_pem, inbox_clock)
    auth = HttpSignatureAuth(SigningKey(KEY_ID, rsa_pair.private_pem), clock=sign_clock)
    async with client(inbox, auth) as http:
        response = await http.post(INBOX, content=b"{}")
    assert response.status_code == 401
    assert response.json()["error"].startswith("expired")


def test_default_clock_is_utc_now(rsa_pair: KeyPair) -> None:
    auth = HttpSignatureAuth(SigningKey(KEY_ID, rsa_pair.private_pem))
    request = httpx.Request("GET", INBOX)
    auth.sign(request)
    signed_at = datetime.strptime(request.headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs(signed_at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)
