"""The inbox over real HTTP: what is refused before anything is stored (size, JSON,
signatures, blocked domains, the signer), replays, unknown actors' Deletes, relayed
activities, and the queue's outcomes (done, ignored, retried, parked)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from activitypub.keys import generate_rsa_keypair
from fedi.inbound.queue import RETRY_DELAYS
from storage import inbox as inbox_store
from storage import instances as instance_store
from storage import moderation
from tests.support.constants import AS, PUBLIC
from tests.support.helpers import make_user
from tests.support.inbound_fixtures import (
    FakeClock,
    Fed,
    fed,
    follow,
    mastodon_create,
    new_id,
    peer,
    run_inbound,
)
from tests.support.inbound_peer import AP_JSON, signed_headers

__all__ = ["fed", "peer"]  # fixtures


def error_of(answer: httpx.Response) -> tuple[str, str]:
    body = answer.json()
    assert set(body) >= {"error", "message"}
    return body["error"], body["message"]


# -- refused before storing: each leaves every table as it was -------------------------


async def test_oversize_body_is_413(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    create = mastodon_create(alice, fed.group, text="x" * 1_000_100)
    answer = await fed.post(create, alice["publicKey"]["id"])
    assert answer.status_code == 413
    assert error_of(answer)[0] == "payload_too_large"
    assert await fed.counts() == before


async def test_invalid_json_is_400(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    answer = await fed.post(b'{"type": "Create", ', alice["publicKey"]["id"])
    assert answer.status_code == 400
    assert error_of(answer) == ("invalid_json", "the body is not JSON")
    answer = await fed.post(b'["Create"]', alice["publicKey"]["id"])
    assert answer.status_code == 400
    assert error_of(answer)[1] == "the body is not a JSON object"
    answer = await fed.post({"type": "Create", "actor": alice["id"]}, alice["publicKey"]["id"])
    assert answer.status_code == 400
    assert "id" in error_of(answer)[1]
    assert await fed.counts() == before


async def test_a_nul_character_in_a_signed_activity_is_400(
        fed: Fed, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL's jsonb cannot hold U+0000: such an activity is refused with a sentence,
    not stored half and not a 500. An escaped backslash before "u0000" is ordinary text."""
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    create = mastodon_create(alice, fed.group, text="Hallo\u0000Welt")
    with caplog.at_level(logging.WARNING):
        answer = await fed.post(create, alice["publicKey"]["id"])
    assert answer.status_code == 400, answer.text
    assert error_of(answer) == (
        "invalid_json", "the JSON contains a NUL character (\\u0000), which is not accepted")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert await fed.counts() == before
    # The six characters backslash, u, 0, 0, 0, 0 as text are fine.
    create = mastodon_create(alice, fed.group, text="C:\\u0000 ist ein Pfad")
    await fed.send(alice, create)
    assert await fed.counts() != before


def nested(depth: int) -> Any:
    """A value inside ``depth`` arrays."""
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


async def test_deeply_nested_json_is_400_at_every_inbox_before_the_signature(
        fed: Fed, caplog: pytest.LogCaptureFixture) -> None:
    await make_user(fed.ctx, "ute")
    before = await fed.counts()
    body = b"[" * 2000 + b"]" * 2000
    with caplog.at_level(logging.WARNING):
        async with httpx.AsyncClient() as client:
            for path in ("/inbox", "/users/ute/inbox", "/groups/breitband/inbox",
                         "/actor/inbox"):
                # No signature at all: the depth is refused before any signature work.
                answer = await client.post(fed.server.url + path, content=body,
                                           headers={"Content-Type": AP_JSON})
                assert answer.status_code == 400, (path, answer.text)
                assert error_of(answer) == (
                    "invalid_json", "the JSON is nested deeper than 64 levels")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert await fed.counts() == before


