"""``fedi inspect`` and ``fedi lookup``: tools for people debugging federation."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from fedi.core.config import Settings


def register(sub: Any) -> None:
    """Added to the parser by :func:`fedi.cli.build_parser`."""
    inspect = sub.add_parser(
        "inspect", help="summarise an ActivityPub JSON document",
        description="Print one JSON object summarising an ActivityStreams document "
                    "(type, id, actor, object, author, text, mentions, hashtags, addressing).",
    )
    inspect.add_argument("file", help="path to a JSON file, or - for standard input")
    inspect.set_defaults(handler=_inspect)

    lookup = sub.add_parser(
        "lookup", help="fetch a remote actor or object and summarise it",
        description="Resolve name@host via WebFinger, or fetch a URL, with a signed GET as "
                    "this instance's actor, and print the same summary as `fedi inspect`.",
    )
    lookup.add_argument("target", help="name@host, @name@host, or an https:// URL")
    lookup.add_argument("--raw", action="store_true", help="print the whole document instead")
    lookup.set_defaults(handler=_lookup)


def _fail(message: str) -> int:
    print(f"fedi: {message}", file=sys.stderr)
    return 2


def _inspect(args: argparse.Namespace, settings: Settings) -> int:
    from activitypub.errors import InvalidObject
    from activitypub.summary import summarize

    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _fail(f"{args.file} is not JSON: {exc.msg} at line {exc.lineno}, "
                     f"column {exc.colno}")
    except RecursionError:
        return _fail(f"{args.file} is nested too deeply")
    try:
        summary = summarize(data)
    except InvalidObject as exc:
        return _fail(f"{args.file} is not a valid ActivityStreams document: {exc.reason}")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _lookup(args: argparse.Namespace, settings: Settings) -> int:
    from activitypub.errors import ProtocolError
    from activitypub.summary import summarize
    from fedi.core.runtime import database, migrate_database, setup_logging

    setup_logging(settings)
    with database(settings) as dsn:
        asyncio.run(migrate_database(dsn))
        try:
            document = asyncio.run(_fetch_target(settings, dsn, args.target))
        except ProtocolError as exc:
            return _fail(f"cannot look up {args.target}: {exc.reason}")
    if args.raw:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    try:
        print(json.dumps(summarize(document), ensure_ascii=False, indent=2))
    except ProtocolError as exc:
        return _fail(f"{args.target} answered with an invalid document: {exc.reason}")
    return 0


async def _fetch_target(settings: Settings, dsn: str, target: str) -> dict[str, Any]:
    import httpx

    from activitypub.webfinger import webfinger_lookup
    from fedi.app import user_agent
    from fedi.core.context import Context
    from fedi.federation.remote import fetch
    from storage import create_pool

    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with httpx.AsyncClient(headers={"User-Agent": user_agent(settings)}) as http:
            ctx = Context(settings=settings, pool=pool, http=http)
            url = target
            if not target.startswith(("http://", "https://")):
                url = await webfinger_lookup(http, target,
                                             allow_private=settings.allow_private_addresses)
            return await fetch(ctx, url)
    finally:
        await pool.close()
