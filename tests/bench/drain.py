"""Backlog drain: a backlog of signed-and-verified Create activities in ``inbox_activities``
worked off by ``fedi worker`` and by a minimal worker doing the same work.

Setup (one database each, identical): a local group with one follower on a forum host
(one embedded Announce per Create, FEP-1b12) that is marked unavailable, so the
Announce's ``deliveries`` row is queued parked and nothing is sent: the drain measures
the inbound side only. Remote authors are stored with their keys, as after a first
contact; each backlog row carries the key that signed it (``signer_key_id``), as the
inbox stores a verified activity.

A round inserts N new Create activities (one statement, one NOTIFY) into the database of
the worker under test, which is already running and idle, and ends when every row has an
outcome. ``fedi worker`` runs as a real process (``python -m fedi.cli worker``, default
concurrency); the minimal worker is a uvloop process that claims rows in batches and, per
batch in one transaction, checks that the signer is the actor, sanitises the content,
stores the posts, stores the group's Announce of each and queues its delivery row, and
marks the rows done. Rounds alternate (ours, minimal, ours, ...); medians are printed,
with CPU per activity of the worker process and of PostgreSQL (embedded server only),
from /proc.

``python -m tests.bench.drain`` runs it alone; ``--round-trips`` instead counts the
database round trips per activity of our worker run in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from activitypub.keys import generate_rsa_keypair
from fedi.core.config import Settings
from fedi.core.context import Context
from fedi.core.markup import sanitize_html
from storage import actors as actor_store
from storage import follows as follow_store
from storage import instances as instance_store
from storage.db import create_pool
from tests.bench.support import (
    CpuMeter,
    Goal,
    cpu_seconds,
    median,
    postgres_pids,
    start_process,
    stop_process,
)
from tests.support.databases import create_database
from tests.support.helpers import make_group

BACKLOG = int(os.environ.get("BENCH_DRAIN_ACTIVITIES", "1000"))  # per round
ROUNDS = int(os.environ.get("BENCH_DRAIN_ROUNDS", "3"))
WARMUP = 100
SENDERS = 4
FOLLOWER_HOST = "forum.unavailable.example"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE_URL = "http://127.0.0.1:8999"  # never listened on: the workers send nothing
WAIT_SECONDS = 300.0
MINIMAL_BATCH = 64  # rows per claim of the minimal worker
MINIMAL_LOOPS = 2  # claim loops of the minimal worker (one per core)


@dataclass(frozen=True)
class Instance:
    dsn: str
    group_id: int
    group_ap_id: str
    followers_url: str
    follower_inbox: str
    senders: tuple[tuple[str, str], ...]  # (actor id, key id)


# -- setup ------------------------------------------------------------------------------


def _settings(dsn: str) -> Settings:
    return Settings(base_url=BASE_URL, database_url=dsn, data_dir=Path("/nonexistent"),
                    allow_private_addresses=True, instance_name="Benchstadt",
                    log_level="WARNING", workers=4, demo=False)


async def _prepare(server_dsn: str, name: str) -> Instance:
    dsn = await create_database(server_dsn, name)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        ctx = Context(settings=_settings(dsn), pool=pool, http=None)  # type: ignore[arg-type]
        group = await make_group(ctx)
        senders = []
        now = datetime.now(UTC)
        async with pool.acquire() as conn, conn.transaction():
            for n in range(SENDERS):
                pair = generate_rsa_keypair()
                host = f"social{n}.example"
                ap_id = f"https://{host}/users/anna{n}"
                await actor_store.upsert_remote(conn, ap_id, {
                    "type": "Person", "username": f"anna{n}", "domain": host,
                    "inbox": f"{ap_id}/inbox", "shared_inbox": f"https://{host}/inbox",
                    "public_key_id": f"{ap_id}#main-key", "public_key_pem": pair.public_pem,
                })
                senders.append((ap_id, f"{ap_id}#main-key"))
            await instance_store.save_software(conn, FOLLOWER_HOST, software="lemmy",
                                               version="0.19.5", fetched_at=now)
            await conn.execute("UPDATE instances SET unavailable = true WHERE domain = $1",
                               FOLLOWER_HOST)
            follower_ap = f"https://{FOLLOWER_HOST}/u/bert"
            follower = await actor_store.upsert_remote(conn, follower_ap, {
                "type": "Person", "username": "bert", "domain": FOLLOWER_HOST,
                "inbox": f"{follower_ap}/inbox",
                "shared_inbox": f"https://{FOLLOWER_HOST}/inbox",
            })
            await follow_store.upsert(conn, follower_id=follower.id, target_id=group.id,
                                      ap_id=f"{follower_ap}/follows/1", state="accepted")
    finally:
        await pool.close()
    return Instance(dsn, group.id, group.ap_id, group.followers_url or "",
                    f"https://{FOLLOWER_HOST}/inbox", tuple(senders))


def _create(instance: Instance, n: int) -> tuple[str, str, str, str, str]:
    """One backlog row: a Create of a Note addressed to the group, as Mastodon sends one
    (ap_id, type, actor, signer key id, payload as JSON)."""
    actor, key_id = instance.senders[n % len(instance.senders)]
    status = f"{actor}/statuses/{n}"
    published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    mention = {"type": "Mention", "href": instance.group_ap_id, "name": "@breitband"}
    note = {
        "id": status, "type": "Note", "summary": None, "inReplyTo": None,
        "published": published, "url": status.replace("/users/", "/@"),
        "attributedTo": actor, "to": [PUBLIC], "cc": [f"{actor}/followers",
                                                     instance.group_ap_id],
        "sensitive": False, "content":
            f"<p>Wann kommt der Glasfaseranschluss in die Lindenstraße ({n})? Die"
            " Bauarbeiten haben vor drei Wochen begonnen und seitdem ist nichts mehr"
            " passiert. Weiß jemand im Ortsbeirat mehr darüber? #Breitband</p>",
        "attachment": [],
        "tag": [mention, {"type": "Hashtag", "name": "#breitband",
                          "href": "https://social.example/tags/breitband"}],
    }
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{status}/activity", "type": "Create", "actor": actor,
        "published": published, "to": [PUBLIC], "cc": note["cc"], "object": note,
    }
    return (activity["id"], "Create", actor, key_id,  # type: ignore[return-value]
            json.dumps(activity, separators=(",", ":")))


async def _insert_backlog(conn: asyncpg.Connection, rows: Sequence[tuple[str, ...]]) -> None:
    """All rows in one statement and one NOTIFY, as a burst the inbox stored."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO inbox_activities (ap_id, type, actor_ap_id, signer_key_id, payload)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
            " $5::text[]::jsonb[])",
            *[list(column) for column in zip(*rows, strict=True)])
        await conn.execute("SELECT pg_notify('inbox', '')")


