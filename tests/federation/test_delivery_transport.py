"""The delivery queue through the aiohttp transport, as ``fedi serve`` and ``fedi worker``
run it: the same outcomes as through httpx (test_delivery_queue.py runs those), the
double-knock remembered per host, and a connection kept per host across activities."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from activitypub.transport import DeliveryTransport
from fedi.core.actors import create_local_actor
from fedi.core.context import Context
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.runtime import DELIVERY_PER_HOST, user_agent
from fedi.federation.delivery_queue import PER_HOST
from fedi.worker import run_once
from storage import deliveries as delivery_store
from storage import instances as instance_store
from storage.actors import Actor
from tests.conftest import LiveServer, free_port, make_settings
from tests.support.receivers import Receiver

Start = Callable[[Callable[[int], Starlette]], Awaitable[LiveServer]]


@pytest.fixture
async def ctx(pool: asyncpg.Pool) -> AsyncIterator[Context]:
    settings = make_settings(free_port())
    transport = DeliveryTransport(user_agent=user_agent(settings),
                                  allow_private=settings.allow_private_addresses,
                                  per_host=DELIVERY_PER_HOST)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            yield Context(settings=settings, pool=pool, http=http, transport=transport)
    finally:
        await transport.aclose()


@pytest.fixture
async def sender(ctx: Context) -> Actor:
    async with ctx.pool.acquire() as conn:
        return await create_local_actor(conn, ctx, type_="Group", username="verkehr",
                                        name="Verkehr")


async def enqueue(ctx: Context, actor: Actor, inboxes: list[str]) -> tuple[str, int]:
    activity: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams", "id": new_activity_id(ctx),
        "type": "Announce", "actor": actor.ap_id,
        "object": f"{ctx.settings.base_url}/posts/1",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    async with ctx.pool.acquire() as conn, conn.transaction():
        row_id = await enqueue_activity(conn, ctx, actor=actor, activity=activity,
                                        inboxes=inboxes)
    return activity["id"], row_id


def test_the_transport_bounds_a_host_as_the_queue_does() -> None:
    assert DELIVERY_PER_HOST == PER_HOST


async def test_deliveries_reuse_one_connection_per_host(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    assert sender.public_key_id and sender.public_key_pem
    receiver = Receiver({sender.public_key_id: sender.public_key_pem})
    url = (await live_server(receiver.serve)).url
    transport = ctx.transport
    assert transport is not None
    for n in range(1, 4):
        activity_id, row_id = await enqueue(ctx, sender, [f"{url}/inbox"])
        assert await run_once(ctx) == 1
        async with ctx.pool.acquire() as conn:
            (row,) = await delivery_store.for_activity(conn, row_id)
        assert (row.state, row.last_status) == ("delivered", 202)
        assert receiver.count(activity_id) == 1
        assert transport.connections_opened == 1, f"activity {n} opened a new connection"


async def test_double_knock_is_remembered_for_the_host(
    ctx: Context, sender: Actor, live_server: Start
) -> None:
    assert sender.public_key_id and sender.public_key_pem
    receiver = Receiver({sender.public_key_id: sender.public_key_pem}, reject_cavage=True)
    url = (await live_server(receiver.serve)).url
    await enqueue(ctx, sender, [f"{url}/inbox"])
    assert await run_once(ctx) == 1
    assert [scheme for scheme, _ in receiver.answers] == ["cavage", "rfc9421"]
    async with ctx.pool.acquire() as conn:
        instance = await instance_store.get(conn, url.removeprefix("http://"))
    assert instance is not None and instance.signature_scheme == "rfc9421"
    await enqueue(ctx, sender, [f"{url}/inbox"])
    assert await run_once(ctx) == 1
    assert [scheme for scheme, _ in receiver.answers][2:] == ["rfc9421"]
