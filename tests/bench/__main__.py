"""``python -m tests.bench [name ...]`` (``make bench``, ``make bench BENCH="inbox scale"``):
every benchmark without arguments.

Starts the embedded PostgreSQL (unless DATABASE_URL is set), prints the machine, then runs
each chosen benchmark module's ``async def run(server_dsn, pgdata) -> list[Goal]``: it
prints its figures (ours and the minimal program's, measured alternately in the same run,
the ratio, CPU per item) and returns the issue's goals it measured. The run ends with the
summary of every goal (:func:`tests.bench.support.print_goals`).

Modules are imported by name when their turn comes, so one that does not import (being
edited) or fails is reported and the others still run; the exit status is 1 then.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.bench.support import Goal, machine, print_goals

# In the order they run; the names are the modules in tests/bench/.
BENCHMARKS = ("pages", "inbox", "drain", "fanout", "search", "scale")


def _run_one(name: str, server_dsn: str, pgdata: Path | None) -> tuple[list[Goal], list[str]]:
    """One benchmark's goals, and the lines to add to the summary (what it did not run)."""
    module = importlib.import_module(f"tests.bench.{name}")
    run = module.run
    # A module not yet converted to run(server_dsn, pgdata) -> goals still runs.
    takes_pgdata = len(inspect.signature(run).parameters) >= 2
    result = asyncio.run(run(server_dsn, pgdata) if takes_pgdata else run(server_dsn))
    goals = list(result) if result else []
    notes = [str(line) for line in getattr(module, "NOT_RUN", [])]
    return goals, notes


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    server_dsn = os.environ.get("DATABASE_URL")
    folder = None
    embedded = None
    if not server_dsn:
        from storage.embedded import start_embedded

        folder = Path(tempfile.mkdtemp(prefix="demisa-bench-pg-"))
        embedded = start_embedded(folder)
        server_dsn = embedded.dsn
    pgdata = embedded.pgdata if embedded is not None else None
    print(f"machine: {machine()}", flush=True)
    goals: list[Goal] = []
    notes: list[str] = []
    failed: list[str] = []
    started = time.monotonic()
    try:
        for name in chosen:
            began = time.monotonic()
            try:
                found, said = _run_one(name, server_dsn, pgdata)
            except Exception:  # one broken benchmark does not stop the others
                traceback.print_exc()
                failed.append(name)
                print(f"benchmark {name} FAILED (above)", flush=True)
                continue
            goals += found
            notes += said
            print(f"({name}: {time.monotonic() - began:.0f} s)\n", flush=True)
    finally:
        if embedded is not None:
            embedded.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    print_goals(goals)
    for line in notes:
        print(line)
    if failed:
        print(f"failed: {', '.join(failed)}")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{len(chosen)} benchmark(s) in {time.monotonic() - started:.0f} s;"
          f" load average at the end {load}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
