"""fedi.core.runtime.run_periodically: the loop of the periodic jobs (ban expiry, event
reminders, upload cleanup, poll updates) goes on after a failed run, whatever failed."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from fedi.core.runtime import run_periodically


async def test_the_loop_goes_on_after_any_failure(caplog: pytest.LogCaptureFixture) -> None:
    failures: list[BaseException] = [
        asyncpg.PostgresConnectionError("the database restarts"),
        OSError("network down"),
        KeyError("a bug in one run"),
    ]
    runs = 0
    done = asyncio.Event()

    async def job() -> None:
        nonlocal runs
        runs += 1
        if failures:
            raise failures.pop(0)
        done.set()

    with caplog.at_level(logging.WARNING):
        stop = run_periodically(job, 0.01, "testing the loop", logging.getLogger("t"))
        await asyncio.wait_for(done.wait(), 5)
        await stop()
    assert runs == 4
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:2] == ["testing the loop failed: the database restarts",
                            "testing the loop failed: network down"]
    assert messages[2] == "testing the loop failed" and caplog.records[2].exc_info
