"""Application errors with an HTTP status, a stable code and a message for people.

Routes raise these (or let protocol errors through); one handler maps them to
``{"error": code, "message": text}`` so no error ends as a 500 with a stack trace.
"""

from __future__ import annotations


class AppError(Exception):
    status = 400
    code = "bad_request"
    # The policy decision behind a 403/410 (fedi.forum.policy.Refusal), when there is one:
    # pages show its translated text instead of matching the English message.
    refusal: object | None = None

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, str]:
        body = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Gone(AppError):
    status = 410
    code = "gone"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"


class BadGateway(AppError):
    """A remote server we depend on failed (fetch, WebFinger)."""

    status = 502
    code = "remote_error"
