"""Fan-out: a local user posts a thread in a local group with N remote followers on M
distinct inboxes; how long until every inbox has the group's Announce.

The followers are stored as remote actors spread over M shared inboxes on H loopback
hosts (ports), their hosts known to run forum software (one embedded Announce per
inbox, FEP-1b12). The receivers (:mod:`tests.bench.receivers`) run in their own
process, verify each signature, answer 202 and count activity ids per inbox. The
instance runs in its own process as ``fedi serve`` runs it, its workers inside (the
default ``FEDI_WORKERS=4`` unless BENCH_FANOUT_WORKERS says otherwise). A round POSTs
the thread to the API and ends when the last inbox got the Announce: the time covers
the API call (post and M delivery rows in one transaction), the NOTIFY, and the
worker claiming, signing, sending and recording each delivery.

Baselines in the same run, with rounds alternating: the same number of signed POSTs
of the same Announce sent by :func:`activitypub.delivery.deliver` in a plain
``asyncio.gather`` in another process (an httpx client configured as the app's), once
as many at a time as the instance has workers, once all at once (httpx's pool of 100
connections is then the limit). Every round checks that each inbox got the activity
exactly once; at the end the deliveries table must say the same.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvloop

from activitypub.delivery import deliver
from activitypub.httpsig import SigningKey
from fedi.core.actors import signing_key
from fedi.core.config import Settings
from fedi.core.context import Context
from storage import actors as actor_store
from storage import follows as follow_store
from storage import instances as instance_store
from storage.db import create_pool
from tests.bench.receivers import serve_receivers
from tests.bench.support import (
    SPAWN,
    CpuMeter,
    free_port,
    median,
    postgres_pids,
    serve_instance,
    start_process,
    stop_process,
    wait_for_port,
)
from tests.support.databases import create_database
from tests.support.helpers import make_group, make_user

FOLLOWERS = int(os.environ.get("BENCH_FANOUT_FOLLOWERS", "2000"))  # N
INBOXES = int(os.environ.get("BENCH_FANOUT_INBOXES", "500"))  # M
HOSTS = int(os.environ.get("BENCH_FANOUT_HOSTS", "20"))  # H
WORKERS = int(os.environ.get("BENCH_FANOUT_WORKERS", "4"))
ROUNDS = int(os.environ.get("BENCH_FANOUT_ROUNDS", "3"))
WAIT_SECONDS = 120.0


@dataclass
class Round:
    seconds: float
    sender_cpu: float  # the instance process, or the process running deliver()
    db_cpu: float
    receiver_cpu: float
    api_seconds: float | None = None  # until the API answered 201 (queue rounds)

    @property
    def rate(self) -> float:
        return INBOXES / self.seconds


# -- the baseline's process: deliver() in asyncio.gather ------------------------------

_RAW: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None


def _raw_client(user_agent: str) -> tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]:
    # One loop and client for the process's life, as the app keeps its client: the
    # connections stay alive between rounds in both.
    global _RAW
    if _RAW is None:
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        client = httpx.AsyncClient(
            headers={"User-Agent": user_agent}, timeout=httpx.Timeout(10.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            follow_redirects=False,
        )
        _RAW = (loop, client)
    return _RAW


async def _gather(client: httpx.AsyncClient, activity: dict[str, Any], inboxes: list[str],
                  key: SigningKey, concurrency: int) -> tuple[float, Counter[str]]:
    limit = asyncio.Semaphore(concurrency)

    async def one(inbox: str) -> str:
        async with limit:
            result = await deliver(client, inbox, activity, key=key, allow_private=True)
            return result.outcome

    started = time.monotonic()
    outcomes = await asyncio.gather(*(one(inbox) for inbox in inboxes))
    return started, Counter(outcomes)


def raw_round(user_agent: str, activity: dict[str, Any], inboxes: list[str], key: SigningKey,
              concurrency: int) -> tuple[float, Counter[str]]:
    """(monotonic start, outcomes) of delivering ``activity`` to every inbox."""
    loop, client = _raw_client(user_agent)
    return loop.run_until_complete(_gather(client, activity, inboxes, key, concurrency))


# -- setup ----------------------------------------------------------------------------


def _ports(count: int, taken: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in taken:
            taken.add(port)
            ports.append(port)
    return ports


async def _setup(ctx: Context, hosts: list[int]) -> tuple[Any, Any, SigningKey, list[str]]:
    user = await make_user(ctx, "bench")
    group = await make_group(ctx)
    inboxes = [f"http://127.0.0.1:{hosts[k % len(hosts)]}/i{k}/inbox" for k in range(INBOXES)]
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        for port in hosts:
            await instance_store.save_software(conn, f"127.0.0.1:{port}", software="lemmy",
                                               version="0.19.5", fetched_at=now)
        for n in range(FOLLOWERS):
            inbox = inboxes[n % INBOXES]
            origin = inbox.split("/i", 1)[0]
            ap_id = f"{origin}/u/f{n}"
            follower = await actor_store.upsert_remote(conn, ap_id, {
                "type": "Person", "username": f"f{n}", "domain": origin.split("//")[1],
                "inbox": f"{ap_id}/inbox", "shared_inbox": inbox,
            })
            await follow_store.upsert(conn, follower_id=follower.id, target_id=group.id,
                                      ap_id=f"{ap_id}/follows/1", state="accepted")
        key = await signing_key(conn, group)
    return user, group, key, inboxes


# -- rounds ---------------------------------------------------------------------------


class Bench:
    def __init__(self, control: httpx.AsyncClient, stats_url: str, group_ap_id: str,
                 meters: tuple[CpuMeter, CpuMeter, CpuMeter]) -> None:
        self.control = control
        self.stats_url = stats_url
        self.group_ap_id = group_ap_id
        self.meters = meters
        self.problems: list[str] = []

    async def _wait(self, label: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            stats: dict[str, Any] = (await self.control.get(self.stats_url)).json()
            if stats["accepted"] >= INBOXES or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        activities = stats["activities"]
        announces = [a for a in activities.values()
                     if a["type"] == "Announce" and a["actor"] == self.group_ap_id]
        if (stats["accepted"] != INBOXES or stats["duplicates"] or stats["rejected"]
                or len(activities) != 1 or len(announces) != 1
                or announces[0]["inboxes"] != INBOXES):
            self.problems.append(
                f"{label}: {stats['accepted']} of {INBOXES} inboxes got it,"
                f" {stats['duplicates']} duplicates, {stats['rejected']} rejected,"
                f" activities {activities}")
        return stats

    async def _measured(self, label: str, send: Callable[[], Any]) -> tuple[Round, Any]:
        await self.control.post(self.stats_url.replace("_stats", "_reset"))
        sender, db, receivers = self.meters
        for meter in self.meters:
            meter.start()
        started, extra = await send()
        stats = await self._wait(label)
        result = Round(stats["last_at"] - started, sender.stop(), db.stop(), receivers.stop())
        return result, extra

    async def queue(self, api: str, token: str, n: int) -> Round:
        async def send() -> tuple[float, float]:
            started = time.monotonic()
            response = await self.control.post(
                api, headers={"Authorization": f"Bearer {token}"},
                json={"title": f"Glasfaser, Runde {n}", "content": "Wann geht es weiter?"})
            if response.status_code != 201:
                raise RuntimeError(f"posting the thread failed: {response.text}")
            return started, time.monotonic() - started

        result, api_seconds = await self._measured(f"queue round {n}", send)
        result.api_seconds = api_seconds
        return result

    async def raw(self, executor: ProcessPoolExecutor, user_agent: str,
                  announce: dict[str, Any], inboxes: list[str], key: SigningKey,
                  concurrency: int, n: int) -> Round:
        label = f"raw round {n} ({concurrency} at a time)"
        activity = {**announce, "id": f"{announce['id']}-raw-{uuid.uuid4().hex}"}

        async def send() -> tuple[float, None]:
            started, outcomes = await asyncio.wrap_future(executor.submit(
                raw_round, user_agent, activity, inboxes, key, concurrency))
            if outcomes != Counter({"delivered": len(inboxes)}):
                self.problems.append(f"{label}: outcomes {dict(outcomes)}")
            return started, None

        result, _ = await self._measured(label, send)
        return result


async def _last_announce(ctx: Context) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        payload: dict[str, Any] = await conn.fetchval(
            "SELECT payload FROM activities WHERE type = 'Announce' ORDER BY id DESC LIMIT 1")
        return payload


async def _delivery_states(ctx: Context) -> Counter[str]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT state, count(*) AS n FROM deliveries GROUP BY state")
    return Counter({r["state"]: int(r["n"]) for r in rows})


def _row(name: str, rounds: list[Round], with_db: bool) -> str:
    total = len(rounds) * INBOXES
    rate = median(r.rate for r in rounds)
    wall = median(r.seconds for r in rounds) * 1000
    sender = sum(r.sender_cpu for r in rounds) / total * 1000
    db = f"{sum(r.db_cpu for r in rounds) / total * 1000:8.3f}" if with_db else "       -"
    receivers = sum(r.receiver_cpu for r in rounds) / total * 1000
    return f"  {name:<40} {rate:8.0f} {wall:8.0f}  {sender:10.3f}  {db}  {receivers:9.3f}"


async def run(server_dsn: str, pgdata: Path | None) -> None:
    dsn = await create_database(server_dsn, f"demisa_bench_fanout_{os.getpid()}")
    taken: set[int] = set()
    (port,) = _ports(1, taken)
    hosts = _ports(HOSTS, taken)
    settings = Settings(base_url=f"http://127.0.0.1:{port}", database_url=dsn,
                        data_dir=Path("/nonexistent"), allow_private_addresses=True,
                        instance_name="Benchstadt", log_level="WARNING", workers=WORKERS,
                        demo=False)
    pool = await create_pool(dsn, min_size=1, max_size=4)
    http = httpx.AsyncClient()
    ctx = Context(settings=settings, pool=pool, http=http)
    try:
        started = time.perf_counter()
        user, group, key, inboxes = await _setup(ctx, hosts)
        setup_s = time.perf_counter() - started
        receivers = start_process(serve_receivers, hosts,
                                  {group.public_key_id: group.public_key_pem})
        instance = start_process(serve_instance, settings, dsn, True)
        queue_rounds: list[Round] = []
        same: list[Round] = []
        burst: list[Round] = []
        try:
            for p in hosts:
                wait_for_port(p, receivers)
            wait_for_port(port, instance)
            db = CpuMeter(postgres_pids(pgdata))
            receiver_cpu = CpuMeter(lambda: [receivers.pid or 0])
            api = f"{settings.base_url}/api/v1/groups/{group.username}/threads"
            user_agent = f"dEMiSA-bench (+{settings.base_url})"
            stats_url = f"http://127.0.0.1:{hosts[0]}/_stats"
            async with httpx.AsyncClient(timeout=60) as control:
                queue_bench = Bench(control, stats_url, group.ap_id,
                                    (CpuMeter(lambda: [instance.pid or 0]), db, receiver_cpu))
                with ProcessPoolExecutor(1, mp_context=SPAWN) as executor:
                    raw_pid = executor.submit(os.getpid).result()
                    raw_bench = Bench(control, stats_url, group.ap_id,
                                      (CpuMeter(lambda: [raw_pid]), db, receiver_cpu))
                    raw_bench.problems = queue_bench.problems
                    # Warm-up: connections opened, keys cached, code paths run once.
                    await queue_bench.queue(api, user.token, 0)
                    announce = await _last_announce(ctx)
                    for concurrency in (WORKERS, INBOXES):
                        await raw_bench.raw(executor, user_agent, announce, inboxes, key,
                                            concurrency, 0)
                    for n in range(1, ROUNDS + 1):  # alternating, so noise hits all three
                        same.append(await raw_bench.raw(executor, user_agent, announce,
                                                        inboxes, key, WORKERS, n))
                        burst.append(await raw_bench.raw(executor, user_agent, announce,
                                                         inboxes, key, INBOXES, n))
                        queue_rounds.append(await queue_bench.queue(api, user.token, n))
                await control.post(f"http://127.0.0.1:{hosts[0]}/_stop")
        finally:
            stop_process(instance)
            stop_process(receivers)
        states = await _delivery_states(ctx)
    finally:
        await http.aclose()
        await pool.close()

    print(f"== fan-out: a thread in a local group with {FOLLOWERS} remote followers on"
          f" {INBOXES} inboxes ({HOSTS} hosts) ==")
    print(f"setup: {FOLLOWERS} followers stored in {setup_s:.1f} s; median of {ROUNDS} rounds"
          " after 1 warm-up; time from sending until the last inbox has the Announce;"
          " CPU ms per delivery from /proc")
    print(f"  {'':<40} {'deliv/s':>8} {'wall ms':>8}  {'sender CPU':>10}  {'PG CPU':>8}"
          f"  {'recv CPU':>9}")
    print(_row(f"deliver() in gather, {WORKERS} at a time", same, False))
    print(_row("deliver() in gather, all at once", burst, False))
    print(_row(f"queue, {WORKERS} workers in the instance", queue_rounds, pgdata is not None))
    api_ms = median(r.api_seconds or 0.0 for r in queue_rounds) * 1000
    queue_rate = median(r.rate for r in queue_rounds)
    print(f"  (the API's 201 for the thread, with its {INBOXES} delivery rows queued, came"
          f" after {api_ms:.0f} ms)")
    print(f"ratio: queue = {queue_rate / median(r.rate for r in same):.2f} x deliver() at"
          f" the same concurrency = {queue_rate / median(r.rate for r in burst):.2f} x"
          " deliver() all at once")
    expected = (ROUNDS + 1) * INBOXES
    ok = not queue_bench.problems and states == Counter({"delivered": expected})
    print(f"check: every round each of {INBOXES} inboxes got the Announce exactly once;"
          f" deliveries table {dict(states)} of {expected} {'OK' if ok else 'MISMATCH'}")
    for problem in queue_bench.problems:
        print(f"  problem: {problem}")
