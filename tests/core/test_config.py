from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedi.core.config import ConfigError, Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.database_url is None
    assert s.data_dir == Path("./.fedi-data")
    assert s.allow_private_addresses is True  # loopback base URL
    assert s.workers == 32 and s.demo is True and s.log_level == "INFO"
    assert s.host == "127.0.0.1:8000"


def test_public_base_url_disables_private_addresses_by_default() -> None:
    s = Settings.from_env({"FEDI_BASE_URL": "https://Forum.Musterstadt.de/"})
    assert s.base_url == "https://forum.musterstadt.de"
    assert s.allow_private_addresses is False
    assert s.https


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"FEDI_BASE_URL": "forum.example.de"}, "FEDI_BASE_URL"),
        ({"FEDI_BASE_URL": "https://example.de/forum"}, "FEDI_BASE_URL"),
        ({"FEDI_WORKERS": "many"}, "FEDI_WORKERS"),
        ({"FEDI_WORKERS": "-1"}, "FEDI_WORKERS"),
        ({"FEDI_DEMO": "maybe"}, "FEDI_DEMO"),
        ({"FEDI_ALLOW_PRIVATE_ADDRESSES": "2"}, "FEDI_ALLOW_PRIVATE_ADDRESSES"),
        ({"FEDI_LOG_LEVEL": "LOUD"}, "FEDI_LOG_LEVEL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_wrong_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_cli_stops_with_one_line_and_exit_code_2() -> None:
    env = {**os.environ, "FEDI_WORKERS": "lots"}
    result = subprocess.run(
        [sys.executable, "-m", "fedi.cli", "migrate"], env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "FEDI_WORKERS" in lines[0]
    assert "Traceback" not in result.stderr


def test_every_command_has_help() -> None:
    from fedi.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"serve", "worker", "migrate"} <= set(sub.choices)  # type: ignore[arg-type]
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        assert command.format_help().startswith("usage: fedi " + name)
