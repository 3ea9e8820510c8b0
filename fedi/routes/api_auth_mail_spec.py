"""OpenAPI paths and schemas of fedi/routes/api_auth_mail.py (confirming the e-mail
address, password reset, the confirmation setting)."""

from __future__ import annotations

from typing import Any

from fedi.forum.accounts import EMAIL_MAX, PASSWORD_MAX, PASSWORD_MIN
from fedi.forum.confirmation import CONFIRMATION_MODES
from fedi.routes.api_schemas import define, obj, ok, operation, shared

_TOKEN = {"type": "string", "maxLength": 200, "description": "the token from the mail's link"}
_NOT_ADMIN = "not an administrator (`forbidden`)"
_BAD_TOKEN = "the token is unknown, used already or expired (`invalid_token`)"  # noqa: S105

define("ConfirmEmailRequest", obj({"token": _TOKEN}))
define("PasswordResetRequest", obj({
    "email": {"type": "string", "maxLength": EMAIL_MAX,
              "description": "the account's e-mail address"}}))
define("PasswordResetConfirmRequest", obj({
    "token": _TOKEN,
    "password": {"type": "string", "minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX,
                 "description": "the new password (the password policy applies)"}}))
define("PasswordResetAccepted", obj({
    "message": {"type": "string",
                "description": "the same sentence whether or not an account has the address"}
}))
define("EmailConfirmationMode", obj({
    "mode": {"type": "string", "enum": list(CONFIRMATION_MODES),
             "description": "`required`: accounts from the public sign-up write only after "
                            "confirming their e-mail address; `off`: they may write at once"}
}))

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/auth/confirm": {"post": operation(
        "confirmEmail", "Confirm the e-mail address with the token from the mail", "auth",
        body="ConfirmEmailRequest",
        description="The sign-up mail links to `{base}/confirm/{token}`; this takes the "
                    "token. Tokens work once, for 48 hours.",
        responses={"204": {"description": "confirmed"}, "400": _BAD_TOKEN,
                   "422": "the token is missing or not a string"})},
    "/api/v1/auth/confirm/resend": {"post": operation(
        "resendConfirmation", "Send the confirmation mail again (ends older links)", "auth",
        auth=True,
        responses={"204": {"description": "the mail is on its way"},
                   "409": "the address is confirmed already (`already_confirmed`)",
                   "429": shared("RateLimited")})},
    "/api/v1/auth/password-reset": {"post": operation(
        "requestPasswordReset", "Ask for a mail with a link to set a new password", "auth",
        body="PasswordResetRequest",
        description="Answers 202 whether or not an account has the address. The mail "
                    "links to `{base}/reset/{token}`, valid for one hour, once.",
        responses={"202": ok("accepted; a mail goes out if an account has the address",
                             "PasswordResetAccepted"),
                   "422": "the address is missing or not a string",
                   "429": shared("RateLimited")})},
    "/api/v1/auth/password-reset/confirm": {"post": operation(
        "resetPassword", "Set a new password with the token from the mail", "auth",
        body="PasswordResetConfirmRequest",
        description="Every session and API token of the account ends.",
        responses={"204": {"description": "the new password is set"}, "400": _BAD_TOKEN,
                   "422": "the password policy refuses the password (`field`: password)"})},
    "/api/v1/admin/settings/email-confirmation": {
        "get": operation(
            "getEmailConfirmationMode", "Whether confirming the e-mail address is required",
            "admin", auth=True,
            responses={"200": ok("the mode", "EmailConfirmationMode"), "403": _NOT_ADMIN}),
        "put": operation(
            "setEmailConfirmationMode", "Require e-mail confirmation or turn it off",
            "admin", auth=True, body="EmailConfirmationMode",
            responses={"200": ok("the new mode", "EmailConfirmationMode"),
                       "403": _NOT_ADMIN, "422": "unknown mode"}),
    },
}
