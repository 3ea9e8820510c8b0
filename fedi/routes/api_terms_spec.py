"""OpenAPI paths and schemas of fedi/routes/api_terms.py (terms of use, privacy policy,
Impressum, accessibility statement, Netiquette)."""

from __future__ import annotations

from typing import Any

from fedi.forum.terms import CONSENT_KINDS, KINDS, TEXT_MAX
from fedi.routes.api_admin_common import ADMINS_ONLY, admin_op
from fedi.routes.api_schemas import (
    INT,
    OPT_STR,
    STR,
    TIME,
    URI,
    define,
    define_page,
    obj,
    ok,
    operation,
    path_param,
)

_KINDS_TEXT = ("`terms` (terms of use), `privacy` (privacy policy), `impressum` (site "
               "notice, § 5 DDG), `accessibility` (accessibility statement, BITV 2.0) or "
               "`rules` (Netiquette)")
KIND = {"type": "string", "enum": list(KINDS), "description": _KINDS_TEXT}
CONSENT_KIND = {"type": "string", "enum": list(CONSENT_KINDS),
                "description": "`terms` (terms of use) or `privacy` (privacy policy): "
                               "the documents an account accepts"}
_DOCUMENT = {
    "kind": KIND,
    "version": {**INT, "minimum": 1},
    "published_at": TIME,
    "url": {**URI, "description": "the page that shows it"},
    "text": {**STR, "description": "the Markdown source"},
    "html": {**STR, "description": "the sanitised HTML rendered from it"},
}
define("TermsDocument", obj({
    **_DOCUMENT,
    "accepted": {"type": ["boolean", "null"],
                 "description": "whether the caller accepted this version (or need not: "
                                "it was current when the account was created); null "
                                "without a token"},
}, description="The current version of a document (api_terms.document_view)."))
define_page("TermsDocumentList", "TermsDocument", one_page=True)
define("TermsVersion", obj({
    **_DOCUMENT,
    "published_by": {**OPT_STR, "description": "the admin's username; null for the "
                                               "built-in first version"},
}, description="One published version (api_terms.version_view)."))
define_page("TermsVersionList", "TermsVersion", one_page=True)
define("LegalDocument", obj({
    **_DOCUMENT,
    "consent_required": {"type": "boolean",
                         "description": "whether accounts accept this document (only "
                                        "`terms` and `privacy`)"},
    "accepted": {"type": ["boolean", "null"],
                 "description": "for `terms` and `privacy` with a token: whether the caller "
                                "accepted this version; else null"},
}, description="The current version of one document (api_terms.one_document)."))
define("AcceptTermsRequest", obj({"kind": CONSENT_KIND, "version": {**INT, "minimum": 1}}))
define("PublishTermsRequest", obj({
    "text": {"type": "string", "maxLength": TEXT_MAX, "description": "Markdown"}}))

KIND_PARAM = path_param("kind", description=_KINDS_TEXT)

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/terms": {"get": operation(
        "getTerms", "The current terms of use and privacy policy", "accounts",
        description="With a token, each says whether the caller accepted it. After a new "
                    "version is published, an account that has not accepted it cannot "
                    "write (403 `terms_not_accepted`) until it does.",
        responses={"200": ok("the current version of each document", "TermsDocumentList"),
                   "401": "the token is invalid (`unauthorized`)"})},
    "/api/v1/terms/{kind}": {"get": operation(
        "getLegalDocument", "The current version of one legal document", "accounts",
        params=[KIND_PARAM],
        description="Any kind, also the Impressum, the accessibility statement and the "
                    "Netiquette; 404 while no version of it is published (those three "
                    "have no built-in version).",
        responses={"200": ok("the current version", "LegalDocument"),
                   "401": "the token is invalid (`unauthorized`)",
                   "404": "no version is published yet (`not_found`)",
                   "422": "unknown kind (`validation_failed`)"})},
    "/api/v1/terms/accept": {"post": operation(
        "acceptTerms", "Accept the current version of a document", "accounts", auth=True,
        body="AcceptTermsRequest",
        responses={"204": {"description": "accepted"},
                   "409": "this version is not the current one (`conflict`)",
                   "422": "unknown kind or bad version (`validation_failed`, `field`)"})},
    "/api/v1/admin/terms/{kind}": {
        "get": admin_op("listTermsVersions", "Every version of a document, newest first",
                        ok_=ok("the versions", "TermsVersionList"), errors=("403", "422"),
                        params=[KIND_PARAM], texts=ADMINS_ONLY),
        "put": admin_op("publishTerms", "Publish a new version of a document (admins)",
                        ok_=ok("the new version", "TermsVersion"), status="201",
                        body="PublishTermsRequest", params=[KIND_PARAM],
                        errors=("403", "409", "422"),
                        texts={**ADMINS_ONLY, "409": "the text is the same as the current "
                                                     "version (`conflict`)"}),
    },
}
