"""The issue's end-to-end test for notification e-mail (issue 14): a local user asks a
question; the Fedify peer (a third-party ActivityPub implementation) answers it; with
``immediate`` mail the asker gets an e-mail at a real SMTP server on loopback that links
to the reply and carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` (RFC 8058).
POSTing the one-click link as a mail program does switches notification mail off: the
next reply is a notification, and no mail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from fedi.core.config import parse_smtp_url
from fedi.core.context import Context
from tests.conftest import LiveServer
from tests.interop.conftest import Demisa, FedifyPeer
from tests.interop.test_fedify import follow_group, new_thread
from tests.support.federation_helpers import eventually
from tests.support.helpers import make_group
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def ours(instance: Callable[..., Awaitable[LiveServer]],
               smtp: SmtpServer) -> AsyncIterator[Demisa]:
    """Our instance with workers, mail to the loopback SMTP server, a grouping delay of
    one second (60 in production)."""
    server = await instance(workers=1, smtp=parse_smtp_url(smtp.url), notify_mail_delay=1)
    ctx: Context = server.app.state.ctx
    group = await make_group(ctx)
    assert group.public_key_id is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as api:
        yield Demisa(server, api, group.ap_id, group.public_key_id)


async def _reply_from_peer(peer: FedifyPeer, ours: Demisa, thread: dict[str, Any],
                           asker: str, text: str) -> int:
    """The peer answers the thread as Mastodon does (the author mentioned); our id of the
    reply once it is stored."""
    sent = await peer.post(f"<p>@{asker} {text}</p>", inReplyTo=thread["ap_id"],
                           mentions=[f"{asker}@{ours.host}"])

    async def stored() -> int:
        found = await ours.fetchval("SELECT id FROM posts WHERE ap_id = $1", sent["note_id"])
        assert found is not None, "the reply is not stored yet"
        return int(found)

    return await eventually(stored, timeout=30)


async def _notified(ours: Demisa, account_id: int, post_id: int) -> None:
    async def exists() -> None:
        count = await ours.fetchval(
            "SELECT count(*) FROM notifications WHERE account_id = $1 AND post_id = $2"
            " AND type = 'reply'", account_id, post_id)
        assert count == 1, "no reply notification yet"

    await eventually(exists, timeout=30)


async def test_a_fedify_reply_is_mailed_and_one_click_unsubscribe_stops_the_mails(
        peer: FedifyPeer, ours: Demisa, smtp: SmtpServer) -> None:
    anna = await ours.user("anna")
    me = await ours.call("PATCH", "/api/v1/me", anna,
                         json={"email_notifications": {"default": "immediate"}})
    assert me["email_notifications"]["reply"] == "immediate"
    await follow_group(peer, ours)
    thread = await new_thread(ours, anna, "Wann kommt der Glasfaserausbau?",
                              "Weiß jemand, wann Musterdorf dran ist?")

    reply_id = await _reply_from_peer(peer, ours, thread, "anna", "Im Frühjahr, hieß es.")
    await _notified(ours, anna.account.id, reply_id)
    (mail,) = await smtp.wait_for(1, seconds=30)
    assert mail.recipients == [anna.account.email]
    link = f"{ours.server.url}/posts/{thread['id']}#post-{reply_id}"
    assert link in mail.text and link in mail.html
    assert "hat auf Ihren Beitrag in „Wann kommt der Glasfaserausbau?“ geantwortet." in \
        mail.text
    message = mail.message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith(f"{ours.server.url}/unsubscribe/")

    # What a mail program does for RFC 8058: a POST with this body, no cookies.
    async with httpx.AsyncClient(timeout=30) as mail_program:
        answer = await mail_program.post(
            unsubscribe, content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, answer.text
    me = await ours.get("/api/v1/me", anna)
    assert set(me["email_notifications"].values()) == {"off"}

    # The next reply is a notification, and no mail.
    second = await _reply_from_peer(peer, ours, thread, "anna", "Oder doch im Sommer.")
    await _notified(ours, anna.account.id, second)
    await asyncio.sleep(3)  # three times the grouping delay
    assert len(smtp.inbox) == 1, [m.message["Subject"] for m in smtp.inbox]
    assert await ours.fetchval(
        "SELECT count(*) FROM notification_mail_jobs WHERE kind = 'immediate'") == 0
    await ours.idle()
