"""Inbox ingestion: signed Create activities POSTed over loopback to a real instance,
against a minimal inbox doing the same work.

Remote senders with RSA-2048 keys are stored in a fresh database (their keys cached, as
after a first contact), then a dEMiSA instance runs in its own process as ``fedi serve``
runs it (one uvicorn process, uvloop and httptools when installed), with its workers
off so only the inbox itself is measured. Every request is signed before the clock
starts and carries a unique activity id.

The baseline (:func:`serve_minimal`) is the least a correct inbox does, with nothing
else: a Starlette route on the same uvicorn configuration that reads the body, checks
the Date and the SHA-256 Digest, verifies the draft-cavage RSA signature with
``cryptography`` against a key from an in-memory dict (loaded from the actors table at
start, as ours has the key cached), parses the JSON and inserts one row with asyncpg
(a table like ``inbox_activities``, indexes included; a pool that does not reset
connections: one round trip per activity), answering 202.

The load generator is another process: raw HTTP/1.1 over keep-alive connections (32,
as the issue's goal says), timing every request for the p99, so its CPU does not count
against the server. Rounds alternate (minimal, ours, minimal, ours ...), medians are
reported; CPU per request of the server process and of PostgreSQL (embedded server
only) from /proc.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import uvloop

from activitypub.httpsig import SigningKey, sign_cavage
from activitypub.keys import generate_rsa_keypair
from fedi.core.config import Settings
from storage import actors as actor_store
from storage.db import create_pool
from tests.bench.support import (
    SPAWN,
    CpuMeter,
    Goal,
    LoadResult,
    _read_response,
    free_port,
    http_request,
    median,
    postgres_pids,
    run_uvicorn,
    serve_instance,
    start_process,
    stop_process,
    wait_for_port,
)
from tests.support.databases import create_database

REQUESTS = int(os.environ.get("BENCH_INBOX_REQUESTS", "2000"))  # per round
ROUNDS = int(os.environ.get("BENCH_INBOX_ROUNDS", "3"))
WARMUP = 300
CONCURRENCY = int(os.environ.get("BENCH_INBOX_CONCURRENCY", "32"))
POOL_SIZE = 20  # as fedi serve's pool (fedi/app.py)
MINIMAL_TABLE = "bench_minimal_inbox"
SENDERS = 8  # remote actors, each with its own key, on their own hosts
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True)
class Sender:
    ap_id: str
    key: SigningKey
    public_pem: str


@dataclass
class TimedLoad(LoadResult):
    latencies: list[float] = field(default_factory=list)  # seconds, one per request

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


@dataclass
class Run:
    load: TimedLoad
    server_cpu: float
    db_cpu: float

    @property
    def rate(self) -> float:
        return self.load.statuses[202] / self.load.seconds


# -- the load generator with a clock per request (runs in its own process) -----------


async def _timed_load(port: int, requests: Sequence[bytes], concurrency: int) -> TimedLoad:
    pending = iter(requests)  # shared by the connections; next() never awaits
    connections = [await asyncio.open_connection("127.0.0.1", port)
                   for _ in range(min(concurrency, len(requests)))]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def drive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clock = time.perf_counter
        for request in pending:
            sent = clock()
            writer.write(request)
            statuses[await _read_response(reader)] += 1
            latencies.append(clock() - sent)

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(drive(r, w) for r, w in connections))
    result = TimedLoad(time.perf_counter() - started, time.process_time() - cpu, statuses,
                       latencies)
    for _, writer in connections:
        writer.close()
    return result


def run_timed_load(port: int, requests: Sequence[bytes], concurrency: int) -> TimedLoad:
    """support.run_load, timing each request from writing it to reading its answer."""
    return uvloop.run(_timed_load(port, requests, concurrency))


# -- the minimal inbox (the baseline) ------------------------------------------------

_SIGNATURE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def serve_minimal(dsn: str, port: int) -> None:
    """The baseline inbox: Date, Digest, RSA cavage signature, one insert, 202."""
    import asyncpg
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    keys: dict[str, rsa.RSAPublicKey] = {}
    state: dict[str, Any] = {}

    async def no_reset(conn: Any) -> None:
        return None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=POOL_SIZE, reset=no_reset)
        for row in await pool.fetch("SELECT public_key_id, public_key_pem FROM actors"
                                    " WHERE public_key_pem IS NOT NULL"):
            key = serialization.load_pem_public_key(row["public_key_pem"].encode())
            assert isinstance(key, rsa.RSAPublicKey)
            keys[row["public_key_id"]] = key
        state["pool"] = pool
        yield
        await pool.close()

    async def inbox(request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        date = parsedate_to_datetime(headers["date"])
        if abs((datetime.now(UTC) - date).total_seconds()) > 3600:
            return Response(status_code=401)
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        if headers.get("digest") != digest:
            return Response(status_code=401)
        params = dict(_SIGNATURE_PARAM.findall(headers["signature"]))
        key = keys.get(params.get("keyId", ""))
        if key is None:
            return Response(status_code=401)
        lines = [f"(request-target): post {request.url.path}" if name == "(request-target)"
                 else f"{name}: {headers[name]}" for name in params["headers"].split()]
        try:
            key.verify(base64.b64decode(params["signature"]), "\n".join(lines).encode(),
                       padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return Response(status_code=401)
        activity = json.loads(body)
        await state["pool"].execute(
            f"INSERT INTO {MINIMAL_TABLE} (ap_id, type, actor_ap_id, signer_key_id, payload)"
            " VALUES ($1, $2, $3, $4, $5::text::jsonb) ON CONFLICT (ap_id) DO NOTHING",
            activity["id"], activity["type"], activity["actor"], params["keyId"],
            body.decode())
        return Response(status_code=202)

    run_uvicorn(Starlette(routes=[Route("/inbox", inbox, methods=["POST"])],
                          lifespan=lifespan), port)


def _senders() -> list[Sender]:
    senders = []
    for n in range(SENDERS):
        pair = generate_rsa_keypair()
        ap_id = f"https://social{n}.example/users/anna{n}"
        senders.append(Sender(ap_id, SigningKey(f"{ap_id}#main-key", pair.private_pem),
                              pair.public_pem))
    return senders


def _create(sender: Sender, n: int) -> bytes:
    """A Create of a Note as Mastodon sends one (about 1.5 KB)."""
    status = f"{sender.ap_id}/statuses/{n}"
    published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = {
        "id": status, "type": "Note", "summary": None, "inReplyTo": None,
        "published": published, "url": status.replace("/users/", "/@"),
        "attributedTo": sender.ap_id, "to": [PUBLIC], "cc": [f"{sender.ap_id}/followers"],
        "sensitive": False, "atomUri": status, "conversation": f"tag:x,2024:{n}",
        "content": "<p>Wann kommt der Glasfaseranschluss in die Lindenstraße? Die Bauarbeiten"
                   " haben vor drei Wochen begonnen und seitdem ist nichts mehr passiert."
                   " Weiß jemand im Ortsbeirat mehr darüber? #Breitband</p>",
        "contentMap": {"de": "<p>Wann kommt der Glasfaseranschluss in die Lindenstraße?</p>"},
        "attachment": [], "tag": [{"type": "Hashtag", "name": "#breitband",
                                   "href": "https://social.example/tags/breitband"}],
        "replies": {"id": f"{status}/replies", "type": "Collection",
                    "first": {"type": "CollectionPage", "next": f"{status}/replies?page=true",
                              "partOf": f"{status}/replies", "items": []}},
    }
    activity = {
        "@context": ["https://www.w3.org/ns/activitystreams",
                     {"ostatus": "http://ostatus.org#", "sensitive": "as:sensitive",
                      "Hashtag": "as:Hashtag"}],
        "id": f"{status}/activity", "type": "Create", "actor": sender.ap_id,
        "published": published, "to": [PUBLIC], "cc": [f"{sender.ap_id}/followers"],
        "object": note,
    }
    return json.dumps(activity, separators=(",", ":")).encode()


def _signed(base_url: str, sender: Sender, n: int) -> bytes:
    body = _create(sender, n)
    url = f"{base_url}/inbox"
    headers = {"Content-Type": "application/activity+json", "User-Agent": "bench"}
    added = sign_cavage("POST", url, headers, body, sender.key, datetime.now(UTC))
    return http_request("POST", "/inbox", {"Host": added.pop("Host"), **headers, **added}, body)


def _prepare(base_url: str, senders: list[Sender], count: int, first: int) -> list[bytes]:
    # RSA signing releases the GIL: threads use every core (before any clock starts).
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return list(pool.map(lambda n: _signed(base_url, senders[n % len(senders)], n),
                             range(first, first + count)))


async def _store_senders(dsn: str, senders: list[Sender]) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            for sender in senders:
                host = sender.ap_id.split("/")[2]
                await actor_store.upsert_remote(conn, sender.ap_id, {
                    "type": "Person", "username": sender.ap_id.rsplit("/", 1)[1],
                    "domain": host, "inbox": f"{sender.ap_id}/inbox",
                    "shared_inbox": f"https://{host}/inbox",
                    "public_key_id": sender.key.key_id, "public_key_pem": sender.public_pem,
                })
    finally:
        await pool.close()


async def _create_minimal_table(dsn: str) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        await pool.execute(
            f"CREATE TABLE {MINIMAL_TABLE} (LIKE inbox_activities INCLUDING ALL)")
    finally:
        await pool.close()


async def _stored(dsn: str) -> tuple[int, int]:
    """Rows stored by ours and by the minimal inbox."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        ours = await pool.fetchval("SELECT count(*) FROM inbox_activities")
        minimal = await pool.fetchval(f"SELECT count(*) FROM {MINIMAL_TABLE}")
    finally:
        await pool.close()
    return int(ours), int(minimal)