async def _wait_drained(conn: asyncpg.Connection) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM inbox_activities WHERE state = 'queued')"):
        if time.monotonic() > deadline:
            raise RuntimeError("the backlog was not drained in time")
        await asyncio.sleep(0.01)


async def _outcomes(dsn: str) -> tuple[Counter[str], int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        states = Counter({r["state"]: int(r["n"]) for r in await conn.fetch(
            "SELECT state, count(*) AS n FROM inbox_activities GROUP BY state")})
        posts = int(await conn.fetchval("SELECT count(*) FROM posts WHERE NOT local"))
        deliveries = int(await conn.fetchval("SELECT count(*) FROM deliveries"))
    finally:
        await conn.close()
    return states, posts, deliveries


# -- the minimal worker ---------------------------------------------------------------------


_MINIMAL_CLAIM = """
UPDATE inbox_activities t SET next_attempt_at = now() + interval '30 seconds'
FROM (SELECT id FROM inbox_activities WHERE state = 'queued' AND next_attempt_at <= now()
      ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) c
WHERE t.id = c.id
RETURNING t.id, t.actor_ap_id, t.signer_key_id, t.payload::text AS payload
"""


async def _minimal_batch(conn: asyncpg.Connection, instance: Instance, group_key: int
                         ) -> int:
    async with conn.transaction():
        rows = await conn.fetch(_MINIMAL_CLAIM, MINIMAL_BATCH)
        if not rows:
            return 0
        keys = await conn.fetch(
            "SELECT public_key_id, ap_id, id FROM actors WHERE public_key_id = ANY ($1)",
            list({r["signer_key_id"] for r in rows}))
        owners = {k["public_key_id"]: (k["ap_id"], k["id"]) for k in keys}
        ids = [n for (n,) in await conn.fetch(
            "SELECT nextval('posts_id_seq') FROM generate_series(1, $1)", len(rows))]
        posts: list[tuple[Any, ...]] = []
        announces: list[tuple[str, str, int, str]] = []
        done = []
        for row, post_id in zip(rows, ids, strict=True):
            activity = json.loads(row["payload"])
            note = activity["object"]
            owner = owners.get(row["signer_key_id"])
            done.append(row["id"])
            if owner is None or owner[0] != activity["actor"]:
                continue  # not trusted: the minimal worker just drops it
            content = sanitize_html(note.get("content") or "")
            title = " ".join(note.get("content", "").split())[:200]
            posts.append((post_id, note["id"], owner[1], title, content,
                          json.dumps(note, separators=(",", ":"))))
            announce_id = f"{BASE_URL}/activities/m{post_id}"
            announce = {"@context": "https://www.w3.org/ns/activitystreams",
                        "id": announce_id, "type": "Announce",
                        "actor": instance.group_ap_id, "object": activity,
                        "to": [PUBLIC], "cc": [instance.followers_url],
                        "audience": instance.group_ap_id}
            announces.append((announce_id, note["id"], post_id,
                              json.dumps(announce, separators=(",", ":"))))
        await conn.execute(
            "INSERT INTO posts (id, ap_id, local, group_id, author_id, thread_id, depth, type,"
            " title, content_html, url, raw, published)"
            " SELECT p.id, p.ap_id, false, $7, p.author, p.id, 0, 'Note', p.title, p.content,"
            " p.ap_id, p.raw::jsonb, now()"
            " FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],"
            " $6::text[]) AS p(id, ap_id, author, title, content, raw)",
            *[list(c) for c in zip(*posts, strict=True)], instance.group_id)
        await conn.execute(
            "WITH a AS (INSERT INTO activities (ap_id, actor_id, type, object_ap_id, post_id,"
            " payload, public)"
            " SELECT a.ap_id, $5, 'Announce', a.object, a.post, a.payload::jsonb, true"
            " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])"
            " AS a(ap_id, object, post, payload) RETURNING id)"
            " INSERT INTO deliveries (activity_id, inbox_url, domain, next_attempt_at)"
            " SELECT a.id, $6, $7, '9999-12-31'::timestamptz FROM a",
            *[list(c) for c in zip(*announces, strict=True)], group_key,
            instance.follower_inbox, FOLLOWER_HOST)
        await conn.execute(
            "UPDATE inbox_activities SET state = 'done', attempts = attempts + 1,"
            " processed_at = now() WHERE id = ANY ($1::bigint[])", done)
    return len(rows)


async def _minimal_main(instance: Instance) -> None:
    conns = [await asyncpg.connect(instance.dsn) for _ in range(MINIMAL_LOOPS + 1)]
    listener = conns.pop()
    group_key = int(await listener.fetchval(
        "SELECT id FROM actors WHERE ap_id = $1", instance.group_ap_id))
    wake = asyncio.Event()
    await listener.add_listener("inbox", lambda *_: wake.set())

    async def loop(conn: asyncpg.Connection) -> None:
        while True:
            if not await _minimal_batch(conn, instance, group_key):
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=1.0)

    await asyncio.gather(*(loop(conn) for conn in conns))


