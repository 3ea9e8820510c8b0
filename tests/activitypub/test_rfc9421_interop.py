"""Our outbound RFC 9421 signatures, checked by two independent implementations:
``http-message-signatures`` (pyauth) and ``apsig`` (fedi-libs, the form bovine and apsig
sign: ``@method`` ``@authority`` ``@path`` without ``@query`` and the params in the order
created, alg, keyid). And inbound: we accept apsig's own signatures (``@path`` +
``@authority`` on a URL without a query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from activitypub.errors import SignatureError
from activitypub.httpsig import ResolvedKey, SigningKey, sign_rfc9421, verify_request
from activitypub.keys import (
    KeyPair,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
)

INBOX = "https://groups.example/groups/breitband/inbox"
KEY_ID = "https://town.example/users/anna#main-key"
BODY = b'{"type":"Create","id":"https://town.example/activities/1"}'
HEADERS = {"Content-Type": "application/activity+json"}


@pytest.fixture(scope="module")
def rsa_pair() -> KeyPair:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def ed_pair() -> KeyPair:
    return generate_ed25519_keypair()


def _signed(pair: KeyPair, method: str, url: str, body: bytes | None) -> dict[str, str]:
    # The independent verifiers read the real clock.
    now = datetime.now(UTC) - timedelta(seconds=1)
    headers = dict(HEADERS) if body is not None else {}
    return {**headers, **sign_rfc9421(method, url, headers, body, SigningKey(KEY_ID,
                                                                           pair.private_pem),
                                      now)}


@dataclass
class HmsRequest:
    method: str
    url: str
    headers: dict[str, str]


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
@pytest.mark.parametrize(("method", "url"), [("POST", INBOX), ("GET", INBOX),
                                             ("GET", INBOX + "?page=2")])
def test_http_message_signatures_verifies_ours(
    rsa_pair: KeyPair, ed_pair: KeyPair, kind: str, method: str, url: str
) -> None:
    from http_message_signatures import (
        HTTPMessageVerifier,
        InvalidSignature,
        MappingKeyResolver,
        algorithms,
    )

    pair = rsa_pair if kind == "rsa" else ed_pair
    body = BODY if method == "POST" else None
    message = HmsRequest(method, url, _signed(pair, method, url, body))
    resolver = MappingKeyResolver(public_keys={KEY_ID: load_public_key(pair.public_pem)},
                                  private_keys={})
    algorithm: Any = algorithms.RSA_V1_5_SHA256 if kind == "rsa" else algorithms.ED25519
    verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=resolver)
    required = ["@method", "@authority", "@path"]
    if "?" in url:
        required.append("@query")
    if body is not None:
        required += ["content-digest", "content-type"]
    (result,) = verifier.verify(message, body=body, require_components=tuple(required))
    assert result.parameters["keyid"] == KEY_ID
    message.url = url.replace("breitband", "foerdermittel")
    with pytest.raises(InvalidSignature):  # another path no longer verifies
        verifier.verify(message, body=body)


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_apsig_verifies_ours(rsa_pair: KeyPair, ed_pair: KeyPair, kind: str, method: str
                             ) -> None:
    from apsig.exceptions import VerificationFailedError
    from apsig.rfc9421 import RFC9421Verifier

    pair = rsa_pair if kind == "rsa" else ed_pair
    body = BODY if method == "POST" else None
    headers = _signed(pair, method, INBOX, body)
    public = load_public_key(pair.public_pem)
    verifier = RFC9421Verifier(public, method, "/groups/breitband/inbox", "groups.example",
                               headers, body)
    assert verifier.verify(raise_on_fail=True) == KEY_ID
    other = RFC9421Verifier(public, method, "/groups/other/inbox", "groups.example",
                            headers, body)
    with pytest.raises(VerificationFailedError):
        other.verify(raise_on_fail=True)


class Keys:
    def __init__(self, pem: str) -> None:
        self.pem = pem

    async def __call__(self, key_id: str) -> ResolvedKey | None:
        owner = key_id.partition("#")[0]
        return ResolvedKey(key_id, owner, self.pem) if key_id == KEY_ID else None


async def test_we_accept_apsigs_path_and_authority_form(rsa_pair: KeyPair) -> None:
    from apsig.rfc9421 import RFC9421Signer

    signer = RFC9421Signer(load_private_key(rsa_pair.private_pem), KEY_ID)
    headers = signer.sign("POST", "/groups/breitband/inbox", "groups.example",
                          {"Content-Type": "application/activity+json"}, BODY)
    # apsig signs date, @method, @path, @authority, content-type, content-length; it adds
    # Content-Digest without covering it: our policy wants a POST's digest signed.
    assert 'sig1=("date" "@method" "@path" "@authority"' in headers["Signature-Input"]
    now = datetime.now(UTC)
    with pytest.raises(SignatureError) as exc:
        await verify_request("POST", INBOX, headers, BODY, Keys(rsa_pair.public_pem), now)
    assert exc.value.reason == "not covered: content-digest"
    # The same form on a GET (no body, no digest needed) verifies: @path + @authority
    # pin a URL that has no query.
    get = signer.sign("GET", "/groups/breitband/outbox", "groups.example",
                      {"Content-Type": "application/activity+json"}, b"")
    verified = await verify_request("GET", "https://groups.example/groups/breitband/outbox",
                                    get, None, Keys(rsa_pair.public_pem), now)
    assert verified.key_id == KEY_ID
    with pytest.raises(SignatureError) as exc:  # a query added on the way is refused
        await verify_request("GET", "https://groups.example/groups/breitband/outbox?page=9",
                             get, None, Keys(rsa_pair.public_pem), now)
    assert exc.value.reason == "not covered: @target-uri"
