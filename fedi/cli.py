"""The ``fedi`` command: serve, worker, migrate, user/group/token management, inspect, lookup."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Sequence

from fedi.core.config import ConfigError, Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from fedi.app import create_app
    from fedi.core.runtime import database, migrate_database, setup_logging
    from fedi.server import server_config

    setup_logging(settings)
    with database(settings) as dsn:
        asyncio.run(migrate_database(dsn))
        if settings.demo:
            from fedi.demo import seed_demo

            asyncio.run(seed_demo(settings, dsn))
        app = create_app(settings, dsn, run_workers=not args.no_workers and settings.workers > 0)
        print(
            f"dEMiSA listening on http://{args.host}:{args.port} (public URL {settings.base_url})",
            flush=True,
        )
        # Bounded against slow and greedy clients (header timeout, connection cap).
        server = uvicorn.Server(server_config(app, host=args.host, port=args.port))
        with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C is a stop
            server.run()
    # uvicorn.run's exit code when the server could not start (the port is taken ...).
    return 0 if server.started else 3


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from fedi.core.runtime import database, migrate_database, setup_logging, wait_for_database
    from fedi.worker import run_worker_process, worker_loop_runner

    setup_logging(settings)
    with database(settings) as dsn:
        try:
            # Started while PostgreSQL is down or restarting: wait for it, do not exit.
            asyncio.run(wait_for_database(dsn))
            asyncio.run(migrate_database(dsn))
            # uvloop when installed (uvicorn[standard] brings it), as fedi serve runs.
            worker_loop_runner()(run_worker_process(settings, dsn,
                                                    concurrency=args.concurrency))
        except KeyboardInterrupt:
            pass
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from fedi.core.runtime import database, migrate_database, setup_logging

    setup_logging(settings)
    with database(settings) as dsn:
        applied = asyncio.run(migrate_database(dsn))
    if applied:
        print("applied migrations: " + ", ".join(f"{v:04d}" for v in applied))
    else:
        print("database is up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedi",
        description="dEMiSA, a federated discussion server for municipalities.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the web server (and the workers)",
                           description="Run the web server; migrates the database first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--no-workers", action="store_true",
                       help="do not run queue workers in this process (run `fedi worker`)")
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser("worker", help="run queue workers only",
                            description="Process the inbound and delivery queues.")
    worker.add_argument("--concurrency", type=int, default=None,
                        help="jobs in flight (default: FEDI_WORKERS or 32)")
    worker.set_defaults(handler=_worker)

    mig = sub.add_parser("migrate", help="apply database migrations",
                         description="Apply pending database migrations and exit.")
    mig.set_defaults(handler=_migrate)

    from fedi import cli_admin, cli_notifications, cli_seed, cli_tools

    cli_admin.register(sub)
    cli_tools.register(sub)
    cli_seed.register(sub)
    cli_notifications.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"fedi: configuration error: {exc}", file=sys.stderr)
        return 2
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
