"""fedi.forum.policy, the one place that decides who may start a thread, reply, like,
follow or report where (issue 12).

First the refusal table, each case run through the three ways in: the JSON API (httpx over
ASGI), a web form (session, CSRF, German and English pages) and an activity from a remote
server (signed HTTP to a live instance, processed by the worker, the Reject delivered back):
the same code where it can be seen and the same sentence on each. Then the rules one by
one, their order, and the sentences in German.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fedi.core.context import Context
from fedi.core.errors import AppError, Forbidden, Gone
from fedi.core.i18n import translations
from fedi.federation.remote import resolve_actor
from fedi.forum import policy
from fedi.forum import posts as post_service
from fedi.forum.policy import Action, Refusal
from storage import accounts as account_store
from storage import actors as actor_store
from storage import moderation as moderation_store
from storage import posts as post_store
from storage import terms as terms_store
from storage.actors import Actor
from storage.posts import Post
from tests.support.constants import AS
from tests.support.helpers import User, make_group, make_user
from tests.support.inbound_fixtures import Fed, fed, follow, mastodon_create, new_id, peer
from tests.web.conftest import PASSWORD, csrf_of, log_in

__all__ = ["fed", "peer"]  # fixtures

# A local account has no domain of its own that could be blocked; a remote actor has no
# account here that could be suspended.
NO_DOMAIN = "a local account cannot be domain-blocked"
NO_ACCOUNT = "a remote actor has no local account to suspend"


# -- the refusal table ---------------------------------------------------------------------

@dataclass
class World:
    """One situation: our instance with the group, a local account (API token, web
    session) and a remote actor (its row cached), and a thread with a reply by someone
    else to reply to and like."""

    fed: Fed
    anna: User
    alice_doc: dict[str, Any]
    alice: Actor
    thread: Post
    reply: Post
    web: httpx.AsyncClient
    csrf: str

    @property
    def group(self) -> Actor:
        return self.fed.group

    @property
    def domain(self) -> str:
        return self.alice.domain

    async def ban_both(self, *, group: bool, reason: str = "") -> None:
        async with self.fed.ctx.pool.acquire() as conn:
            for actor in (self.anna.actor, self.alice):
                await moderation_store.ban(conn, actor_id=actor.id, reason=reason,
                                           group_id=self.group.id if group else None)


Situation = Callable[[World], Awaitable[None]]


async def _block_domain(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await moderation_store.block_domain(conn, w.domain)


async def _suspend(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await account_store.set_account_status(conn, w.anna.account.id, "suspended")


async def _unconfirm(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE accounts SET email_confirmed_at = NULL WHERE id = $1",
                           w.anna.account.id)


async def _new_terms(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await terms_store.publish(conn, kind="terms", source="Neu", html="<p>Neu</p>",
                                  created_by=None)


async def _delete_group(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await actor_store.mark_deleted(conn, w.group.id)


async def _moderators_only(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await moderation_store.update_group_profile(conn, w.group.id,
                                                    posting_restricted_to_mods=True)


async def _lock(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await post_store.set_locked(conn, w.thread.id, True)


async def _remove_thread(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await post_store.set_removed(conn, w.thread.id, reason="Werbung")


async def _delete_thread(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await post_store.mark_deleted(conn, w.thread.id)


async def _remove_reply(w: World) -> None:
    async with w.fed.ctx.pool.acquire() as conn:
        await post_store.set_removed(conn, w.reply.id, reason="Werbung")


@dataclass(frozen=True)
class Case:
    id: str
    situation: Situation
    action: Action
    rule: str  # the policy's rule (the API's error code is Refusal(rule).code)
    message: str  # the English sentence, literally ({domain} is the remote actor's)
    reason: str = ""  # a ban's reason
    like: str = "thread"  # what a like is for: "thread" or "reply"
    local: str | None = None  # why the API and the web form cannot see it (None: they do)
    remote: str | None = None  # why an inbound activity cannot see it (None: it does)
    # The web session ends with the account: the form leads to the log-in page, which
    # answers with the sentence.
    web_via_login: bool = False

    def refusal(self, w: World) -> Refusal:
        if self.rule == "domain_blocked":
            return Refusal(self.rule, {"domain": w.domain})
        return Refusal(self.rule, {"reason": self.reason} if self.reason else {})


async def _ban_instance(w: World) -> None:
    await w.ban_both(group=False)


async def _ban_instance_hetze(w: World) -> None:
    await w.ban_both(group=False, reason="Hetze")


async def _ban_group_spam(w: World) -> None:
    await w.ban_both(group=True, reason="Spam")


async def _ban_group(w: World) -> None:
    await w.ban_both(group=True)


CASES = [
    Case("domain-blocked", _block_domain, Action.START_THREAD, "domain_blocked",
         "The instance {domain} is blocked here.", local=NO_DOMAIN),
    Case("account-suspended", _suspend, Action.START_THREAD, "account_suspended",
         "This account is suspended.", remote=NO_ACCOUNT, web_via_login=True),
    Case("email-unconfirmed", _unconfirm, Action.REPLY, "email_unconfirmed",
         "Please confirm your e-mail address first: open the link in the mail we sent you. "
         "Until then you can read but not write.",
         remote="a remote actor has no local e-mail address to confirm"),
    Case("terms-not-accepted", _new_terms, Action.LIKE, "terms_not_accepted",
         "The terms of use or the privacy policy have changed: please read and accept the "
         "new version before you write again.",
         remote="a remote actor accepts no terms here: its own server's apply"),
    Case("instance-ban", _ban_instance, Action.START_THREAD, "banned_instance",
         "You are banned from this instance."),
    Case("instance-ban-with-reason", _ban_instance_hetze, Action.LIKE, "banned_instance",
         "You are banned from this instance. Reason: Hetze", reason="Hetze"),
    Case("group-ban-with-reason", _ban_group_spam, Action.REPLY, "banned_group",
         "You are banned from this group. Reason: Spam", reason="Spam"),
    Case("group-ban", _ban_group, Action.FOLLOW, "banned_group",
         "You are banned from this group."),
    Case("deleted-group", _delete_group, Action.REPLY, "group_gone",
         "This group no longer exists."),
    Case("moderators-only-group", _moderators_only, Action.START_THREAD, "moderators_only",
         "Only the moderators of this group may start threads in it."),
    Case("locked-thread", _lock, Action.REPLY, "thread_locked",
         "This thread is closed: no new replies."),
    Case("removed-thread", _remove_thread, Action.REPLY, "thread_gone",
         "This thread was deleted or removed."),
    Case("deleted-thread", _delete_thread, Action.REPLY, "thread_gone",
         "This thread was deleted or removed."),
    Case("removed-post-liked", _remove_reply, Action.LIKE, "post_gone",
         "This post was deleted or removed.", like="reply"),
]


def _liked(case: Case, w: World) -> Post:
    return w.reply if case.like == "reply" else w.thread


async def _api(case: Case, w: World) -> httpx.Response:
    """(a) The JSON API, as the local account."""
    transport = httpx.ASGITransport(app=w.fed.server.app)
    async with httpx.AsyncClient(transport=transport, base_url=w.fed.server.url,
                                 headers=w.anna.headers) as api:
        if case.action is Action.START_THREAD:
            return await api.post(f"/api/v1/groups/{w.group.username}/threads",
                                  json={"title": "Neu", "content": "Text"})
        if case.action is Action.REPLY:
            return await api.post(f"/api/v1/posts/{w.thread.id}/replies",
                                  json={"content": "Antwort"})
        if case.action is Action.LIKE:
            return await api.post(f"/api/v1/posts/{_liked(case, w).id}/like")
        assert case.action is Action.FOLLOW
        return await api.post(f"/api/v1/groups/{w.group.username}/follow")


async def _web(case: Case, w: World, lang: str) -> httpx.Response:
    """(b) The web form, as the logged-in local account, the page in ``lang``."""
    headers = {"Accept-Language": lang}
    if case.action is Action.START_THREAD:
        url, data = f"/groups/{w.group.username}/new", {"title": "Neu", "content": "Text"}
    elif case.action is Action.REPLY:
        url, data = f"/posts/{w.thread.id}/reply", {"content": "Antwort"}
    elif case.action is Action.LIKE:
        url, data = f"/posts/{_liked(case, w).id}/like", {"action": "like"}
    else:
        assert case.action is Action.FOLLOW
        url, data = "/follow", {"action": "follow", "group": w.group.username}
    return await w.web.post(url, data={**data, "csrf_token": w.csrf}, headers=headers)


def _inbound_activity(case: Case, w: World) -> dict[str, Any]:
    """(c) What the remote actor sends for the same action."""
    if case.action is Action.START_THREAD:
        return mastodon_create(w.alice_doc, w.group, text="Neu")
    if case.action is Action.REPLY:
        return mastodon_create(w.alice_doc, w.group, text="Antwort",
                               in_reply_to=w.thread.ap_id)
    if case.action is Action.LIKE:
        return {"@context": AS, "id": new_id(w.fed.peer.hosts[0]), "type": "Like",
                "actor": w.alice_doc["id"], "object": _liked(case, w).ap_id}
    assert case.action is Action.FOLLOW
    return follow(w.alice_doc, w.group.ap_id)


_SHOWN = (re.compile(r'<p class="message">(.*?)</p>', re.DOTALL),
          re.compile(r'<div class="refusal"[^>]*>.*?<p>(.*?)</p>', re.DOTALL))


def shown_sentence(page: str) -> str:
    """The sentence an error page or a refused form shows."""
    for pattern in _SHOWN:
        match = pattern.search(page)
        if match:
            return " ".join(html.unescape(match.group(1)).split())
    raise AssertionError("the page shows no refusal")


async def _world(fed: Fed) -> World:
    ctx = fed.ctx
    anna = await make_user(ctx, "anna")
    bert = await make_user(ctx, "bert")
    thread = await post_service.create_thread(ctx, author=bert.actor, group=fed.group,
                                              title="Glasfaser", content="Wann?")
    reply = await post_service.create_reply(ctx, author=bert.actor, parent=thread,
                                            content="Bald.")
    alice_doc = fed.remote(0, "alice")
    alice = await resolve_actor(ctx, alice_doc["id"])
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=fed.server.app),
                            base_url=fed.server.url)
    await log_in(web, "anna")
    csrf = csrf_of((await web.get("/")).text)
    return World(fed, anna, alice_doc, alice, thread, reply, web, csrf)


async def _process_all(fed: Fed) -> None:
    for _ in range(5):
        if not await fed.process():
            return


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_the_same_refusal_through_the_api_a_web_form_and_an_inbound_activity(
        fed: Fed, case: Case) -> None:
    w = await _world(fed)
    expected = case.refusal(w)
    english = case.message.format(domain=w.domain)
    assert expected.message == english  # the table says what the policy says
    german = expected.text("de")
    assert german != english

    # The remote actor's activity arrives before the situation (a domain blocked before
    # would stop it at the inbox's door, checked below); it is processed after it.
    activity = _inbound_activity(case, w) if case.remote is None else None
    if activity is not None:
        await fed.send(w.alice_doc, activity)
    before = await fed.counts()
    await case.situation(w)

    if case.local is None:
        # (a) the API: the refusal's code and its English sentence.
        answer = await _api(case, w)
        assert answer.status_code == expected.status, answer.text
        assert answer.json() == {"error": expected.code, "message": english}
        # (b) the web form: the same sentence, in English and in German.
        for lang, sentence in (("en", english), ("de", german)):
            page = await _web(case, w, lang)
            if case.web_via_login:
                assert page.status_code == 303
                assert page.headers["location"].startswith("/login")
                page = await w.web.post("/login", headers={"Accept-Language": lang}, data={
                    "username": "anna", "password": PASSWORD, "csrf_token": w.csrf})
            assert page.status_code == expected.status, page.text
            assert shown_sentence(page.text) == sentence, lang
        if case.web_via_login:
            # The API and the log-in page answer for the session; the service behind
            # both asks the policy itself.
            with pytest.raises(AppError) as refused:
                await post_service.create_thread(fed.ctx, author=w.anna.actor,
                                                 group=w.group, title="Neu", content="x")
            assert refused.value.refusal == expected
            assert refused.value.message == english
    await w.web.aclose()

    if activity is not None:
        # (c) the inbound activity: a Reject from the group saying why (a like gets no
        # Reject: the refusal is the reason recorded for the activity; nor does a deleted
        # group send one: it has no key left that a receiver could check, and its Delete
        # told its followers already).
        await _process_all(fed)
        row = await fed.row(activity["id"])
        assert row.state == "ignored", (row.state, row.last_error)
        if case.action is Action.LIKE or case.rule == "group_gone":
            assert english in (row.last_error or ""), row.last_error
            assert await fed.queued("Reject") == []
        else:
            (reject,) = await fed.queued("Reject")
            assert reject["actor"] == w.group.ap_id
            assert reject["object"]["id"] == activity["id"]
            # In the group's language (German), with English beside it (issue 20).
            assert (reject["summary"], reject["content"]) == (german, german)
            assert reject["contentMap"] == reject["summaryMap"] == {"de": german,
                                                                    "en": english}
            if case.rule == "domain_blocked":
                # Nothing goes out to a blocked domain, the Reject neither.
                assert await fed.fetchval("SELECT count(*) FROM deliveries") == 0
            else:
                # Delivered once, signed by the group, and the peer could check that
                # with the group's key.
                deliveries = await fed.peer.wait_for("Reject")
                assert [d.error for d in deliveries] == [None]
                (delivered,) = deliveries
                assert delivered.url == w.alice_doc["inbox"]
                assert delivered.activity["id"] == reject["id"]
                assert delivered.signature is not None
                assert delivered.signature.key_id == w.group.public_key_id
    if case.rule == "domain_blocked":
        # The inbox's door refuses what comes later from the blocked domain: same code,
        # same sentence.
        late = await fed.post(_inbound_activity(case, w), w.alice_doc["publicKey"]["id"])
        assert late.status_code == 403
        assert late.json() == {"error": "domain_blocked", "message": english}

    # Nothing was written by any of the refused attempts.
    after = await fed.counts()
    assert {k: after[k] for k in ("posts", "likes", "follows")} == \
        {k: before[k] for k in ("posts", "likes", "follows")}


def test_the_table_covers_every_refusal_and_says_why_a_path_cannot_apply() -> None:
    # The event rules (issue 16) have their own table: tests/events/test_event_api.py.
    # not_asker (choosing an accepted answer) has its own tests: tests/routes/test_api_answers.py
    # group_moved (a group that moved away) has its own: tests/federation/test_group_move.py
    assert {c.rule for c in CASES} == policy.RULES - {"account_inactive", "not_asker",
                                                      "group_moved"} - EVENT_RULES
    for case in CASES:
        assert case.local is None or case.remote is None, case.id  # one path at least
    assert [c.id for c in CASES if c.local] == ["domain-blocked"]
    assert [c.id for c in CASES if c.remote] == ["account-suspended", "email-unconfirmed",
                                                 "terms-not-accepted"]


# -- the rules one by one ------------------------------------------------------------------

@pytest.fixture
def ctx(app_client: httpx.AsyncClient) -> Context:
    return app_client.app.state.ctx  # type: ignore[attr-defined, no-any-return]


# The event actions (issue 16) need an event and the organiser's role: their table is
# tests/events/test_event_api.py (the rules above apply to them as to every action).
# ACCEPT_ANSWER depends on who asked: tests/routes/test_api_answers.py tests it.
ACTIONS = [a for a in Action if a not in (Action.CREATE_EVENT, Action.REGISTER,
                                          Action.ACCEPT_ANSWER)]


@dataclass
class Scene:
    ctx: Context
    anna: Actor  # a local member
    mod: Actor  # a moderator of the group
    eve: Actor  # a remote person
    group: Actor
    other_group: Actor
    thread: Post
    reply: Post

    async def fresh(self, actor: Actor) -> Actor:
        async with self.ctx.pool.acquire() as conn:
            found = await actor_store.get(conn, actor.id)
        assert found is not None
        return found

    async def post(self, post: Post) -> Post:
        async with self.ctx.pool.acquire() as conn:
            found = await post_store.get(conn, post.id)
        assert found is not None
        return found

    async def code(self, action: Action, actor: Actor, *, group: Actor | None = None,
                   thread: Post | None = None, post: Post | None = None) -> str | None:
        async with self.ctx.pool.acquire() as conn:
            found = await policy.refusal(conn, action, await self.fresh(actor),
                                         group=await self.fresh(group) if group else None,
                                         thread=thread, post=post)
        return found.rule if found else None

    async def codes(self, actor: Actor, group: Actor | None = None) -> dict[Action, str | None]:
        """Every action's answer for ``actor`` in ``group`` (a reply and a like in the
        scene's thread)."""
        thread = await self.post(self.thread)
        return {action: await self.code(action, actor, group=group, thread=thread,
                                        post=thread)
                for action in ACTIONS}


