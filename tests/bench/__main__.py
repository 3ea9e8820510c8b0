"""``python -m tests.bench [pages] [inbox] [fanout] [search]`` (all without arguments).

Starts the embedded PostgreSQL (unless DATABASE_URL is set), prints the machine, then
each benchmark's figures with the baseline measured in the same run and the ratio.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tests.bench import fanout, inbox, pages, search
from tests.bench.support import machine

BENCHMARKS = ("pages", "inbox", "fanout", "search")


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
    try:
        for name in chosen:
            if name == "pages":
                asyncio.run(pages.run(server_dsn))
            elif name == "inbox":
                asyncio.run(inbox.run(server_dsn, pgdata))
            elif name == "search":
                asyncio.run(search.run(server_dsn))
            else:
                asyncio.run(fanout.run(server_dsn, pgdata))
            sys.stdout.flush()
    finally:
        if embedded is not None:
            embedded.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
