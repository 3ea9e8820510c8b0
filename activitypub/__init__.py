"""The ActivityPub protocol: vocabulary, HTTP signatures, keys, WebFinger, NodeInfo, safe
fetching and delivery. Pure: no database, no web framework; what it needs from the world
(an HTTP client, a key resolver, the time) is passed in.

``__all__`` here is the curated surface. Every public submodule (no leading underscore) has
its own ``__all__``; the app imports only names listed there (tests/activitypub pins both).
Type aliases such as ``httpsig.Scheme`` and ``keys.PublicKey`` stay in their modules."""

from activitypub.auth import HttpSignatureAuth
from activitypub.delivery import DeliveryResult, deliver
from activitypub.errors import (
    FetchError,
    FetchStatusError,
    FetchTimeout,
    FetchTooLarge,
    InvalidObject,
    NotActivityPub,
    OriginMismatch,
    ProtocolError,
    SignatureError,
    TooManyRedirects,
    UnsafeAddress,
    WebFingerError,
)
from activitypub.fetch import ACTIVITYPUB_ACCEPT, fetch_document, is_activitypub_content_type
from activitypub.httpsig import (
    KeyResolver,
    ParsedSignature,
    ResolvedKey,
    SigningKey,
    VerifiedSignature,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from activitypub.keys import (
    KeyPair,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
    multikey_json,
    public_key_from_multibase,
    public_key_json,
    public_key_to_multibase,
)
from activitypub.nodeinfo import (
    NodeInfoSummary,
    fetch_nodeinfo,
    nodeinfo_content_type,
    nodeinfo_document,
    nodeinfo_index,
)
from activitypub.summary import summarize
from activitypub.vocab import (
    PUBLIC,
    Activity,
    ActivityStreamsDocument,
    Actor,
    APObject,
    Collection,
    as_list,
    is_public,
    object_id,
    parse,
)
from activitypub.webfinger import (
    host_meta_xml,
    parse_handle,
    webfinger_document,
    webfinger_lookup,
)

__all__ = [
    "ACTIVITYPUB_ACCEPT",
    "PUBLIC",
    "APObject",
    "Activity",
    "ActivityStreamsDocument",
    "Actor",
    "Collection",
    "DeliveryResult",
    "FetchError",
    "FetchStatusError",
    "FetchTimeout",
    "FetchTooLarge",
    "HttpSignatureAuth",
    "InvalidObject",
    "KeyPair",
    "KeyResolver",
    "NodeInfoSummary",
    "NotActivityPub",
    "OriginMismatch",
    "ParsedSignature",
    "ProtocolError",
    "ResolvedKey",
    "SignatureError",
    "SigningKey",
    "TooManyRedirects",
    "UnsafeAddress",
    "VerifiedSignature",
    "WebFingerError",
    "as_list",
    "deliver",
    "fetch_document",
    "fetch_nodeinfo",
    "generate_ed25519_keypair",
    "generate_rsa_keypair",
    "host_meta_xml",
    "is_activitypub_content_type",
    "is_public",
    "load_private_key",
    "load_public_key",
    "multikey_json",
    "nodeinfo_content_type",
    "nodeinfo_document",
    "nodeinfo_index",
    "object_id",
    "parse",
    "parse_handle",
    "parse_signature",
    "public_key_from_multibase",
    "public_key_json",
    "public_key_to_multibase",
    "sign_cavage",
    "sign_rfc9421",
    "summarize",
    "verify_request",
    "webfinger_document",
    "webfinger_lookup",
]
