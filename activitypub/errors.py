"""Exceptions of the protocol package: one tree, rooted in ``ProtocolError``.

::

    ProtocolError(Exception)
    ├── InvalidObject          a document is not valid ActivityStreams (reason in .reason)
    ├── SignatureError         an HTTP signature is missing or wrong (reason in .reason)
    ├── WebFingerError         a handle could not be resolved
    └── FetchError             a remote document could not be fetched safely
        ├── UnsafeAddress      the host resolves to a private/loopback/... address
        ├── FetchTimeout       no answer in time, or the connection failed
        ├── FetchStatusError   the server answered with a non-2xx status (.status)
        ├── FetchTooLarge      the body exceeds the size limit
        ├── TooManyRedirects   more redirects than allowed
        ├── NotActivityPub     the content type is not an ActivityPub one
        └── OriginMismatch     the returned ``id`` does not match the requested URL

Every exception carries a ``reason`` a person can read; the application maps
these to HTTP answers in one place.
"""

from __future__ import annotations

__all__ = [
    "FetchError",
    "FetchStatusError",
    "FetchTimeout",
    "FetchTooLarge",
    "InvalidObject",
    "NotActivityPub",
    "OriginMismatch",
    "ProtocolError",
    "SignatureError",
    "TooManyRedirects",
    "UnsafeAddress",
    "WebFingerError",
]


class ProtocolError(Exception):
    """Base of every error raised by :mod:`activitypub`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidObject(ProtocolError):
    """An ActivityStreams document is malformed."""


class SignatureError(ProtocolError):
    """An HTTP signature could not be verified."""


class WebFingerError(ProtocolError):
    """A WebFinger lookup failed."""


class FetchError(ProtocolError):
    """A remote document could not be fetched."""


class UnsafeAddress(FetchError):
    """The target resolves to an address we must not contact."""


class FetchTimeout(FetchError):
    """The remote server did not answer in time or could not be reached."""


class FetchStatusError(FetchError):
    """The remote server answered with an error status."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class FetchTooLarge(FetchError):
    """The response body is larger than allowed."""


class TooManyRedirects(FetchError):
    """The server redirected more often than allowed."""


class NotActivityPub(FetchError):
    """The response is not an ActivityPub document."""


class OriginMismatch(FetchError):
    """The document's id does not belong where it was fetched from."""
