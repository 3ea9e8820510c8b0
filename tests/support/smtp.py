"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail
tests; it can be started late (the mail server is down until then) and stopped."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())

    @property
    def html(self) -> str:
        body = self.message.get_body(preferencelist=("html",))
        assert body is not None
        return str(body.get_content())

    def link(self, path: str) -> str:
        """The token of the first link to ``path`` (``/confirm/``, ``/reset/``)."""
        found = re.search(re.escape(path) + r"([A-Za-z0-9_-]+)", self.text)
        assert found, self.text
        return found.group(1)


class _Handler:
    def __init__(self, inbox: list[Received]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                   bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """``url`` is what FEDI_SMTP_URL gets; nothing listens there before :meth:`start`."""

    port: int = field(default_factory=free_port)
    inbox: list[Received] = field(default_factory=list)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(_Handler(self.inbox), hostname="127.0.0.1",
                                      port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(self.inbox) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{len(self.inbox)} mails arrived, not {count}")
            await asyncio.sleep(0.05)
        return self.inbox
