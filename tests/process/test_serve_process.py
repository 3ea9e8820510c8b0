"""`fedi serve` as a real process on the embedded PostgreSQL: data survives a restart, a
second `fedi` process shares the running database server, and Ctrl-C (SIGINT) leaves no
PostgreSQL process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


def _postgres_pids(data_dir: Path) -> list[int]:
    """PIDs of PostgreSQL processes whose command line names this data folder."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "postgres" in cmdline and str(data_dir) in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "fedi-data"
    yield folder
    for pid in _postgres_pids(folder):  # never leave a server behind, even on failure
        os.kill(pid, signal.SIGKILL)


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FEDI_DATA_DIR=str(data_dir), FEDI_BASE_URL=f"http://127.0.0.1:{port}",
               FEDI_DEMO="0", FEDI_WORKERS="1", FEDI_LOG_LEVEL="INFO")
    return env


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fedi.cli", "serve", "--port", str(port)],
        env=_env(data_dir, port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("fedi serve did not become healthy in 60 s")


def _interrupt(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def test_restart_keeps_data_shares_the_server_and_stops_cleanly(data_dir: Path) -> None:
    port = free_port()
    server = _start(data_dir, port)
    try:
        _wait_healthy(port, server)
        # A second process on the same data folder joins the running server.
        created = subprocess.run(
            [sys.executable, "-m", "fedi.cli", "user", "create", "anna", "--email",
             "anna@example.org", "--password", "correct horse battery"],
            env=_env(data_dir, port), capture_output=True, text=True, timeout=120,
        )
        assert created.returncode == 0, created.stderr
        # The server still answers, on the same database, and sees the new account.
        _wait_healthy(port, server)
        answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/webfinger",
                           params={"resource": f"acct:anna@127.0.0.1:{port}"}, timeout=5)
        assert answer.status_code == 200
    finally:
        output = _interrupt(server)
    assert server.returncode == 0, output
    assert "GET /healthz 200" in output  # one access-log line per request
    assert _postgres_pids(data_dir) == [], "PostgreSQL still runs after Ctrl-C"

    again = _start(data_dir, port)
    try:
        _wait_healthy(port, again)
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/groups", timeout=5)
        assert answer.status_code == 200
        answer = httpx.get(f"http://127.0.0.1:{port}/users/anna",
                           headers={"Accept": "application/activity+json"}, timeout=5)
        assert answer.status_code == 200, "the account made before the restart is gone"
    finally:
        _interrupt(again)
    assert _postgres_pids(data_dir) == []
