"""Helpers shared by the JSON API routes: reading a JSON body, typed field getters and
cursor pagination. The OpenAPI document's parts are in fedi/routes/api_schemas.py."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request

from activitypub.jsontext import JsonTooDeep, parse_json
from fedi.core.errors import AppError, NotFound, PayloadTooLarge, ValidationFailed

T = TypeVar("T")

MAX_BODY = 1024 * 1024  # 1 MiB: far above any form or post, far below a memory problem


class InvalidJson(AppError):
    status = 400
    code = "invalid_json"


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {MAX_BODY // 1024} KiB")


async def read_json(request: Request, *, max_bytes: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object: 413 above ``max_bytes``, 400 ``invalid_json`` otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large()
    # Count while streaming: a missing or lying Content-Length must not let more in.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise InvalidJson("the request body must be a JSON object and is empty")
    try:
        value = parse_json(raw)
    except JsonTooDeep as exc:
        raise InvalidJson(str(exc)) from None
    except ValueError as exc:
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors.
        raise InvalidJson(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidJson(
            f"the request body must be a JSON object, got {type(value).__name__}"
        )
    return value


# --- typed field getters ------------------------------------------------------------------


def _check_text(value: str, name: str, *, strip: bool, max_len: int | None) -> str:
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL; catching it here avoids a 500 further down.
        raise ValidationFailed(f"{name} must not contain NUL characters", field=name)
    if strip:
        value = value.strip()
    if max_len is not None and len(value) > max_len:
        raise ValidationFailed(f"{name} must be at most {max_len} characters", field=name)
    return value


def require_str(
    body: Mapping[str, Any], name: str, *, max_len: int | None = None, strip: bool = True,
    allow_empty: bool = False,
) -> str:
    """A required string field (stripped unless ``strip=False``)."""
    value = body.get(name)
    if value is None:
        raise ValidationFailed(f"{name} is required", field=name)
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string", field=name)
    text = _check_text(value, name, strip=strip, max_len=max_len)
    if not text and not allow_empty:
        raise ValidationFailed(f"{name} must not be empty", field=name)
    return text


def optional_str(
    body: Mapping[str, Any], name: str, *, max_len: int | None = None, strip: bool = True,
    default: str | None = None,
) -> str | None:
    """A string field that may be missing or null (then ``default``)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string", field=name)
    return _check_text(value, name, strip=strip, max_len=max_len)


def optional_bool(
    body: Mapping[str, Any], name: str, *, default: bool | None = None,
) -> bool | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be true or false", field=name)
    return value


def optional_int(
    body: Mapping[str, Any], name: str, *, minimum: int | None = None,
    maximum: int | None = None, default: int | None = None,
) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    # bool is an int in Python, but true is not a number in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{name} must be a whole number", field=name)
    if minimum is not None and value < minimum:
        raise ValidationFailed(f"{name} must be at least {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise ValidationFailed(f"{name} must be at most {maximum}", field=name)
    return value


def path_int(request: Request, name: str) -> int:
    """A numeric path parameter; a non-number is a 404 (no such resource), not a 500."""
    raw = request.path_params.get(name)
    value = str(raw) if raw is not None else ""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFound(f"no such {name.removesuffix('_id')}")
    return int(value)


# --- cursor pagination --------------------------------------------------------------------
#
# A cursor is the sort key of the last item on a page, JSON in url-safe base64. Opaque to
# clients; decoding checks the shape so that a forged cursor is a 422, never a SQL error.


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
    """Decode a cursor whose key has one value of each of ``types`` (raises 422)."""
    bad = ValidationFailed("cursor is not a cursor this API handed out", field="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = parse_json(raw)
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(key, list) or len(key) != len(types):
        raise bad
    for value, kind in zip(key, types, strict=True):
        if isinstance(value, bool) or not isinstance(value, kind):
            raise bad
    return tuple(key)


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: tuple[Any, ...] | None  # sort key of the last item already seen


def page_request(
    request: Request, cursor_types: Sequence[type], *, default_limit: int = 20,
    max_limit: int = 100,
) -> PageRequest:
    """Read ``?limit=`` and ``?cursor=``. Query ``limit + 1`` rows and pass them to
    :func:`page_response`, which tells from the extra row whether there is a next page."""
    params = request.query_params
    raw_limit = params.get("limit")
    limit = default_limit
    if raw_limit is not None:
        ok = raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) < 10
        if not ok or not 1 <= int(raw_limit) <= max_limit:
            raise ValidationFailed(
                f"limit must be a whole number from 1 to {max_limit}", field="limit"
            )
        limit = int(raw_limit)
    cursor = params.get("cursor")
    after = decode_cursor(cursor, cursor_types) if cursor else None
    return PageRequest(limit=limit, after=after)


def page_response(
    rows: Sequence[T], page: PageRequest, *, key: Callable[[T], Sequence[Any]],
    render: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """``{"items": [...], "next": cursor | null}`` from up to ``limit + 1`` rows."""
    shown = rows[: page.limit]
    more = len(rows) > page.limit
    return {
        "items": [render(row) for row in shown],
        "next": encode_cursor(key(shown[-1])) if more and shown else None,
    }
