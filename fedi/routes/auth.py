"""Who is calling: the account behind ``Authorization: Bearer <token>``.

A request without the header is anonymous. A header that is present but wrong (another
scheme, an unknown, expired or revoked token) is a 401 even on public routes, so a client
learns at once that its token is dead instead of silently seeing the anonymous view.
"""

from __future__ import annotations

from starlette.requests import Request

from fedi.core.context import Context
from fedi.core.errors import Forbidden, Unauthorized
from fedi.forum.accounts import TokenMatch, login_error, resolve_token
from storage.accounts import Account, ApiToken

_STATE_KEY = "fedi_auth"
_UNSET = object()


async def _match(request: Request) -> TokenMatch | None:
    cached = getattr(request.state, _STATE_KEY, _UNSET)
    if cached is not _UNSET:
        assert cached is None or isinstance(cached, TokenMatch)
        return cached
    header = request.headers.get("authorization")
    match: TokenMatch | None = None
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Send the token as 'Authorization: Bearer <token>'.")
        ctx: Context = request.app.state.ctx
        async with ctx.pool.acquire() as conn:
            match = await resolve_token(conn, token)
        if match is None:
            raise Unauthorized("The access token is invalid, expired or revoked.")
        error = login_error(match.account)
        if error is not None:
            raise error
    setattr(request.state, _STATE_KEY, match)
    return match


async def current_account(request: Request) -> Account | None:
    """The calling account, or None for an anonymous request."""
    match = await _match(request)
    return match.account if match is not None else None


async def current_token(request: Request) -> ApiToken | None:
    """The token this request was made with, or None for an anonymous request."""
    match = await _match(request)
    return match.token if match is not None else None


async def require_account(request: Request) -> Account:
    """The calling account; 401 ``unauthorized`` when there is none."""
    account = await current_account(request)
    if account is None:
        raise Unauthorized(
            "This needs a logged-in account: send 'Authorization: Bearer <token>'."
        )
    return account


async def require_admin(request: Request) -> Account:
    """The calling account if it is an administrator; 401 anonymous, 403 for others."""
    account = await require_account(request)
    if not account.is_admin:
        raise Forbidden("Only administrators may do this.")
    return account