async def test_signed_activity_with_a_deeply_nested_field_is_400(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    create = mastodon_create(alice, fed.group)
    create["object"]["extension"] = nested(900)
    answer = await fed.post(create, alice["publicKey"]["id"])
    assert answer.status_code == 400
    assert error_of(answer)[0] == "invalid_json"
    assert await fed.counts() == before
    # 64 levels (the activity, its object, 62 arrays) are still fine.
    create = mastodon_create(alice, fed.group)
    create["object"]["extension"] = nested(62)
    await fed.send(alice, create)
    create = mastodon_create(alice, fed.group)
    create["object"]["extension"] = nested(63)
    assert (await fed.post(create, alice["publicKey"]["id"])).status_code == 400


async def test_signed_activity_with_nan_is_400_not_500(fed: Fed) -> None:
    # PostgreSQL's JSON has no NaN: storing it failed after the signature, with a 500.
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    body = json.dumps(mastodon_create(alice, fed.group)).encode()
    body = body.replace(b'"sensitive": false', b'"sensitive": NaN', 1)
    answer = await fed.post(body, alice["publicKey"]["id"])
    assert answer.status_code == 400
    assert error_of(answer) == ("invalid_json", "the body is not JSON")
    assert await fed.counts() == before


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", "application/activity+jsonx", "text/json",
])
async def test_other_content_types_are_415(fed: Fed, content_type: str | None) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    body = json.dumps(mastodon_create(alice, fed.group)).encode()
    headers = signed_headers(fed.inbox, body, alice["publicKey"]["id"])
    del headers["Content-Type"]
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with httpx.AsyncClient() as client:
        answer = await client.post(fed.inbox, content=body, headers=headers)
    assert answer.status_code == 415
    code, message = error_of(answer)
    assert code == "unsupported_media_type" and "application/activity+json" in message
    assert await fed.counts() == before


@pytest.mark.parametrize("content_type", [
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/ld+json",
    "application/json",
    "Application/Activity+JSON; charset=utf-8",
])
async def test_activitypub_content_types_are_accepted(fed: Fed, content_type: str) -> None:
    alice = fed.remote(0, "alice")
    body = json.dumps(mastodon_create(alice, fed.group)).encode()
    headers = {**signed_headers(fed.inbox, body, alice["publicKey"]["id"]),
               "Content-Type": content_type}
    async with httpx.AsyncClient() as client:
        answer = await client.post(fed.inbox, content=body, headers=headers)
    assert answer.status_code == 202, answer.text


