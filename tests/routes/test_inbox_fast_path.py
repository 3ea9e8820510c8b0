"""The inbox's one-statement path (fedi/routes/inbox.py): an activity signed with a key
this process verified before costs one database statement, decisions stay fresh (a
domain blocked by an admin, a key changed in the actors table), and the workers are woken
once per batch of rows, not once per row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from activitypub.keys import generate_rsa_keypair
from fedi.core.context import Context
from fedi.routes.inbox import _Waker
from storage import inbox as inbox_store
from storage import moderation
from storage.db import connect, create_pool
from tests.support.inbound_fixtures import Fed, fed, mastodon_create, peer

__all__ = ["fed", "peer"]  # fixtures


async def _statements(fed: Fed, action: Callable[[], Awaitable[Any]]) -> list[str]:
    """Every statement the app's pool connections send while ``action`` runs (and the
    batched wake-up after it), in order."""
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    # The pool's live connections (the requests here run one at a time: one is enough,
    # and an idle one is there before the action starts).
    async with fed.ctx.pool.acquire():
        pass
    connections = [holder._con for holder in fed.ctx.pool._holders
                   if holder._con is not None]
    for conn in connections:
        conn.add_query_logger(log)
    try:
        await action()
        await asyncio.sleep(0.2)  # the waker's notification, sent after the answer
    finally:
        for conn in connections:
            conn.remove_query_logger(log)
    return sent


async def test_an_activity_from_a_known_key_costs_one_statement(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    first = await _statements(fed, lambda: fed.send(alice, mastodon_create(alice, fed.group)))
    # First contact in this process: the preflight, the key fetched (stored by the
    # fetch), then the insert.
    assert any("INSERT INTO inbox_activities" in q for q in first)
    # Now the key is known: preflight + insert, and the process keeps the key.
    second = await _statements(fed, lambda: fed.send(alice, mastodon_create(alice, fed.group)))
    assert [q for q in second if "pg_notify" not in q] != []
    create = mastodon_create(alice, fed.group)
    third = await _statements(fed, lambda: fed.send(alice, create))
    # One statement decides and stores; one notification wakes the workers (batched:
    # one for all the rows stored while it was being sent). No reset round trip.
    work = [q for q in third if "pg_notify" not in q]
    assert len(work) == 1, third
    assert "INSERT INTO inbox_activities" in work[0]
    assert len(third) - len(work) == 1
    assert not any("RESET ALL" in q or "UNLISTEN" in q for q in first + second + third)
    assert (await fed.row(create["id"])).payload == create


async def test_a_block_added_by_an_admin_is_honoured_by_the_next_request(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    for _ in range(2):  # the second one takes the one-statement path
        await fed.send(alice, mastodon_create(alice, fed.group))
    async with fed.ctx.pool.acquire() as conn:
        await moderation.block_domain(conn, "127.0.0.1", reason="spam")
    before = await fed.counts()
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"])
    assert answer.status_code == 403
    assert answer.json()["error"] == "domain_blocked"
    assert await fed.counts() == before
    async with fed.ctx.pool.acquire() as conn:
        await moderation.unblock_domain(conn, "127.0.0.1")
    await fed.send(alice, mastodon_create(alice, fed.group))


async def test_a_key_changed_in_the_actors_table_is_not_trusted_from_memory(fed: Fed) -> None:
    """Another process fetched Alice's rotated key: the key this process verified with
    before no longer counts, although it still matches the signature."""
    alice = fed.remote(0, "alice")
    for _ in range(2):
        await fed.send(alice, mastodon_create(alice, fed.group))
    rotated = generate_rsa_keypair()
    alice["publicKey"]["publicKeyPem"] = rotated.public_pem
    async with fed.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE actors SET public_key_pem = $2 WHERE ap_id = $1",
                           alice["id"], rotated.public_pem)
    before = await fed.counts()
    old_key = mastodon_create(alice, fed.group)
    answer = await fed.post(old_key, alice["publicKey"]["id"])
    assert answer.status_code == 401
    assert answer.json()["message"] == "bad signature"
    assert await fed.counts() == before
    # The new key is verified, then remembered, then used.
    for _ in range(2):
        await fed.send(alice, mastodon_create(alice, fed.group), pem=rotated.private_pem)


async def test_a_personal_inbox_of_a_deleted_actor_is_404_on_the_fast_path(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    inbox = fed.server.url + "/groups/breitband/inbox"
    for _ in range(2):
        await fed.send(alice, mastodon_create(alice, fed.group), url=inbox)
    async with fed.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE actors SET deleted_at = now() WHERE ap_id = $1",
                           fed.group.ap_id)
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"],
                            url=inbox)
    assert answer.status_code == 404


async def _notifications(dsn: str) -> tuple[asyncpg.Connection, list[str]]:
    listener = await connect(dsn)
    heard: list[str] = []
    await listener.add_listener(inbox_store.CHANNEL, lambda *args: heard.append(args[2]))
    return listener, heard


async def _finished(waker: _Waker) -> None:
    task = waker._task
    assert task is not None
    await task


async def test_the_waker_sends_one_notification_for_many_rows(fed: Fed) -> None:
    dsn: str = fed.server.dsn  # type: ignore[attr-defined]
    listener, heard = await _notifications(dsn)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        waker = _Waker(Context(settings=fed.ctx.settings, pool=pool, http=fed.ctx.http))
        for _ in range(50):  # fifty rows stored in one turn of the loop
            waker.poke()
        await _finished(waker)
        await asyncio.sleep(0.2)
        assert len(heard) == 1

        # A row stored while the notification is on its way gets one more after it.
        heard.clear()
        held = await pool.acquire()  # the waker waits for a connection
        waker.poke()
        await asyncio.sleep(0.05)
        waker.poke()
        await pool.release(held)
        await _finished(waker)
        await asyncio.sleep(0.2)
        assert len(heard) == 2
    finally:
        await pool.close()
        await listener.close()


async def test_concurrent_activities_wake_the_workers_fewer_times_than_rows(fed: Fed) -> None:
    dsn: str = fed.server.dsn  # type: ignore[attr-defined]
    alice = fed.remote(0, "alice")
    for _ in range(2):
        await fed.send(alice, mastodon_create(alice, fed.group))
    listener, heard = await _notifications(dsn)
    try:
        creates = [mastodon_create(alice, fed.group) for _ in range(20)]
        await asyncio.gather(*(fed.send(alice, create) for create in creates))
        await asyncio.sleep(0.3)
        # (PostgreSQL folds equal notifications only within one transaction: each one
        # heard here is one pg_notify sent.)
        assert 1 <= len(heard) < len(creates)
        for create in creates:
            assert (await fed.row(create["id"])).state == "queued"
    finally:
        await listener.close()
