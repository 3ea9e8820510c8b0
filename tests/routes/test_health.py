from __future__ import annotations

import asyncio

import httpx

from fedi.app import create_app
from tests.conftest import make_settings


async def test_healthz_ok(app_client: httpx.AsyncClient) -> None:
    r = await app_client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_healthz_503_when_database_is_gone(dsn: str) -> None:
    app = create_app(make_settings(), dsn, run_workers=False)
    async with app.router.lifespan_context(app):
        await app.state.ctx.pool.close()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"


async def test_unknown_route_is_json_404(app_client: httpx.AsyncClient) -> None:
    r = await app_client.get("/no/such/page")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


async def test_healthz_503_names_a_dead_worker_task(dsn: str) -> None:
    app = create_app(make_settings(workers=1), dsn, run_workers=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            healthy = await client.get("/healthz")
            assert healthy.status_code == 200, healthy.text
            # The worker's task ends for good (a cancellation is not restarted).
            tasks = [t for t in asyncio.all_tasks() if t.get_name() == "fedi-worker"]
            assert len(tasks) == 1
            tasks[0].cancel()
            await asyncio.sleep(0.05)
            r = await client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert "fedi-worker" in body["workers"] and "ended" in body["workers"]