def minimal_worker(instance: Instance) -> None:
    """The baseline process (spawned): uvloop, claims in batches, no framework."""
    uvloop.run(_minimal_main(instance))


# -- our worker -------------------------------------------------------------------------------


async def _start_ours(instance: Instance, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": instance.dsn, "FEDI_BASE_URL": BASE_URL,
           "FEDI_ALLOW_PRIVATE_ADDRESSES": "1", "FEDI_DEMO": "0",
           "FEDI_LOG_LEVEL": "WARNING"}
    env.pop("FEDI_WORKERS", None)  # the default concurrency, unless BENCH_DRAIN_CONCURRENCY
    concurrency = os.environ.get("BENCH_DRAIN_CONCURRENCY")
    options = ["--concurrency", concurrency] if concurrency else []
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fedi.cli", "worker", *options, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)


async def _wait_registered(conn: asyncpg.Connection) -> None:
    deadline = time.monotonic() + 60
    while not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM queue_workers)"):
        if time.monotonic() > deadline:
            raise RuntimeError("fedi worker did not start")
        await asyncio.sleep(0.1)


# -- rounds -----------------------------------------------------------------------------------


@dataclass
class Round:
    activities: int
    seconds: float
    worker_cpu: float
    db_cpu: float

    @property
    def rate(self) -> float:
        return self.activities / self.seconds


