"""What the network benchmarks share: the machine line, free ports, server processes run
as ``fedi serve`` runs uvicorn, CPU accounting from /proc, and a lean HTTP/1.1 load
generator (so the client's own cost stays small next to the server's)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import uvloop

# Fresh interpreters: no event loop, pool or socket inherited from the parent by fork.
SPAWN = multiprocessing.get_context("spawn")
_TICKS = os.sysconf("SC_CLK_TCK")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model};"
            f" load average at start {load}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free loopback port below the ephemeral range: the servers start in other
    processes a while after this, and a port the kernel hands out for outgoing
    connections (or to the tests' ``free_port``) could be taken by then."""
    high = _ephemeral_low()
    for _ in range(1000):
        port = random.randrange(10000, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# -- CPU time of processes, from /proc ------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds used by a set of processes between two readings. ``pids`` is called at
    each reading, so PostgreSQL backends that come and go are counted while they live."""

    def __init__(self, pids: Callable[[], Sequence[int]]) -> None:
        self.pids = pids
        self._start: dict[int, float] = {}

    def start(self) -> None:
        self._start = {pid: cpu_seconds(pid) for pid in self.pids()}

    def stop(self) -> float:
        return sum(cpu_seconds(pid) - self._start.get(pid, 0.0) for pid in self.pids())


def postgres_pids(pgdata: Path | None) -> Callable[[], list[int]]:
    """The postmaster of the embedded server and its backends (nothing for DATABASE_URL,
    whose server may be elsewhere)."""
    if pgdata is None:
        return list
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return list
    return lambda: [postmaster, *children_of(postmaster)]


# -- server processes -----------------------------------------------------------------


def run_uvicorn(app: Any, port: int) -> None:
    """uvicorn as ``fedi serve`` runs it: one process, uvloop and httptools when
    installed (``auto``), no access log."""
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")


def start_process(target: Callable[..., None], *args: Any) -> BaseProcess:
    # daemon: the process is ended when the benchmark exits, however it exits.
    process = SPAWN.Process(target=target, args=args, daemon=True)
    process.start()
    return process


def wait_for_port(port: int, process: BaseProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise RuntimeError(f"the server process for port {port} exited ({process.exitcode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def stop_process(process: BaseProcess, timeout: float = 20.0) -> None:
    """SIGTERM (uvicorn shuts down gracefully, the app's lifespan ends), then SIGKILL."""
    if process.is_alive():
        process.terminate()
        process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(5)


# -- the load generator (runs in its own process) -------------------------------------


@dataclass
class LoadResult:
    seconds: float
    cpu_seconds: float  # of the load generator itself
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def http_request(method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 request as bytes, ready to write (headers must include Host)."""
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()),
             f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise RuntimeError("chunked answers are not expected here")
    if length:
        await reader.readexactly(length)
    return status


async def _load(port: int, requests: Sequence[bytes], concurrency: int) -> LoadResult:
    pending = iter(requests)  # shared by the connections; next() never awaits
    connections = [await asyncio.open_connection("127.0.0.1", port)
                   for _ in range(min(concurrency, len(requests)))]
    statuses: Counter[int] = Counter()

    async def drive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for request in pending:
            writer.write(request)
            statuses[await _read_response(reader)] += 1

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(drive(r, w) for r, w in connections))
    result = LoadResult(time.perf_counter() - started, time.process_time() - cpu, statuses)
    for _, writer in connections:
        writer.close()
    return result


def run_load(port: int, requests: Sequence[bytes], concurrency: int) -> LoadResult:
    """POST the prepared requests over ``concurrency`` keep-alive connections, one
    request in flight per connection (no pipelining), as fast as the server answers."""
    return uvloop.run(_load(port, requests, concurrency))


def serve_instance(settings: Any, dsn: str, run_workers: bool) -> None:
    """A dEMiSA instance (``fedi serve`` without migrating or seeding: the benchmark
    prepared the database)."""
    from fedi.app import create_app

    run_uvicorn(create_app(settings, dsn, run_workers=run_workers), settings_port(settings))


def settings_port(settings: Any) -> int:
    return int(settings.base_url.rsplit(":", 1)[1])


def serve_bare(port: int) -> None:
    """The baseline: a bare Starlette app that reads the body and answers 202."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def inbox(request: Request) -> Response:
        await request.body()
        return Response(status_code=202)

    run_uvicorn(Starlette(routes=[Route("/inbox", inbox, methods=["POST"])]), port)


# -- goals: every benchmark returns what it measured against the goals --------------


@dataclass(frozen=True)
class Goal:
    """One goal of issue 17, measured: ``ours`` and ``baseline`` in the same unit (higher is
    better unless ``lower_is_better``), ``target`` the ratio ours/baseline must reach
    (at least, or at most when ``lower_is_better``)."""

    name: str
    ours: float
    baseline: float
    unit: str
    target: float
    lower_is_better: bool = False
    why: str = ""  # when not met: what limits it, in a sentence

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= self.target if self.lower_is_better else self.ratio >= self.target

    def line(self) -> str:
        sign = "<=" if self.lower_is_better else ">="
        verdict = "met" if self.met else "NOT met"
        text = (f"{self.name}: ours {self.ours:,.4g} {self.unit}, baseline {self.baseline:,.4g}"
                f" {self.unit}, ratio {self.ratio:.2f} (goal {sign} {self.target:g}): {verdict}")
        if not self.met and self.why:
            text += f" - {self.why}"
        return text


def print_goals(goals: Sequence[Goal]) -> None:
    """The summary ``make bench`` ends with: one line per goal."""
    print("\n== goals (issue 17) ==")
    for goal in goals:
        print(goal.line())
    met = sum(goal.met for goal in goals)
    print(f"{met} of {len(goals)} goals met")
