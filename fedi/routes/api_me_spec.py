"""OpenAPI paths of fedi/routes/api_me.py (the caller's profile, language, password and
sessions) and the schemas only they use."""

from __future__ import annotations

from typing import Any

from fedi.core.i18n import LANGUAGES
from fedi.forum import accounts as account_service
from fedi.forum import notification_mail
from fedi.forum import profiles as profile_service
from fedi.routes.api_schemas import STR, define, obj, ok, operation

define("ProfileChangeRequest", obj({
    "display_name": {"type": ["string", "null"],
                     "maxLength": account_service.DISPLAY_NAME_MAX,
                     "description": "empty or null: the username"},
    "bio": {"type": ["string", "null"], "maxLength": profile_service.BIO_MAX,
            "description": "Markdown"},
    "organisation": {"type": ["string", "null"], "maxLength": profile_service.TEXT_MAX},
    "municipality": {"type": ["string", "null"], "maxLength": profile_service.TEXT_MAX},
    "affiliation": {"type": ["string", "null"],
                    "enum": [*profile_service.AFFILIATIONS, "", None]},
    "language": {"type": ["string", "null"], "enum": [*LANGUAGES, "", None]},
    "email_notifications": {
        "type": "object", "description": "modes to change, merged into the current ones: "
        "default and/or types (reply, mention, like, accepted_answer, moderation, report, "
        "signup, new_thread, watched_post), each immediate, daily, weekly or off; a type "
        "set to null follows the default again",
        "properties": {name: {"type": ["string", "null"],
                              "enum": [*notification_mail.MODES, None]}
                       for name in ("default", *notification_mail.TYPES)}},
    "timezone": {"type": "string", "description": "IANA time zone name, e.g. Europe/Berlin"},
    "avatar_media_id": {"type": ["integer", "null"],
                        "description": "your uploaded image (POST /api/v1/media) as avatar; "
                                       "null removes it"},
}, optional=(*profile_service.PROFILE_FIELDS, "email_notifications", "timezone",
             "avatar_media_id"),
   description="The fields to change; the others stay. Unknown fields are refused."))
define("PasswordChangeRequest", obj({
    "current_password": STR,
    "new_password": {"type": "string", "minLength": account_service.PASSWORD_MIN,
                     "maxLength": account_service.PASSWORD_MAX},
}))

define("EmailChangeRequest", obj({
    "current_password": STR,
    "email": {"type": "string", "format": "email", "maxLength": account_service.EMAIL_MAX,
              "description": "the new address"},
}))
define("EmailChangePending", obj({
    "pending_email": {"type": "string", "format": "email",
                      "description": "the address waiting for its confirmation"},
}))
define("EmailChangeConfirmRequest", obj({
    "token": {"type": "string", "maxLength": 200,
              "description": "from the link /email/confirm/{token} mailed to the new address"},
}))

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/me": {
        "get": operation(
            "getMe", "The calling account, with its e-mail address and profile", "accounts",
            auth=True, responses={"200": ok("the account", "OwnAccount"),
                                  "403": "the account is pending or suspended"}),
        "patch": operation(
            "updateMe", "Change the caller's profile, language and notification e-mail",
            "accounts", auth=True, body="ProfileChangeRequest",
            description="A change others see is sent to other servers as Update(Person). "
                        "email_notifications and timezone set how notifications are "
                        "mailed (a bad value changes nothing: 422).",
            responses={"200": ok("the account as it is now", "OwnAccount"),
                       "403": "the account is pending or suspended",
                       "422": "a field is invalid or unknown (`validation_failed`, "
                              "`field`)"}),
    },
    "/api/v1/me/password": {"post": operation(
        "changePassword", "Change the password (needs the current one)", "accounts",
        auth=True, body="PasswordChangeRequest",
        description="Every other session and token of the account ends; this one stays.",
        responses={"204": {"description": "changed"},
                   "403": "the current password is wrong (`wrong_password`)",
                   "422": "the new password is refused by the password policy "
                          "(`validation_failed`, the message says what to choose)"})},
    "/api/v1/me/email": {"post": operation(
        "changeEmail", "Ask to change the e-mail address (needs the current password)",
        "accounts", auth=True, body="EmailChangeRequest",
        description="Mails a confirmation link to the new address and a notice to the old "
                    "one; the address changes when the link is confirmed.",
        responses={"202": ok("the mails are on their way", "EmailChangePending"),
                   "403": "the current password is wrong (`wrong_password`)",
                   "409": "another account has this address (`conflict`, `field`)",
                   "422": "not an e-mail address, or the current one "
                          "(`validation_failed`)"})},
    "/api/v1/auth/email-change/confirm": {"post": operation(
        "confirmEmailChange", "Confirm a new e-mail address with the token from the mail",
        "accounts", body="EmailChangeConfirmRequest",
        responses={"204": {"description": "the new address is the account's, confirmed"},
                   "400": "the token is unknown, used or expired (`invalid_token`)",
                   "409": "another account took the address meanwhile (`conflict`)",
                   "422": "the token is missing"})},
    "/api/v1/me/sessions": {"delete": operation(
        "logOutEverywhere", "Log out everywhere: end every web session and API token of "
        "the caller, this one too", "auth", auth=True,
        description="GET /api/v1/auth/tokens lists them (kind `session` or `api`).",
        responses={"204": {"description": "all ended"}})},
}