async def test_unsigned_is_401_with_the_reason(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    body = json.dumps(mastodon_create(alice, fed.group)).encode()
    async with httpx.AsyncClient() as client:
        answer = await client.post(fed.inbox, content=body,
                                   headers={"Content-Type": AP_JSON})
    assert answer.status_code == 401
    assert error_of(answer) == ("invalid_signature", "no signature")
    assert await fed.counts() == before


async def test_wrong_digest_is_401(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    signed = json.dumps(mastodon_create(alice, fed.group, text="signed")).encode()
    sent = json.dumps(mastodon_create(alice, fed.group, text="swapped")).encode()
    headers = signed_headers(fed.inbox, signed, alice["publicKey"]["id"])
    async with httpx.AsyncClient() as client:
        answer = await client.post(fed.inbox, content=sent, headers=headers)
    assert answer.status_code == 401
    assert error_of(answer) == ("invalid_signature", "digest mismatch")
    assert await fed.counts() == before


async def test_expired_date_is_401(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"],
                            now=datetime.now(UTC) - timedelta(hours=2))
    assert answer.status_code == 401
    code, message = error_of(answer)
    assert code == "invalid_signature" and message.startswith("expired")
    assert await fed.counts() == before


async def test_signer_that_is_not_the_actor_is_401(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    mallory = fed.remote(1, "mallory")
    before = await fed.counts()
    # Mallory's server speaks for Alice, with an activity id on Mallory's host: there is
    # no origin that could confirm it.
    create = mastodon_create(alice, fed.group)
    create["id"] = new_id(fed.peer.hosts[1])
    answer = await fed.post(create, mallory["publicKey"]["id"])
    assert answer.status_code == 401
    code, message = error_of(answer)
    assert code == "signer_not_actor" and alice["id"] in message
    assert await fed.counts() == before


async def test_spoofed_object_from_another_host_is_refused_in_processing(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    bob = fed.remote(1, "bob")
    create = mastodon_create(alice, fed.group)
    # Alice's server presents a Note that lives on Bob's host, in Bob's name.
    note = create["object"]
    note["id"] = note["atomUri"] = f"{bob['id']}/statuses/666"
    note["attributedTo"] = bob["id"]
    await fed.send(alice, create)
    before = await fed.counts()
    await fed.process()
    row = await fed.row(create["id"])
    assert row.state == "ignored"
    assert row.last_error is not None and "not on the host of" in row.last_error
    assert await fed.counts() == before
    assert await fed.fetchval("SELECT count(*) FROM activities") == 0  # nothing relayed


async def test_blocked_domain_is_403(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    async with fed.ctx.pool.acquire() as conn:
        await moderation.block_domain(conn, "127.0.0.1", reason="spam")
    before = await fed.counts()
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"])
    assert answer.status_code == 403
    assert error_of(answer)[0] == "domain_blocked"
    assert await fed.counts() == before
    assert fed.peer.gets == []  # refused before fetching the key


async def test_allowlist_mode_refuses_hosts_not_allowed(fed: Fed) -> None:
    alice, bob = fed.remote(0, "alice"), fed.remote(1, "bob")
    async with fed.ctx.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO instance_settings (key, value) VALUES ($1, 'true'::jsonb)",
            moderation.ALLOWLIST_SETTING)
        await moderation.allow_domain(conn, fed.peer.hosts[1].split("//")[1],
                                      reason="Nachbargemeinde")
    before = await fed.counts()
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"])
    assert answer.status_code == 403
    assert error_of(answer)[0] == "domain_blocked"
    assert await fed.counts() == before
    answer = await fed.post(mastodon_create(bob, fed.group), bob["publicKey"]["id"])
    assert answer.status_code == 202


# -- stored and answered 202 ------------------------------------------------------------


async def test_unknown_type_is_202_and_not_stored(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    before = await fed.counts()
    await fed.send(alice, {"@context": AS, "id": new_id(fed.peer.hosts[0]),
                           "type": "EmojiReact", "actor": alice["id"],
                           "object": fed.group.ap_id, "content": "🎉"})
    assert await fed.counts() == before


async def test_replay_of_an_activity_id_is_a_no_op(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(alice, fed.group, text="Wann kommt Glasfaser?")
    await fed.send(alice, create)
    await fed.process()
    after_first = await fed.counts()
    assert after_first["posts"] == 1
    outgoing = await fed.fetchval("SELECT count(*) FROM activities")
    await fed.send(alice, create)  # the same id again
    await fed.process()
    assert await fed.counts() == after_first
    assert await fed.fetchval("SELECT count(*) FROM activities") == outgoing
    assert (await fed.row(create["id"])).state == "done"


async def test_rfc9421_signatures_are_accepted(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(alice, fed.group)
    await fed.send(alice, create, scheme="rfc9421")
    await fed.process()
    assert (await fed.row(create["id"])).state == "done"


async def test_delete_of_an_actor_never_seen_is_202_without_fetching(fed: Fed) -> None:
    ghost_id = fed.peer.hosts[2] + "/users/ghost"  # its server no longer serves it
    before = await fed.counts()
    await fed.send({"publicKey": {"id": ghost_id + "#main-key"}},
                   {"@context": AS, "id": ghost_id + "#delete", "type": "Delete",
                    "actor": ghost_id, "object": ghost_id, "to": [PUBLIC]})
    assert await fed.counts() == before
    assert fed.peer.gets == []


async def test_personal_inboxes(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    create = mastodon_create(alice, fed.group)
    await fed.send(alice, create, url=fed.group.inbox)
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"],
                            url=fed.server.url + "/groups/nobody/inbox")
    assert answer.status_code == 404
    await fed.process()
    assert (await fed.row(create["id"])).state == "done"


async def test_a_rotated_key_is_fetched_again_once(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    await fed.send(alice, follow(alice, fed.group.ap_id))  # caches Alice with the test key
    gets = len(fed.peer.gets)
    rotated = generate_rsa_keypair()
    alice["publicKey"]["publicKeyPem"] = rotated.public_pem
    create = mastodon_create(alice, fed.group)
    await fed.send(alice, create, pem=rotated.private_pem)
    assert len(fed.peer.gets) == gets + 1  # one refetch of the actor
    # A signature that is just wrong costs one refetch too, and stays refused.
    answer = await fed.post(mastodon_create(alice, fed.group), alice["publicKey"]["id"])
    assert answer.status_code == 401
    assert error_of(answer)[1] == "bad signature"


async def test_a_verified_request_revives_an_unavailable_instance(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    domain = fed.peer.hosts[0].removeprefix("http://")
    now = datetime.now(UTC)
    async with fed.ctx.pool.acquire() as conn:
        for day in range(instance_store.UNAVAILABLE_AFTER_DAYS):
            await instance_store.record_failure(conn, domain, now=now - timedelta(days=day))
        assert (await instance_store.get(conn, domain)).unavailable  # type: ignore[union-attr]
    await fed.send(alice, mastodon_create(alice, fed.group))
    async with fed.ctx.pool.acquire() as conn:
        known = await instance_store.get(conn, domain)
    assert known is not None and not known.unavailable and known.failure_days == []


# -- relayed activities and the queue's outcomes ------------------------------------------


async def test_relayed_create_is_trusted_only_as_fetched_from_its_origin(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    relay = fed.remote(1, "relay")
    create = mastodon_create(alice, fed.group, text="original text")
    forged = json.loads(json.dumps(create))
    forged["object"]["content"] = "<p>forged text</p>"
    forged["object"].pop("contentMap")
    # The origin does not have it: refused, nothing stored.
    await fed.send(relay, forged)
    before = await fed.counts()
    await fed.process()
    row = await fed.row(create["id"])
    assert row.state == "ignored" and "could not fetch" in (row.last_error or "")
    assert await fed.counts() == before
    # The origin has it: what the origin says is stored, not what the relay said.
    fed.peer.put(create["object"])
    forged["id"] = create["id"] + "-again"
    await fed.send(relay, forged)
    await fed.process()
    content = await fed.fetchval("SELECT content_html FROM posts WHERE ap_id = $1",
                                 create["object"]["id"])
    assert "original text" in content and "forged" not in content


async def test_failures_are_retried_with_backoff_then_parked(fed: Fed) -> None:
    alice = fed.remote(0, "alice")
    parent = f"{alice['id']}/statuses/1"
    fed.peer.statuses[parent.removeprefix("http://")] = 500
    create = mastodon_create(alice, fed.group, in_reply_to=parent)
    await fed.send(alice, create)
    clock = FakeClock()
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        assert await run_inbound(fed.ctx, clock) == 1
        row = await fed.row(create["id"])
        assert (row.state, row.attempts) == ("queued", attempt)
        assert row.last_error is not None and "500" in row.last_error
        assert await run_inbound(fed.ctx, clock) == 0  # not due yet
        clock.now += timedelta(seconds=delay + 1)
    assert await run_inbound(fed.ctx, clock) == 1
    row = await fed.row(create["id"])
    assert row.state == "parked" and "500" in (row.last_error or "")
    async with fed.ctx.pool.acquire() as conn:
        assert [p.id for p in await inbox_store.parked(conn)] == [row.id]
        # An admin retries it once the parent is back.
        del fed.peer.statuses[parent.removeprefix("http://")]
        fed.peer.put({"@context": AS, "id": parent, "type": "Note", "attributedTo": alice["id"],
                      "content": "<p>Erste Frage</p>", "to": [PUBLIC],
                      "cc": [fed.group.ap_id]})
        assert await inbox_store.retry_parked(conn, row.id)
    await run_inbound(fed.ctx, clock)
    assert (await fed.row(create["id"])).state == "done"
    assert await fed.fetchval("SELECT count(*) FROM posts") == 2
