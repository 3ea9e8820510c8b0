"""`make run`'s default: `fedi serve` with no FEDI_SMTP_URL writes the confirmation mail of a
sign-up to FEDI_DATA_DIR/mail/ and logs its link."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.process.test_serve_process import _interrupt, _start, _wait_healthy, data_dir

__all__ = ["data_dir"]  # the fixture, shared with test_serve_process


def test_a_sign_up_s_confirmation_mail_lands_in_the_data_dir(data_dir: Path) -> None:
    port = free_port()
    server = _start(data_dir, port)
    try:
        _wait_healthy(port, server)
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/accounts", timeout=30, json={
            "username": "clara", "email": "clara@example.org",
            "password": "correct horse battery", "accept_terms": True})
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "unconfirmed"
        deadline = time.monotonic() + 30
        mails: list[Path] = []
        while not mails and time.monotonic() < deadline:
            mails = sorted((data_dir / "mail").glob("*.eml"))
            time.sleep(0.1)
        assert len(mails) == 1, "no .eml file in FEDI_DATA_DIR/mail/"
        raw = mails[0].read_text()
        assert "To: clara@example.org" in raw
        assert f"http://127.0.0.1:{port}/confirm/" in raw
    finally:
        output = _interrupt(server)
    assert f"http://127.0.0.1:{port}/confirm/" in output  # the link, logged
