"""Inbox ingestion: signed Create activities POSTed over loopback to a real instance.

Remote senders with RSA-2048 keys are stored in a fresh database (their keys cached, as
after a first contact), then a dEMiSA instance runs in its own process as ``fedi serve``
runs it (one uvicorn process, uvloop and httptools when installed), with its workers
off so only the inbox itself is measured: size and JSON checks, one preflight query,
the draft-cavage signature, one insert, the 202. Every request is signed before the
clock starts and carries a unique activity id.

The load generator is another process (:func:`tests.bench.support.run_load`): raw
HTTP/1.1 over keep-alive connections, so its CPU does not count against the server.
The baseline, measured in the same run with rounds alternating, is a bare Starlette app
on the same uvicorn configuration answering 202 to the same bytes. CPU per request of
the server process, of PostgreSQL (embedded server only) and of the client is read
from /proc.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from activitypub.httpsig import SigningKey, sign_cavage
from activitypub.keys import generate_rsa_keypair
from fedi.core.config import Settings
from storage import actors as actor_store
from storage.db import create_pool
from tests.bench.support import (
    SPAWN,
    CpuMeter,
    LoadResult,
    free_port,
    http_request,
    median,
    postgres_pids,
    run_load,
    serve_bare,
    serve_instance,
    start_process,
    stop_process,
    wait_for_port,
)
from tests.support.databases import create_database

REQUESTS = int(os.environ.get("BENCH_INBOX_REQUESTS", "3000"))  # per round
ROUNDS = int(os.environ.get("BENCH_INBOX_ROUNDS", "3"))
WARMUP = 300
CONCURRENCY = int(os.environ.get("BENCH_INBOX_CONCURRENCY", "16"))
SENDERS = 8  # remote actors, each with its own key, on their own hosts
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True)
class Sender:
    ap_id: str
    key: SigningKey
    public_pem: str


@dataclass
class Run:
    load: LoadResult
    server_cpu: float
    db_cpu: float

    @property
    def rate(self) -> float:
        return self.load.requests / self.load.seconds


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


async def _stored(dsn: str) -> Counter[str]:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT state, count(*) AS n FROM inbox_activities GROUP BY state")
    finally:
        await pool.close()
    return Counter({r["state"]: int(r["n"]) for r in rows})


def _measure(loader: ProcessPoolExecutor, port: int, requests: list[bytes],
             server: CpuMeter, db: CpuMeter) -> Run:
    server.start()
    db.start()
    load = loader.submit(run_load, port, requests, CONCURRENCY).result()
    return Run(load, server.stop(), db.stop())


def _row(name: str, runs: list[Run], with_db: bool) -> str:
    rate = median(r.rate for r in runs)
    total = sum(r.load.requests for r in runs)
    server_ms = sum(r.server_cpu for r in runs) / total * 1000
    db_ms = f"{sum(r.db_cpu for r in runs) / total * 1000:8.3f}" if with_db else "       -"
    client_ms = sum(r.load.cpu_seconds for r in runs) / total * 1000
    return f"  {name:<26} {rate:9.0f}  {server_ms:10.3f}  {db_ms}  {client_ms:10.3f}"


async def run(server_dsn: str, pgdata: Path | None) -> None:
    dsn = await create_database(server_dsn, f"demisa_bench_inbox_{os.getpid()}")
    senders = _senders()
    await _store_senders(dsn, senders)
    port, bare_port = free_port(), free_port()
    settings = Settings(base_url=f"http://127.0.0.1:{port}", database_url=dsn,
                        data_dir=Path("/nonexistent"), allow_private_addresses=True,
                        instance_name="Benchstadt", log_level="WARNING", workers=0, demo=False)
    base = settings.base_url
    warmup = _prepare(base, senders, WARMUP, 0)
    rounds = [_prepare(base, senders, REQUESTS, WARMUP + r * REQUESTS) for r in range(ROUNDS)]

    instance = start_process(serve_instance, settings, dsn, False)
    bare = start_process(serve_bare, bare_port)
    dut: list[Run] = []
    baseline: list[Run] = []
    try:
        wait_for_port(port, instance)
        wait_for_port(bare_port, bare)
        assert instance.pid is not None and bare.pid is not None
        db = CpuMeter(postgres_pids(pgdata))
        instance_cpu = CpuMeter(lambda: [instance.pid or 0])
        bare_cpu = CpuMeter(lambda: [bare.pid or 0])
        with ProcessPoolExecutor(1, mp_context=SPAWN) as loader:
            _measure(loader, bare_port, warmup, bare_cpu, db)
            _measure(loader, port, warmup, instance_cpu, db)
            for requests in rounds:  # alternating, so a noisy moment hits both
                baseline.append(_measure(loader, bare_port, requests, bare_cpu, db))
                dut.append(_measure(loader, port, requests, instance_cpu, db))
    finally:
        stop_process(instance)
        stop_process(bare)
    stored = await _stored(dsn)

    statuses = sum((r.load.statuses for r in dut), Counter())
    bare_statuses = sum((r.load.statuses for r in baseline), Counter())
    size = len(_create(senders[0], 0))
    print(f"== inbox: signed Create activities (draft-cavage, RSA-2048, {size}-byte bodies)"
          " POSTed over loopback ==")
    print(f"{REQUESTS} requests per round over {CONCURRENCY} keep-alive connections, median of"
          f" {ROUNDS} rounds after {WARMUP} warm-up; uvicorn as fedi serve runs it, instance"
          " workers off; CPU ms per request from /proc")
    print(f"  {'':<26} {'req/s':>9}  {'server CPU':>10}  {'PG CPU':>8}  {'client CPU':>10}")
    print(_row("bare Starlette, 202", baseline, False))
    print(_row("dEMiSA POST /inbox", dut, pgdata is not None))
    ratio = median(r.rate for r in dut) / median(r.rate for r in baseline)
    print(f"ratio: dEMiSA inbox = {ratio:.2f} x bare Starlette"
          f" ({1 / ratio:.1f} x the time per request)")
    expected = WARMUP + ROUNDS * REQUESTS
    all_202 = statuses == Counter({202: ROUNDS * REQUESTS})
    print(f"check: answers {dict(statuses)} (baseline {dict(bare_statuses)});"
          f" rows stored {sum(stored.values())} of {expected} sent"
          f" {'OK' if all_202 and sum(stored.values()) == expected else 'MISMATCH'}")
