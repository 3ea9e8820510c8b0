"""OpenAPI paths of fedi/routes/api_accounts.py (sign-up, /me, tokens, registration mode)."""

from __future__ import annotations

from typing import Any

from fedi.routes.api_schemas import PAGE_PARAMETERS, ok, operation, path_param, shared

_NOT_ADMIN = "not an administrator (`forbidden`)"

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/accounts": {"post": operation(
        "signUp", "Sign up", "accounts", body="SignUpRequest",
        description="Creates an account and its Person actor. Under the `approval` "
                    "registration mode the account is `pending` until approved. "
                    "`accept_terms` must be true: it records that the person accepted the "
                    "current terms of use and privacy policy (`GET /api/v1/terms`).",
        responses={
            "201": ok("the new account", "Account"),
            "400": "`accept_terms` is not true (`terms_not_accepted`), or the body is "
                   "not a JSON object (`invalid_json`)",
            "403": "registrations are closed (`registrations_closed`)",
            "409": "username or e-mail address taken (`field` says which)",
            "422": "a field is invalid (`validation_failed`, `field`)",
            "429": shared("RateLimited"),
        })},
    # GET/PATCH /api/v1/me: api_me_spec.py.
    "/api/v1/auth/token": {
        "post": operation(
            "logIn", "Log in: exchange username and password for an API token", "auth",
            body="LogInRequest",
            responses={
                "200": ok("the token; it is shown only this once", "TokenCreated"),
                "401": "wrong username or password (`invalid_credentials`)",
                "403": "account pending approval, rejected or suspended",
                "422": "a field is missing or not a string",
                "429": shared("RateLimited"),
            }),
        "delete": operation(
            "logOut", "Log out: revoke the token this request uses", "auth", auth=True,
            responses={"204": {"description": "revoked"}}),
    },
    "/api/v1/auth/tokens": {"get": operation(
        "listTokens", "The caller's tokens (never the token values), newest first", "auth",
        auth=True, params=PAGE_PARAMETERS,
        responses={"200": ok("a page of tokens", "TokenPage"),
                   "422": "bad limit or cursor"})},
    "/api/v1/auth/tokens/{token_id}": {"delete": operation(
        "revokeToken", "Revoke one of the caller's tokens", "auth", auth=True,
        params=[path_param("token_id", integer=True)],
        responses={"204": {"description": "revoked"},
                   "404": "the caller has no token with this id"})},
    "/api/v1/admin/settings/registration": {
        "get": operation(
            "getRegistrationMode", "The registration mode", "admin", auth=True,
            responses={"200": ok("the mode", "RegistrationMode"), "403": _NOT_ADMIN}),
        "put": operation(
            "setRegistrationMode", "Set the registration mode: open, closed or approval",
            "admin", auth=True, body="RegistrationMode",
            responses={"200": ok("the new mode", "RegistrationMode"), "403": _NOT_ADMIN,
                       "422": "unknown mode"}),
    },
}
