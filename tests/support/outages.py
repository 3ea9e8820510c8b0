"""Real database outages for tests: a PostgreSQL server of the test's own that can be
stopped and started again on the same data folder and socket, and a TCP proxy in front of
a database that can be cut (every connection dropped, new ones refused) and restored."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from storage.embedded import EmbeddedPostgres, start_embedded

# pgserver runs the server as this system user when the tests run as root.
_PG_SYSTEM_USER = "pgserver" if os.geteuid() == 0 else None


def _pg_ctl(args: list[str], pgdata: Path) -> None:
    from pgserver import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(args, pgdata=pgdata, user=_PG_SYSTEM_USER, timeout=60)


@dataclass
class OwnPostgres:
    """An embedded PostgreSQL used by one test only, so stopping it disturbs no other."""

    embedded: EmbeddedPostgres

    @property
    def dsn(self) -> str:
        return self.embedded.dsn

    @property
    def socket_dir(self) -> str:
        return parse_qs(urlsplit(self.dsn).query)["host"][0]

    def crash(self) -> None:
        """Stop the server the hard way (``immediate``: no clean shutdown, every
        connection cut, crash recovery on the next start), as a killed postmaster does."""
        _pg_ctl(["-w", "-m", "immediate", "stop"], self.embedded.pgdata)

    def start(self) -> None:
        """Start it again on the same data folder and socket (the same DSN)."""
        _pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
                 "-l", str(self.embedded.pgdata / "log"), "start"], self.embedded.pgdata)

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # already stopped is fine
            _pg_ctl(["-w", "-m", "fast", "stop"], self.embedded.pgdata)
        self.embedded.stop()


@contextlib.contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A server in a folder of its own, outside pytest's temporary folders (whose
    permissions a concurrent pytest run may tighten, locking the server's user out)."""
    folder = Path(tempfile.mkdtemp(prefix="demisa-outage-pg-"))
    server = OwnPostgres(start_embedded(folder))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Proxy:
    """Forwards TCP connections on a loopback port to a PostgreSQL server (its Unix socket
    or its TCP address, as the DSN says). ``cut()`` drops every connection and refuses new
    ones until ``restore()``: the database is unreachable, as after a network failure."""

    target_dsn: str
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def dsn(self) -> str:
        """The target's DSN, pointed at the proxy."""
        parts = urlsplit(self.target_dsn)
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit((parts.scheme, f"{userinfo}127.0.0.1:{self.port}", parts.path,
                           "", ""))

    async def _open_target(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        parts = urlsplit(self.target_dsn)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        port = parts.port or int(parse_qs(parts.query).get("port", ["5432"])[0])
        if socket_dir and socket_dir.startswith("/"):
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(parts.hostname or socket_dir or "127.0.0.1", port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        try:
            target_r, target_w = await self._open_target()
        except OSError:
            client_w.close()
            return
        self._writers.update((client_w, target_w))
        try:
            await asyncio.gather(self._pipe(client_r, target_w), self._pipe(target_r, client_w))
        finally:
            self._writers.difference_update((client_w, target_w))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def restore(self) -> None:
        await self.start()