class Side:
    def __init__(self, name: str, instance: Instance, pid: int, db: CpuMeter) -> None:
        self.name = name
        self.instance = instance
        self.cpu = CpuMeter(lambda: [pid])
        self.db = db
        self.next = 0
        self.rounds: list[Round] = []

    async def round(self, conn: asyncpg.Connection, count: int, *, keep: bool = True) -> None:
        rows = [_create(self.instance, n) for n in range(self.next, self.next + count)]
        self.next += count
        self.cpu.start()
        self.db.start()
        started = time.perf_counter()
        await _insert_backlog(conn, rows)
        await _wait_drained(conn)
        result = Round(count, time.perf_counter() - started, self.cpu.stop(), self.db.stop())
        if keep:
            self.rounds.append(result)

    def line(self) -> str:
        total = sum(r.activities for r in self.rounds)
        worker_ms = sum(r.worker_cpu for r in self.rounds) / total * 1000
        db_ms = sum(r.db_cpu for r in self.rounds) / total * 1000
        return (f"  {self.name:<28} {median(r.rate for r in self.rounds):9.0f}"
                f"  {worker_ms:10.3f}  {db_ms:8.3f}")


async def run(server_dsn: str, pgdata: Path | None) -> list[Goal]:
    ours_db = await _prepare(server_dsn, f"demisa_bench_drain_{os.getpid()}")
    minimal_db = await _prepare(server_dsn, f"demisa_bench_drain_min_{os.getpid()}")
    log = Path(f"/tmp/demisa-bench-drain-{os.getpid()}.log")
    ours = await _start_ours(ours_db, log)
    minimal = start_process(minimal_worker, minimal_db)
    ours_conn = await asyncpg.connect(ours_db.dsn)
    minimal_conn = await asyncpg.connect(minimal_db.dsn)
    db = CpuMeter(postgres_pids(pgdata))
    try:
        await _wait_registered(ours_conn)
        assert minimal.pid is not None
        a = Side("fedi worker", ours_db, ours.pid, db)
        b = Side("minimal worker", minimal_db, minimal.pid, db)
        await a.round(ours_conn, WARMUP, keep=False)
        await b.round(minimal_conn, WARMUP, keep=False)
        for _ in range(ROUNDS):
            await a.round(ours_conn, BACKLOG)
            await b.round(minimal_conn, BACKLOG)
        ours_cpu_total = cpu_seconds(ours.pid)
    finally:
        await ours_conn.close()
        await minimal_conn.close()
        if ours.returncode is None:
            ours.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ours.wait(), timeout=20)
            if ours.returncode is None:
                ours.kill()
                await ours.wait()
        stop_process(minimal)
    ours_out, minimal_out = await _outcomes(ours_db.dsn), await _outcomes(minimal_db.dsn)
    expected = WARMUP + ROUNDS * BACKLOG
    print(f"== backlog drain: {BACKLOG} Create activities per round in inbox_activities,"
          f" median of {ROUNDS} rounds after {WARMUP} warm-up, alternating ==")
    print("fedi worker: a real process, default concurrency; minimal worker: uvloop,"
          f" {MINIMAL_LOOPS} loops claiming {MINIMAL_BATCH} rows per batch; CPU ms per"
          " activity from /proc")
    print(f"  {'':<28} {'act/s':>9}  {'worker CPU':>10}  {'PG CPU':>8}")
    print(a.line())
    print(b.line())
    rate_a, rate_b = median(r.rate for r in a.rounds), median(r.rate for r in b.rounds)
    print(f"ratio: fedi worker = {rate_a / rate_b:.2f} x the minimal worker"
          f" (fedi worker used {ours_cpu_total:.1f} s CPU in all)")
    for name, (states, posts, deliveries) in (("fedi worker", ours_out),
                                              ("minimal", minimal_out)):
        ok = states.get("done", 0) == expected == posts == deliveries
        print(f"check {name}: rows {dict(states)}, posts {posts}, delivery rows {deliveries}"
              f" of {expected}: {'OK' if ok else 'MISMATCH'}")
    return [Goal("backlog drain (inbound worker)", rate_a, rate_b, "activities/s", 0.6,
                 why="the group's counter row (actor_counts, migration 0017) is locked from"
                     " the post's insert to the commit, so Creates into one group commit one"
                     " at a time (log_lock_waits: most waits are on it); and about 30"
                     " statements and ~4 ms of Python per activity (policy, mentions,"
                     " notification events) that the minimal worker does not do")]