@pytest.fixture
async def scene(ctx: Context) -> Scene:
    anna = await make_user(ctx, "anna")
    mod = await make_user(ctx, "moritz")
    group = await make_group(ctx, moderators=[mod.actor])
    other = await make_group(ctx, "foerdermittel", title="Fördermittel")
    thread = await post_service.create_thread(ctx, author=mod.actor, group=group,
                                              title="Glasfaser", content="Wann?")
    reply = await post_service.create_reply(ctx, author=mod.actor, parent=thread,
                                            content="Bald.")
    async with ctx.pool.acquire() as conn:
        eve = await actor_store.upsert_remote(conn, "https://social.example/users/eve", {
            "type": "Person", "username": "eve", "domain": "social.example",
            "inbox": "https://social.example/users/eve/inbox"})
    return Scene(ctx, anna.actor, mod.actor, eve, group, other, thread, reply)


ALL_NONE = dict.fromkeys(ACTIONS)


async def test_nothing_is_refused_without_a_reason(scene: Scene) -> None:
    for actor in (scene.anna, scene.mod, scene.eve):
        assert await scene.codes(actor, scene.group) == ALL_NONE
        assert await scene.codes(actor) == ALL_NONE


async def test_a_blocked_domain_refuses_everything_its_actors_do(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await moderation_store.block_domain(conn, "social.example")
        found = await policy.refusal(conn, Action.FOLLOW, scene.eve, group=scene.group)
    assert await scene.codes(scene.eve, scene.group) == dict.fromkeys(ACTIONS, "domain_blocked")
    assert found is not None and found.message == \
        "The instance social.example is blocked here."
    assert await scene.codes(scene.anna, scene.group) == ALL_NONE


async def test_an_account_that_is_not_active_takes_no_part(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        anna = await account_store.by_actor(conn, scene.anna.id)
        mod = await account_store.by_actor(conn, scene.mod.id)
        assert anna is not None and mod is not None
        await account_store.set_account_status(conn, anna.id, "suspended")
        await account_store.set_account_status(conn, mod.id, "pending")
    # Reports too: a suspended account does nothing here.
    assert await scene.codes(scene.anna, scene.group) == \
        dict.fromkeys(ACTIONS, "account_suspended")
    assert await scene.codes(scene.mod) == dict.fromkeys(ACTIONS, "account_inactive")
    # A group is no account: its rules are its own.
    assert await scene.code(Action.FOLLOW, scene.group) is None


async def test_bans_end_taking_part_but_not_reporting(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await moderation_store.ban(conn, actor_id=scene.anna.id, group_id=scene.group.id,
                                   reason="Spam")
        await moderation_store.ban(conn, actor_id=scene.eve.id, group_id=None)
        lifted = await moderation_store.ban(conn, actor_id=scene.mod.id, group_id=None)
        await moderation_store.lift_ban(conn, lifted.id)
        await moderation_store.ban(conn, actor_id=scene.mod.id, group_id=scene.other_group.id,
                                   expires_at=datetime.now(UTC) - timedelta(minutes=1))
    group_ban = {**dict.fromkeys(ACTIONS, "banned_group"), Action.REPORT: None}
    assert await scene.codes(scene.anna, scene.group) == group_ban
    # A group ban holds in its group only.
    assert await scene.codes(scene.anna, scene.other_group) == ALL_NONE
    assert await scene.codes(scene.anna) == ALL_NONE
    instance_ban = {**dict.fromkeys(ACTIONS, "banned_instance"), Action.REPORT: None}
    for where in (scene.group, scene.other_group, None):
        assert await scene.codes(scene.eve, where) == instance_ban
    # Lifted and expired bans are over.
    assert await scene.codes(scene.mod, scene.group) == ALL_NONE
    assert await scene.codes(scene.mod, scene.other_group) == ALL_NONE


async def test_a_ban_s_sentence_names_its_reason(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await moderation_store.ban(conn, actor_id=scene.anna.id, group_id=scene.group.id,
                                   reason="Spam")
        await moderation_store.ban(conn, actor_id=scene.eve.id, group_id=None,
                                   reason="Hetze")
        await moderation_store.ban(conn, actor_id=scene.mod.id, group_id=scene.group.id)
        said = {actor.id: await policy.refusal(conn, Action.START_THREAD, actor,
                                               group=scene.group)
                for actor in (scene.anna, scene.eve, scene.mod)}
    texts = {key: (r.rule, r.message, r.text("de")) for key, r in said.items() if r}
    assert texts == {
        scene.anna.id: ("banned_group", "You are banned from this group. Reason: Spam",
                        "Sie sind in dieser Gruppe gesperrt. Grund: Spam"),
        scene.eve.id: ("banned_instance", "You are banned from this instance. Reason: Hetze",
                       "Sie sind auf dieser Instanz gesperrt. Grund: Hetze"),
        scene.mod.id: ("banned_group", "You are banned from this group.",
                       "Sie sind in dieser Gruppe gesperrt."),
    }


async def test_a_deleted_group_takes_nothing_but_reports(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await actor_store.mark_deleted(conn, scene.group.id)
    gone = {**dict.fromkeys(ACTIONS, "group_gone"), Action.REPORT: None}
    for actor in (scene.anna, scene.mod, scene.eve):
        assert await scene.codes(actor, scene.group) == gone


async def test_only_moderators_start_threads_in_a_moderators_only_group(scene: Scene
                                                                        ) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await moderation_store.update_group_profile(conn, scene.group.id,
                                                    posting_restricted_to_mods=True)
    for actor in (scene.anna, scene.eve):
        assert await scene.codes(actor, scene.group) == {
            **ALL_NONE, Action.START_THREAD: "moderators_only"}
    assert await scene.codes(scene.mod, scene.group) == ALL_NONE
    # A group elsewhere keeps its own rules: its server decides.
    async with scene.ctx.pool.acquire() as conn:
        remote = await actor_store.upsert_remote(conn, "https://lemmy.example/c/rathaus", {
            "type": "Group", "username": "rathaus", "domain": "lemmy.example",
            "inbox": "https://lemmy.example/c/rathaus/inbox",
            "posting_restricted_to_mods": True})
    assert await scene.code(Action.START_THREAD, scene.anna, group=remote) is None


async def test_a_reply_needs_an_open_thread_and_a_visible_post(scene: Scene) -> None:
    async def reply_code(thread: Post | None, post: Post | None = None) -> str | None:
        return await scene.code(Action.REPLY, scene.anna, group=scene.group, thread=thread,
                                post=post)

    thread, reply = await scene.post(scene.thread), await scene.post(scene.reply)
    assert await reply_code(thread, reply) is None
    assert await reply_code(None) == "thread_gone"
    async with scene.ctx.pool.acquire() as conn:
        await post_store.set_removed(conn, reply.id, reason="Werbung")
        await post_store.set_locked(conn, thread.id, True)
    reply = await scene.post(reply)
    assert await reply_code(thread, thread) is None  # the copy from before the lock
    assert await reply_code(await scene.post(thread), thread) == "thread_locked"
    async with scene.ctx.pool.acquire() as conn:
        await post_store.set_locked(conn, thread.id, False)
    thread = await scene.post(thread)
    assert await reply_code(thread, reply) == "post_gone"
    assert await reply_code(thread, thread) is None
    async with scene.ctx.pool.acquire() as conn:
        await post_store.set_removed(conn, thread.id, reason="Werbung")
    assert await reply_code(await scene.post(thread)) == "thread_gone"
    async with scene.ctx.pool.acquire() as conn:
        await post_store.set_restored(conn, thread.id)
        await post_store.mark_deleted(conn, thread.id)
    assert await reply_code(await scene.post(thread)) == "thread_gone"
    # The thread of a post, for the callers that have only the post.
    async with scene.ctx.pool.acquire() as conn:
        found = await policy.thread_of(conn, reply)
        assert found is not None and found.id == thread.id
        assert await policy.thread_of(conn, thread) == thread


async def test_a_like_needs_a_visible_post(scene: Scene) -> None:
    async def like_code(post: Post | None) -> str | None:
        return await scene.code(Action.LIKE, scene.eve, group=scene.group, post=post)

    assert await like_code(await scene.post(scene.reply)) is None
    assert await like_code(None) is None  # no post: the actor's and the group's rules
    async with scene.ctx.pool.acquire() as conn:
        await post_store.set_removed(conn, scene.reply.id, reason="Werbung")
        await post_store.mark_deleted(conn, scene.thread.id)
    assert await like_code(await scene.post(scene.reply)) == "post_gone"
    assert await like_code(await scene.post(scene.thread)) == "post_gone"


async def test_the_first_rule_that_applies_wins(scene: Scene) -> None:
    """1 domain, 2 account, 3 instance ban then group ban, 4 deleted group, 5 the action's
    own rules (moderators only; for a reply the thread before the post answered)."""
    async with scene.ctx.pool.acquire() as conn:
        anna_account = await account_store.by_actor(conn, scene.anna.id)
        assert anna_account is not None
        await moderation_store.update_group_profile(conn, scene.group.id,
                                                    posting_restricted_to_mods=True)
        await post_store.set_locked(conn, scene.thread.id, True)
        await post_store.set_removed(conn, scene.reply.id, reason="Werbung")
    thread, reply = await scene.post(scene.thread), await scene.post(scene.reply)

    async def start(actor: Actor) -> str | None:
        return await scene.code(Action.START_THREAD, actor, group=scene.group)

    assert await start(scene.anna) == "moderators_only"
    assert await scene.code(Action.REPLY, scene.anna, group=scene.group, thread=thread,
                            post=reply) == "thread_locked"
    async with scene.ctx.pool.acquire() as conn:
        await post_store.set_removed(conn, thread.id, reason="Werbung")
    assert await scene.code(Action.REPLY, scene.anna, group=scene.group,
                            thread=await scene.post(thread), post=reply) == "thread_gone"
    async with scene.ctx.pool.acquire() as conn:
        await actor_store.mark_deleted(conn, scene.group.id)
    assert await start(scene.anna) == "group_gone"
    async with scene.ctx.pool.acquire() as conn:
        await moderation_store.ban(conn, actor_id=scene.anna.id, group_id=scene.group.id)
        await moderation_store.ban(conn, actor_id=scene.eve.id, group_id=scene.group.id)
    assert await start(scene.anna) == "banned_group"
    async with scene.ctx.pool.acquire() as conn:
        await moderation_store.ban(conn, actor_id=scene.anna.id, group_id=None)
        await moderation_store.ban(conn, actor_id=scene.eve.id, group_id=None)
    assert await start(scene.anna) == "banned_instance"
    async with scene.ctx.pool.acquire() as conn:
        await account_store.set_account_status(conn, anna_account.id, "suspended")
        await moderation_store.block_domain(conn, "social.example")
    assert await start(scene.anna) == "account_suspended"
    assert await start(scene.eve) == "domain_blocked"


async def test_require_raises_the_refusal_as_an_error(scene: Scene) -> None:
    async with scene.ctx.pool.acquire() as conn:
        await policy.require(conn, Action.LIKE, scene.anna, group=scene.group,
                             post=scene.reply)  # allowed: nothing raised
        await post_store.set_removed(conn, scene.reply.id, reason="Werbung")
        await moderation_store.ban(conn, actor_id=scene.eve.id, group_id=scene.group.id)
        with pytest.raises(Gone) as gone:
            await policy.require(conn, Action.LIKE, scene.anna, group=scene.group,
                                 post=await post_store.get(conn, scene.reply.id))
        with pytest.raises(Forbidden) as banned:
            await policy.require(conn, Action.FOLLOW, scene.eve, group=scene.group)
    assert (gone.value.status, gone.value.code, gone.value.refusal) == \
        (410, "post_gone", Refusal("post_gone"))
    assert gone.value.to_json() == {"error": "post_gone",
                                    "message": "This post was deleted or removed."}
    assert (banned.value.status, banned.value.code, banned.value.refusal) == \
        (403, "banned", Refusal("banned_group"))


# -- the sentences -------------------------------------------------------------------------

# Every code with the values its sentence names, and the English sentence.
SENTENCES = [
    (Refusal("domain_blocked", {"domain": "social.example"}),
     "The instance social.example is blocked here."),
    (Refusal("account_suspended"), "This account is suspended."),
    (Refusal("account_inactive"), "This account cannot take part yet."),
    (Refusal("email_unconfirmed"), "Please confirm your e-mail address first: open the link "
     "in the mail we sent you. Until then you can read but not write."),
    (Refusal("banned_instance"), "You are banned from this instance."),
    (Refusal("banned_instance", {"reason": "Hetze"}),
     "You are banned from this instance. Reason: Hetze"),
    (Refusal("banned_group"), "You are banned from this group."),
    (Refusal("banned_group", {"reason": "Spam"}), "You are banned from this group. Reason: Spam"),
    (Refusal("terms_not_accepted"), "The terms of use or the privacy policy have changed: "
     "please read and accept the new version before you write again."),
    (Refusal("group_gone"), "This group no longer exists."),
    (Refusal("group_moved", {"target": "https://neu.example/groups/breitband"}),
     "This group has moved to https://neu.example/groups/breitband: please follow it and "
     "write there."),
    (Refusal("moderators_only"), "Only the moderators of this group may start threads in it."),
    (Refusal("thread_gone"), "This thread was deleted or removed."),
    (Refusal("thread_locked"), "This thread is closed: no new replies."),
    (Refusal("post_gone"), "This post was deleted or removed."),
    (Refusal("not_asker"), "Only the person who asked and the moderators of the group may "
     "choose the accepted answer."),
]
SENTENCES += [
    (Refusal("events_moderators_only"),
     "Only the moderators of this group may create and change its events."),
    (Refusal("event_gone"), "This event was deleted."),
    (Refusal("event_cancelled"), "This event was cancelled: no registrations."),
    (Refusal("event_over"), "This event is over: no registrations."),
    (Refusal("registration_closed"), "This event takes no registrations."),
    (Refusal("registration_external"), "Registration for this event is on another website: "
     "follow the link on the event page."),
    (Refusal("registration_deadline"), "The registration deadline for this event has passed."),
    (Refusal("event_full"), "This event is fully booked."),
]
EVENT_RULES = {"events_moderators_only", "event_gone", "event_cancelled", "event_over",
               "registration_closed", "registration_external", "registration_deadline",
               "event_full"}
GONE = {"group_gone", "thread_gone", "post_gone", "event_gone"}


def test_every_code_has_an_english_sentence_and_a_status() -> None:
    assert {r.rule for r, _ in SENTENCES} == policy.RULES
    assert {r.code for r, _ in SENTENCES} == policy.CODES
    for refusal, english in SENTENCES:
        assert refusal.message == english == refusal.text("en")
        assert refusal.status == (410 if refusal.rule in GONE else 403)
        error = refusal.error()
        assert isinstance(error, Gone if refusal.rule in GONE else Forbidden)
        assert (error.status, error.code, error.message, error.refusal) == \
            (refusal.status, refusal.code, english, refusal)


def test_every_sentence_is_german_in_german() -> None:
    catalog = translations("de")
    for refusal, english in SENTENCES:
        german = refusal.text("de")
        assert german != english and "{" not in german, (refusal, german)
        for value in refusal.values.values():
            assert value in german
        # Translated in the catalog, not by a fallback.
        template = catalog.ugettext(policy._SENTENCES[refusal._key][1])
        assert german == template.format(**refusal.values)
    german = {r.rule + ("+" if r.values.get("reason") else ""): r.text("de") for r, _ in SENTENCES}
    assert german["thread_locked"] == \
        "Dieses Thema ist geschlossen: Es sind keine neuen Antworten möglich."
    assert "sperr" not in german["thread_locked"]  # "gesperrt" is for bans (issue 11)
    for code in ("banned_instance", "banned_instance+", "banned_group", "banned_group+"):
        assert "gesperrt" in german[code], code
    assert german["group_gone"] == "Diese Gruppe gibt es nicht mehr."
    assert german["post_gone"] == "Dieser Beitrag wurde gelöscht oder entfernt."
    assert german["thread_gone"] == "Dieses Thema wurde gelöscht oder entfernt."