def _measure(loader: ProcessPoolExecutor, port: int, requests: list[bytes],
             server: CpuMeter, db: CpuMeter) -> Run:
    server.start()
    db.start()
    load = loader.submit(run_timed_load, port, requests, CONCURRENCY).result()
    return Run(load, server.stop(), db.stop())


def _row(name: str, runs: list[Run], with_db: bool) -> str:
    rate = median(r.rate for r in runs)
    p99 = median(r.load.p99() for r in runs) * 1000
    total = sum(r.load.requests for r in runs)
    server_ms = sum(r.server_cpu for r in runs) / total * 1000
    db_ms = f"{sum(r.db_cpu for r in runs) / total * 1000:8.3f}" if with_db else "       -"
    client_ms = sum(r.load.cpu_seconds for r in runs) / total * 1000
    return (f"  {name:<26} {rate:10.0f}  {p99:7.1f}  {server_ms:10.3f}  {db_ms}"
            f"  {client_ms:10.3f}")


async def run(server_dsn: str, pgdata: Path | None) -> list[Goal]:
    dsn = await create_database(server_dsn, f"demisa_bench_inbox_{os.getpid()}")
    senders = _senders()
    await _store_senders(dsn, senders)
    await _create_minimal_table(dsn)
    port, minimal_port = free_port(), free_port()
    settings = Settings(base_url=f"http://127.0.0.1:{port}", database_url=dsn,
                        data_dir=Path("/nonexistent"), allow_private_addresses=True,
                        instance_name="Benchstadt", log_level="WARNING", workers=0, demo=False)
    base = settings.base_url
    minimal_base = f"http://127.0.0.1:{minimal_port}"
    first = 0

    def batch(url: str, count: int) -> list[bytes]:
        nonlocal first
        first += count
        return _prepare(url, senders, count, first - count)

    warmup, minimal_warmup = batch(base, WARMUP), batch(minimal_base, WARMUP)
    rounds = [(batch(minimal_base, REQUESTS), batch(base, REQUESTS)) for _ in range(ROUNDS)]

    instance = start_process(serve_instance, settings, dsn, False)
    minimal = start_process(serve_minimal, dsn, minimal_port)
    dut: list[Run] = []
    baseline: list[Run] = []
    try:
        wait_for_port(port, instance)
        wait_for_port(minimal_port, minimal)
        db = CpuMeter(postgres_pids(pgdata))
        instance_cpu = CpuMeter(lambda: [instance.pid or 0])
        minimal_cpu = CpuMeter(lambda: [minimal.pid or 0])
        with ProcessPoolExecutor(1, mp_context=SPAWN) as loader:
            _measure(loader, minimal_port, minimal_warmup, minimal_cpu, db)
            _measure(loader, port, warmup, instance_cpu, db)
            for minimal_requests, requests in rounds:  # alternating: noise hits both
                baseline.append(_measure(loader, minimal_port, minimal_requests,
                                         minimal_cpu, db))
                dut.append(_measure(loader, port, requests, instance_cpu, db))
    finally:
        stop_process(instance)
        stop_process(minimal)
    stored, minimal_stored = await _stored(dsn)

    statuses = sum((r.load.statuses for r in dut), Counter())
    minimal_statuses = sum((r.load.statuses for r in baseline), Counter())
    size = len(_create(senders[0], 0))
    print(f"== inbox: signed Create activities (draft-cavage, RSA-2048, {size}-byte bodies)"
          " POSTed over loopback ==")
    print(f"{REQUESTS} requests per round over {CONCURRENCY} keep-alive connections, median of"
          f" {ROUNDS} rounds after {WARMUP} warm-up, alternating; uvicorn as fedi serve runs"
          " it, instance workers off; CPU ms per request from /proc;"
          f" load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"  {'':<26} {'accepted/s':>10}  {'p99 ms':>7}  {'server CPU':>10}  {'PG CPU':>8}"
          f"  {'client CPU':>10}")
    print(_row("minimal inbox", baseline, pgdata is not None))
    print(_row("dEMiSA POST /inbox", dut, pgdata is not None))
    rate, minimal_rate = median(r.rate for r in dut), median(r.rate for r in baseline)
    p99, minimal_p99 = (median(r.load.p99() for r in runs) * 1000 for runs in (dut, baseline))
    print(f"ratio: accepted/s {rate / minimal_rate:.2f} x the minimal inbox,"
          f" p99 {p99 / minimal_p99:.2f} x")
    expected = WARMUP + ROUNDS * REQUESTS
    all_202 = statuses == Counter({202: ROUNDS * REQUESTS})
    minimal_202 = minimal_statuses == Counter({202: ROUNDS * REQUESTS})
    ok = all_202 and minimal_202 and stored == expected and minimal_stored == expected
    print(f"check: answers {dict(statuses)} (minimal {dict(minimal_statuses)}); rows stored"
          f" {stored} (minimal {minimal_stored}) of {expected} sent each"
          f" {'OK' if ok else 'MISMATCH'}")
    why = "" if ok else "answers or stored rows do not match what was sent (see check)"
    return [
        Goal("inbox accepted/s at 32 connections", rate, minimal_rate, "req/s", 0.8,
             why=why or "the server process's CPU per request (Python) is the limit"),
        Goal("inbox p99 latency at 32 connections", p99, minimal_p99, "ms", 2.0,
             lower_is_better=True, why=why or "queueing behind the server's CPU"),
    ]