# -- round trips ------------------------------------------------------------------------------


_SAVEPOINT = re.compile(r"SAVEPOINT __asyncpg_savepoint_\w+__")


@contextlib.contextmanager
def counting_round_trips() -> Iterator[Counter[str]]:
    """Count the statements sent by every asyncpg connection of this process (each is
    one round trip: a statement with arguments, a simple query such as BEGIN, COMMIT or
    the pool's reset, an executemany batch)."""
    counts: Counter[str] = Counter()
    conn_class = asyncpg.connection.Connection
    original_do = conn_class._do_execute
    original_execute = conn_class.execute
    original_many = conn_class._executemany

    def key(query: str) -> str:
        return _SAVEPOINT.sub("SAVEPOINT", " ".join(query.split()))[:90]

    async def do_execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        counts[key(query)] += 1
        return await original_do(self, query, *args, **kwargs)

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:
            counts[key(query)] += 1
        return await original_execute(self, query, *args, **kwargs)

    async def executemany(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        counts[key(query)] += 1
        return await original_many(self, query, *args, **kwargs)

    conn_class._do_execute = do_execute
    conn_class.execute = execute
    conn_class._executemany = executemany
    try:
        yield counts
    finally:
        conn_class._do_execute = original_do
        conn_class.execute = original_execute
        conn_class._executemany = original_many


async def round_trips(server_dsn: str, count: int = 300) -> float:
    """Round trips per activity of our worker (in this process, default concurrency)
    draining ``count`` Creates, after a warm-up of 50; prints the statements."""
    from fedi.core.runtime import process_context
    from fedi.worker import Worker, build_queues

    instance = await _prepare(server_dsn, f"demisa_bench_drain_rt_{os.getpid()}")
    settings = _settings(instance.dsn)
    async with process_context(settings, instance.dsn, pool_size=8) as ctx:
        worker = Worker(ctx.pool, build_queues(ctx, schedules=True),
                        concurrency=settings.workers)
        await worker.start()
        conn = await asyncpg.connect(instance.dsn)
        try:
            await _insert_backlog(conn, [_create(instance, n) for n in range(50)])
            await _wait_drained(conn)
            await asyncio.sleep(0.5)
            rows = [_create(instance, n) for n in range(50, 50 + count)]
            with counting_round_trips() as counts:
                await _insert_backlog(conn, rows)
                await _wait_drained(conn)
                await asyncio.sleep(0.5)  # notification events and outcomes settle
        finally:
            await conn.close()
            await worker.stop()
    own = ("INSERT INTO inbox_activities", "SELECT pg_notify('inbox'", "BEGIN", "COMMIT",
           "SELECT EXISTS (SELECT 1 FROM inbox_activities WHERE state")
    total = 0
    for statement, n in counts.most_common():
        if not statement.startswith(own[:2] + own[4:]):
            total += n
            print(f"  {n / count:6.2f}  {statement}")
    # The benchmark's own BEGIN/COMMIT around the backlog insert are 2 of them.
    total -= 2
    print(f"round trips per activity: {total / count:.2f} (the heartbeat's included)")
    return total / count


def main() -> None:
    """``python -m tests.bench.drain [--round-trips]``; BENCH_PGDIR keeps the embedded
    server's folder (and the server) between runs."""
    import shutil
    import tempfile

    from storage.embedded import start_embedded

    server_dsn = os.environ.get("DATABASE_URL")
    embedded = None
    keep = os.environ.get("BENCH_PGDIR")
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="demisa-bench-pg-"))
    if not server_dsn:
        embedded = start_embedded(folder)
        server_dsn = embedded.dsn
    try:
        if "--round-trips" in sys.argv:
            asyncio.run(round_trips(server_dsn))
        else:
            pgdata = embedded.pgdata if embedded else (Path(keep) / "postgres" if keep else None)
            asyncio.run(run(server_dsn, pgdata))
    finally:
        if embedded is not None and not keep:
            embedded.stop()
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
