"""OpenAPI paths and schemas of fedi/routes/api_instance.py (the instance, Mastodon-style)."""

from __future__ import annotations

from typing import Any

from fedi.core.i18n import LANGUAGES
from fedi.forum.accounts import REGISTRATION_MODES
from fedi.routes.api_schemas import BOOL, INT, STR, URI, define, obj, ok, operation, ref

# The pages every page's footer links (the legal pages of issue 18), by their JSON name.
LINKS = {
    "impressum": "/impressum",
    "privacy": "/datenschutz",
    "terms": "/nutzungsbedingungen",
    "accessibility": "/barrierefreiheit",
    "rules": "/regeln",
    "statistics": "/statistik",
}
_LINK_TEXTS = {
    "impressum": "the Impressum (site notice, § 5 DDG)",
    "privacy": "the privacy notice (Datenschutzerklärung, Art. 13 DSGVO)",
    "terms": "the terms of use (Nutzungsbedingungen)",
    "accessibility": "the accessibility statement (Barrierefreiheitserklärung, BITV 2.0)",
    "rules": "the Netiquette (Forenregeln)",
    "statistics": "the public statistics",
}

define("InstanceRule", obj({
    "id": {**STR, "description": "its number in the Netiquette, from 1"},
    "text": STR,
}, description="One rule of the Netiquette, as in Mastodon's Rule entity."))
define("InstanceInfo", obj({
    "domain": {**STR, "description": "the host name of this instance"},
    "title": {**STR, "description": "the instance's name"},
    "version": {**STR, "description": "the dEMiSA version"},
    "description": {**STR, "description": "the short description (may be empty)"},
    "languages": {"type": "array", "items": {"type": "string", "enum": list(LANGUAGES)},
                  "description": "ISO 639-1 codes, the default language first"},
    "usage": obj({"users": obj({"active_month": {
        **INT, "minimum": 0,
        "description": "accounts active in the last 30 days (as /api/v1/statistics)"}})}),
    "registrations": obj({
        "enabled": {**BOOL, "description": "whether people can sign up"},
        "approval_required": {**BOOL, "description": "whether an admin approves each "
                                                      "sign-up"},
        "mode": {"type": "string", "enum": list(REGISTRATION_MODES)},
    }),
    "contact": obj({"email": {"type": ["string", "null"], "format": "email",
                              "description": "the contact address; null when not set"}}),
    "rules": {"type": "array", "items": ref("InstanceRule"),
              "description": "the Netiquette's rules; empty while none is published"},
    "links": obj({name: {**URI, "description": text} for name, text in _LINK_TEXTS.items()},
                 description="absolute URLs of the pages a German public body publishes"),
}, description="The instance, in the shape of Mastodon's v2 Instance entity "
               "(api_instance.get_instance)."))

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/instance": {"get": operation(
        "getInstance", "This instance: name, description, contact, registrations, rules, "
                       "legal pages", "meta",
        description="Public. Shaped like Mastodon's `GET /api/v2/instance` for the fields "
                    "clients read (domain, title, description, contact, registrations, "
                    "rules, languages, usage), plus the addresses of the legal pages.",
        responses={"200": ok("the instance", "InstanceInfo")})},
}
