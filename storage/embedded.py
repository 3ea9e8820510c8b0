"""The PostgreSQL server bundled by the ``pgserver`` wheel, used when DATABASE_URL is unset.

pgserver runs ``initdb`` on first use, starts the server on a Unix socket inside the
data folder, and keeps a list of the processes using it in the folder: a second
process (``fedi user create`` while ``fedi serve`` runs) joins the running server,
and the last one to leave stops it. As root it runs the server as a dedicated
system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    """A handle on the running embedded server."""

    pgdata: Path
    dsn: str
    _server: Any

    def stop(self) -> None:
        """Leave the server; it stops when no other process uses it."""
        self._server.cleanup()


def start_embedded(data_dir: Path, database: str = "postgres") -> EmbeddedPostgres:
    """Start (or join) the embedded server whose data lives in ``data_dir/postgres``."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver only
    # keeps a lock file there, /tmp is fine.
    os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")  # noqa: S108
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    if os.geteuid() == 0:
        # pgserver chowns the data folder to its own system user; the folder above must stay
        # traversable for it.
        data_dir.chmod(data_dir.stat().st_mode | 0o011)
    dsn: str = server.get_uri(database)
    log.info("embedded PostgreSQL at %s", pgdata)
    return EmbeddedPostgres(pgdata=pgdata, dsn=dsn, _server=server)
