"""The curated public surface of the protocol package, pinned (as httpx does)."""

from __future__ import annotations

import activitypub

EXPECTED = {
    "ACTIVITYPUB_ACCEPT", "PUBLIC", "APObject", "Activity", "ActivityStreamsDocument", "Actor",
    "Collection", "DeliveryResult", "FetchError", "FetchStatusError", "FetchTimeout",
    "FetchTooLarge", "HttpSignatureAuth", "InvalidObject", "KeyPair", "KeyResolver",
    "NodeInfoSummary", "NotActivityPub", "OriginMismatch", "ProtocolError", "ResolvedKey",
    "SignatureError", "SigningKey", "TooManyRedirects", "UnsafeAddress", "VerifiedSignature",
    "WebFingerError", "as_list", "deliver", "fetch_document", "fetch_nodeinfo",
    "generate_ed25519_keypair", "generate_rsa_keypair", "host_meta_xml",
    "is_activitypub_content_type", "is_public", "load_private_key", "load_public_key",
    "multikey_json", "nodeinfo_document", "nodeinfo_index", "object_id", "parse",
    "parse_handle", "public_key_from_multibase", "public_key_json", "public_key_to_multibase",
    "sign_cavage", "sign_rfc9421", "summarize", "verify_request", "webfinger_document",
    "webfinger_lookup",
}


def test_all_is_pinned() -> None:
    assert set(activitypub.__all__) == EXPECTED


def test_every_exported_name_exists_and_belongs_to_the_package() -> None:
    for name in activitypub.__all__:
        member = getattr(activitypub, name)
        module = getattr(member, "__module__", "activitypub")
        assert module.startswith("activitypub"), (name, module)


def test_errors_form_one_tree() -> None:
    for name in activitypub.__all__:
        member = getattr(activitypub, name)
        if isinstance(member, type) and issubclass(member, Exception):
            assert issubclass(member, activitypub.ProtocolError), name
