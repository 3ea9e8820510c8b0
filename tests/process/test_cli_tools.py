"""``fedi inspect`` on every corpus document and on broken input; ``fedi lookup``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fedi.cli import main
from tests.support.corpus import CORPUS

KEYS = {"type", "id", "actor", "object_type", "object_id", "attributed_to", "in_reply_to",
        "audience", "context", "name", "content_text", "mentions", "hashtags", "to", "cc"}


def corpus_json_files() -> list[Path]:
    files = []
    for path in sorted(CORPUS.rglob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "type" in data:
            files.append(path)
    return files


def test_corpus_is_there() -> None:
    assert len(corpus_json_files()) > 50


def test_inspect_every_corpus_document(capsys: pytest.CaptureFixture[str]) -> None:
    for path in corpus_json_files():
        assert main(["inspect", str(path)]) == 0, path
        summary = json.loads(capsys.readouterr().out)
        raw = json.loads(path.read_text())
        assert set(summary) == KEYS, path
        assert summary["id"] == raw.get("id"), path
        raw_type = raw["type"] if isinstance(raw["type"], str) else raw["type"][0]
        assert summary["type"] == raw_type.split(":")[-1].split("#")[-1], path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "not a valid ActivityStreams document"),
        ('{"type": "Note", "id": "ftp://x/y"}', "not a valid ActivityStreams document"),
        ("", "is not JSON"),
    ],
)
def test_inspect_broken_input_exits_2_with_one_line(tmp_path: Path, content: str,
                                                    expected: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(content)
    result = subprocess.run([sys.executable, "-m", "fedi.cli", "inspect", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert result.stdout == ""


def test_inspect_reads_standard_input() -> None:
    doc = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Create",
           "id": "https://a.example/1", "actor": "https://a.example/u/x",
           "object": {"type": "Note", "id": "https://a.example/n/1",
                      "content": "<p>Hallo <b>Welt</b></p>"}}
    result = subprocess.run([sys.executable, "-m", "fedi.cli", "inspect", "-"],
                            input=json.dumps(doc), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["object_id"] == "https://a.example/n/1"
    assert summary["content_text"] == "Hallo Welt"


def test_inspect_missing_file() -> None:
    result = subprocess.run([sys.executable, "-m", "fedi.cli", "inspect", "/no/such/file"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "cannot read" in result.stderr
    assert "Traceback" not in result.stderr


async def test_lookup_resolves_a_handle_with_a_signed_fetch(
    instance: object, dsn: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`fedi lookup name@host` against a real instance over loopback: WebFinger, then a
    GET signed by our own instance actor, summarised like `fedi inspect`."""
    import asyncio
    import contextlib
    import io

    from tests.support.helpers import make_group

    server = await instance()  # type: ignore[operator]
    await make_group(server.app.state.ctx, "breitband")
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("FEDI_BASE_URL", "http://127.0.0.1:9")  # another instance: ours
    monkeypatch.setenv("FEDI_ALLOW_PRIVATE_ADDRESSES", "1")
    monkeypatch.setenv("FEDI_LOG_LEVEL", "WARNING")
    out, err = io.StringIO(), io.StringIO()

    def run(target: str) -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(["lookup", target])

    host = server.url.split("//")[1]
    assert await asyncio.to_thread(run, f"breitband@{host}") == 0, err.getvalue()
    summary = json.loads(out.getvalue())
    assert summary["type"] == "Group"
    assert summary["id"] == f"{server.url}/groups/breitband"
    assert summary["name"] == "Breitbandausbau"
    assert summary["content_text"] == "Fragen zum Glasfaserausbau"
    out.truncate(0), out.seek(0)
    assert await asyncio.to_thread(run, f"nobody@{host}") == 2
    assert err.getvalue().count("\n") == 1 and "cannot look up nobody@" in err.getvalue()
