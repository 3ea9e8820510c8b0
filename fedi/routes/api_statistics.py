"""``GET /api/v1/statistics``: the instance's statistics as JSON (fedi/forum/statistics.py;
the same counts as the page /statistik and NodeInfo). Public, like the page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi.core.context import Context
from fedi.forum import statistics
from fedi.routes.api_statistics_spec import OPENAPI_PATHS as OPENAPI_PATHS  # the spec


def statistics_view(ctx: Context, counts: statistics.Statistics) -> dict[str, Any]:
    def numbers(row: Any) -> dict[str, int]:
        return dict(zip(statistics.COUNT_COLUMNS, counts.counts(row), strict=True))

    return {
        "generated_at": counts.generated_at.isoformat(),
        "accounts": {"total": counts.accounts, "active_month": counts.active_month,
                     "active_halfyear": counts.active_halfyear},
        "local_posts": counts.local_posts,
        "totals": numbers(counts.totals),
        "groups": [{"name": g.username, "title": g.name or g.username,
                    "url": ctx.url(f"/groups/{g.username}"), **numbers(g)}
                   for g in counts.groups],
    }


async def get_statistics(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    async with ctx.pool.acquire() as conn:
        counts = await statistics.collect(conn, datetime.now(UTC))
    return JSONResponse(statistics_view(ctx, counts))


routes = [Route("/api/v1/statistics", get_statistics, methods=["GET"])]
