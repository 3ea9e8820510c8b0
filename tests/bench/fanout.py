"""Fan-out to 1,000 distinct hosts: a local user posts a thread in a local group whose
followers live on H hosts (``127.0.x.y``, one inbox each, all on one port: the receivers
listen on 0.0.0.0, so every address is a host of its own to the sender, with its own
connections); how long until every host has the group's Announce, and what it costs.

Ours: the instance in its own process as ``fedi serve`` runs it, its workers inside at the
default concurrency (``FEDI_WORKERS``; BENCH_FANOUT_WORKERS overrides it, for measuring
the default). A round POSTs the thread to the API and ends when the last host got the
Announce: the time covers the API call (the post and H delivery rows in one
transaction), the NOTIFY, and the workers claiming, signing, sending (through
:class:`activitypub.transport.DeliveryTransport`) and recording each delivery.

The baseline is a lean sender in a process of its own: an aiohttp session kept for the
process's life, each POST signed with the same function (draft-cavage, a fresh Date and
Digest), as many in flight as the instance has workers, at most 4 per host. Rounds
alternate (lean, ours, lean, ours ...) after one warm-up of each; medians are reported.
CPU per delivery is read from /proc: the sending process plus PostgreSQL's backends
(which the lean sender does not use: that is the point of the comparison).

The receivers (:mod:`tests.bench.receivers`) verify every signature and count new TCP
connections: the posts after the first must open none (connections are kept per host).
Every round checks that each host got the Announce exactly once; at the end the
deliveries table must say the same.
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

from activitypub.httpsig import SigningKey, sign_cavage
from fedi.core.actors import signing_key
from fedi.core.config import DEFAULT_WORKERS, Settings
from fedi.core.context import Context
from storage import actors as actor_store
from storage import follows as follow_store
from storage import instances as instance_store
from storage.db import create_pool
from tests.bench.receivers import raise_open_files, serve_receivers
from tests.bench.support import (
    SPAWN,
    CpuMeter,
    Goal,
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

HOSTS = int(os.environ.get("BENCH_FANOUT_HOSTS", "1000"))
WORKERS = int(os.environ.get("BENCH_FANOUT_WORKERS", str(DEFAULT_WORKERS)))
ROUNDS = int(os.environ.get("BENCH_FANOUT_ROUNDS", "3"))
PER_HOST = 4  # as the delivery queue's PER_HOST
WAIT_SECONDS = 120.0
# Milliseconds each receiver waits before answering (a network's round trip; 0: loopback).
LATENCY_MS = float(os.environ.get("BENCH_FANOUT_LATENCY_MS", "0"))
# A file name: the instance runs under cProfile and writes its stats there when it stops.
PROFILE = os.environ.get("BENCH_FANOUT_PROFILE", "")


@dataclass
class Round:
    seconds: float
    sender_cpu: float  # the instance process, or the lean sender's
    db_cpu: float
    receiver_cpu: float
    connections: int  # new TCP connections the receivers saw

    @property
    def rate(self) -> float:
        return HOSTS / self.seconds

    @property
    def cpu_ms(self) -> float:
        return (self.sender_cpu + self.db_cpu) / HOSTS * 1000


# -- the lean sender's process: aiohttp, signed POSTs, bounded concurrency -----------------

_LEAN: tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession] | None = None


def _lean_session(user_agent: str) -> tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]:
    # One loop and session for the process's life, as the instance keeps its transport.
    global _LEAN
    if _LEAN is None:
        raise_open_files()
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)

        async def make() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=1000, limit_per_host=PER_HOST,
                                             keepalive_timeout=60)
            return aiohttp.ClientSession(connector=connector,
                                         headers={"User-Agent": user_agent})

        _LEAN = (loop, loop.run_until_complete(make()))
    return _LEAN


async def _lean_send(session: aiohttp.ClientSession, body: bytes, inboxes: list[str],
                     key: SigningKey, concurrency: int) -> tuple[float, Counter[int]]:
    limit = asyncio.Semaphore(concurrency)

    async def one(inbox: str) -> int:
        async with limit:
            headers = {"Content-Type": "application/activity+json"}
            headers.update(sign_cavage("POST", inbox, headers, body, key, datetime.now(UTC)))
            async with session.post(inbox, data=body, headers=headers,
                                    allow_redirects=False) as response:
                await response.read()
                return response.status

    started = time.monotonic()
    statuses = await asyncio.gather(*(one(inbox) for inbox in inboxes))
    return started, Counter(statuses)


def lean_close() -> None:
    global _LEAN
    if _LEAN is not None:
        loop, session = _LEAN
        loop.run_until_complete(session.close())
        _LEAN = None


def lean_round(user_agent: str, body: bytes, inboxes: list[str], key: SigningKey,
               concurrency: int) -> tuple[float, Counter[int]]:
    """(monotonic start, statuses) of POSTing ``body`` to every inbox."""
    loop, session = _lean_session(user_agent)
    return loop.run_until_complete(_lean_send(session, body, inboxes, key, concurrency))


def profiled_instance(settings: Settings, dsn: str, path: str) -> None:
    """The instance under cProfile (BENCH_FANOUT_PROFILE), to see where its CPU goes."""
    # uvicorn raises the SIGTERM it caught again once it has shut down: end by SystemExit
    # then, so that the stats are written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profile = cProfile.Profile()
    profile.enable()
    try:
        serve_instance(settings, dsn, True)
    finally:
        profile.disable()
        profile.dump_stats(path)


# -- setup ----------------------------------------------------------------------------


def host_addresses(count: int) -> list[str]:
    """``count`` distinct loopback addresses: 127.0.1.1, 127.0.1.2, ... (never .0/.255)."""
    return [f"127.0.{1 + n // 250}.{1 + n % 250}" for n in range(count)]


async def _setup(ctx: Context, port: int) -> tuple[Any, Any, SigningKey, list[str]]:
    user = await make_user(ctx, "bench")
    group = await make_group(ctx)
    origins = [f"http://{address}:{port}" for address in host_addresses(HOSTS)]
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        for n, origin in enumerate(origins):
            domain = origin.split("//", 1)[1]
            # Forum software: one Announce with the activity embedded per inbox (FEP-1b12).
            await instance_store.save_software(conn, domain, software="lemmy",
                                               version="0.19.5", fetched_at=now)
            follower = await actor_store.upsert_remote(conn, f"{origin}/u/f{n}", {
                "type": "Person", "username": f"f{n}", "domain": domain,
                "inbox": f"{origin}/u/f{n}/inbox", "shared_inbox": f"{origin}/inbox",
            })
            await follow_store.upsert(conn, follower_id=follower.id, target_id=group.id,
                                      ap_id=f"{origin}/u/f{n}/follows/1", state="accepted")
        key = await signing_key(conn, group)
    return user, group, key, [f"{origin}/inbox" for origin in origins]


# -- rounds ---------------------------------------------------------------------------


class Bench:
    def __init__(self, control: httpx.AsyncClient, control_url: str, group_ap_id: str,
                 db: CpuMeter, receivers: CpuMeter) -> None:
        self.control = control
        self.control_url = control_url
        self.group_ap_id = group_ap_id
        self.db = db
        self.receivers = receivers
        self.problems: list[str] = []

    async def _wait(self, label: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            stats: dict[str, Any] = (await self.control.get(f"{self.control_url}/_stats")).json()
            if stats["accepted"] >= HOSTS or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        activities = stats["activities"]
        announces = [a for a in activities.values()
                     if a["type"] == "Announce" and a["actor"] == self.group_ap_id]
        if (stats["accepted"] != HOSTS or stats["duplicates"] or stats["rejected"]
                or len(activities) != 1 or len(announces) != 1
                or announces[0]["inboxes"] != HOSTS):
            self.problems.append(
                f"{label}: {stats['accepted']} of {HOSTS} hosts got it,"
                f" {stats['duplicates']} duplicates, {stats['rejected']} rejected,"
                f" {len(activities)} activities")
        return stats

    async def measured(self, label: str, sender: CpuMeter,
                       send: Callable[[], Awaitable[float]]) -> Round:
        await self.control.post(f"{self.control_url}/_reset")
        meters = (sender, self.db, self.receivers)
        for meter in meters:
            meter.start()
        started = await send()
        stats = await self._wait(label)
        return Round(stats["last_at"] - started, sender.stop(), self.db.stop(),
                     self.receivers.stop(), stats["connections"])


async def _last_announce(ctx: Context) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        payload: dict[str, Any] = await conn.fetchval(
            "SELECT payload FROM activities WHERE type = 'Announce' ORDER BY id DESC LIMIT 1")
        return payload


async def _delivery_states(ctx: Context) -> Counter[str]:
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT state, count(*) AS n FROM deliveries GROUP BY state")
    return Counter({r["state"]: int(r["n"]) for r in rows})


def _row(name: str, rounds: list[Round]) -> str:
    total = len(rounds) * HOSTS
    sender = sum(r.sender_cpu for r in rounds) / total * 1000
    db = sum(r.db_cpu for r in rounds) / total * 1000
    receivers = sum(r.receiver_cpu for r in rounds) / total * 1000
    connections = ",".join(str(r.connections) for r in rounds)
    return (f"  {name:<36} {median(r.rate for r in rounds):8.0f}"
            f" {median(r.seconds for r in rounds) * 1000:8.0f}  {sender:10.3f}  {db:8.3f}"
            f"  {receivers:9.3f}  {connections}")


def _encode(activity: dict[str, Any]) -> bytes:
    return json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode()


async def run(server_dsn: str, pgdata: Path | None) -> list[Goal]:
    raise_open_files()
    dsn = await create_database(server_dsn, f"demisa_bench_fanout_{os.getpid()}")
    port, receiver_port = free_port(), free_port()
    settings = Settings(base_url=f"http://127.0.0.1:{port}", database_url=dsn,
                        data_dir=Path("/nonexistent"), allow_private_addresses=True,
                        instance_name="Benchstadt", log_level="WARNING", workers=WORKERS,
                        demo=False)
    pool = await create_pool(dsn, min_size=1, max_size=4)
    http = httpx.AsyncClient()
    ctx = Context(settings=settings, pool=pool, http=http)
    ours: list[Round] = []
    lean: list[Round] = []
    warm: list[Round] = []
    api_seconds: list[float] = []  # until the API's 201 (the post and its delivery rows)
    try:
        started = time.perf_counter()
        user, group, key, inboxes = await _setup(ctx, receiver_port)
        setup_s = time.perf_counter() - started
        receivers = start_process(serve_receivers, receiver_port,
                                  {group.public_key_id: group.public_key_pem},
                                  LATENCY_MS / 1000)
        instance = (start_process(profiled_instance, settings, dsn, PROFILE) if PROFILE
                    else start_process(serve_instance, settings, dsn, True))
        try:
            wait_for_port(receiver_port, receivers)
            wait_for_port(port, instance)
            bench = Bench(httpx.AsyncClient(timeout=60), f"http://127.0.0.1:{receiver_port}",
                          group.ap_id, CpuMeter(postgres_pids(pgdata)),
                          CpuMeter(lambda: [receivers.pid or 0]))
            api = f"{settings.base_url}/api/v1/groups/{group.username}/threads"
            instance_cpu = CpuMeter(lambda: [instance.pid or 0])
            user_agent = f"dEMiSA-bench (+{settings.base_url})"

            async def post_thread(n: int) -> float:
                started = time.monotonic()
                response = await bench.control.post(
                    api, headers={"Authorization": f"Bearer {user.token}"},
                    json={"title": f"Glasfaser, Runde {n}", "content": "Wann geht es weiter?"})
                if response.status_code != 201:
                    raise RuntimeError(f"posting the thread failed: {response.text}")
                api_seconds.append(time.monotonic() - started)
                return started

            with ProcessPoolExecutor(1, mp_context=SPAWN) as executor:
                lean_pid = executor.submit(os.getpid).result()
                lean_cpu = CpuMeter(lambda: [lean_pid])

                async def lean_post(announce: dict[str, Any]) -> float:
                    body = _encode({**announce, "id": f"{announce['id']}-{uuid.uuid4().hex}"})
                    started, statuses = await asyncio.wrap_future(executor.submit(
                        lean_round, user_agent, body, inboxes, key, WORKERS))
                    if statuses != Counter({202: HOSTS}):
                        bench.problems.append(f"lean sender: statuses {dict(statuses)}")
                    return started

                # Warm-up: the first post opens a connection per host, keys are cached.
                warm.append(await bench.measured("first post", instance_cpu,
                                                 lambda: post_thread(0)))
                announce = await _last_announce(ctx)
                await bench.measured("lean warm-up", lean_cpu, lambda: lean_post(announce))
                for n in range(1, ROUNDS + 1):  # alternating, so noise hits both
                    lean.append(await bench.measured(f"lean round {n}", lean_cpu,
                                                     lambda: lean_post(announce)))
                    ours.append(await bench.measured(
                        f"queue round {n}", instance_cpu, functools.partial(post_thread, n)))
                executor.submit(lean_close).result()
            await bench.control.post(f"{bench.control_url}/_stop")
            await bench.control.aclose()
        finally:
            stop_process(instance)
            stop_process(receivers)
        states = await _delivery_states(ctx)
    finally:
        await http.aclose()
        await pool.close()

    print(f"== fan-out: a thread in a local group with followers on {HOSTS} distinct hosts"
          f" (127.0.x.y), {WORKERS} deliveries at a time"
          f"{f', receivers answering after {LATENCY_MS:g} ms' if LATENCY_MS else ''} ==")
    print(f"setup: {HOSTS} followers stored in {setup_s:.1f} s; median of {ROUNDS} rounds"
          " after a warm-up each; time from sending until the last host has the Announce;"
          " CPU ms per delivery from /proc; new TCP connections seen by the receivers")
    print(f"  {'':<36} {'deliv/s':>8} {'wall ms':>8}  {'sender CPU':>10}  {'PG CPU':>8}"
          f"  {'recv CPU':>9}  new connections per round")
    print(_row("first post (opens connections)", warm))
    print(_row(f"lean aiohttp sender, {WORKERS} at a time", lean))
    print(_row(f"ours: queue, {WORKERS} workers", ours))
    print(f"  (the API's 201 for the thread, with its {HOSTS} delivery rows queued, came after"
          f" {median(api_seconds[1:]) * 1000:.0f} ms of ours' wall time)")
    ours_rate, lean_rate = median(r.rate for r in ours), median(r.rate for r in lean)
    ours_cpu, lean_cpu_ms = median(r.cpu_ms for r in ours), median(r.cpu_ms for r in lean)
    print(f"ratio: {ours_rate / lean_rate:.2f} x the lean sender's deliveries/s;"
          f" CPU (Python + PostgreSQL) {ours_cpu:.3f} vs {lean_cpu_ms:.3f} ms per delivery"
          f" = {ours_cpu / lean_cpu_ms:.2f} x; load average {os.getloadavg()[0]:.2f}")
    expected = (ROUNDS + 1) * HOSTS
    ok = not bench.problems and states == Counter({"delivered": expected})
    print(f"check: every round each of {HOSTS} hosts got the Announce exactly once;"
          f" deliveries table {dict(states)} of {expected} {'OK' if ok else 'MISMATCH'}")
    for problem in bench.problems:
        print(f"  problem: {problem}")
    new_connections = max(r.connections for r in ours)
    return [
        Goal("fan-out to 1,000 hosts, deliveries/s", ours_rate, lean_rate, "deliveries/s",
             0.6, why="the instance's CPU per delivery beyond the lean sender's (claiming and"
             " recording each delivery, the API's post) on 2 shared cores"),
        Goal("fan-out CPU per delivery (Python + PostgreSQL)", ours_cpu, lean_cpu_ms,
             "ms", 2.0, lower_is_better=True,
             why="claiming and recording each delivery (Python and PostgreSQL)"),
        Goal("fan-out, new connections for a later post to the same hosts",
             float(new_connections), 1.0, "connections", 0.0, lower_is_better=True,
             why="idle connections were not kept per host"),
    ]
