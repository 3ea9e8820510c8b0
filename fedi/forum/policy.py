"""Who may do what where: the one place that decides whether an actor may start a thread,
reply, like, follow or report in a group.

Every path asks here: the local services (``fedi.forum``, behind the web pages and the
JSON API), the pages (to hide a form that would be refused), and the inbound handlers
(``fedi.inbound``: a ``Reject`` or a refused like). :func:`refusal` answers ``None``
(allowed) or a :class:`Refusal` with a stable code and a sentence for people; the sentence
is an English catalog entry, translated by :meth:`Refusal.text`, so a local user, an API
client and a remote server read the same words.

The rules, checked in this order (the first that applies wins):
1. the actor's domain is blocked (remote actors);
2. the actor's local account is suspended or not active, or (unless the instance turned
   it off) its e-mail address is not confirmed yet (fedi/forum/confirmation.py);
3. the actor is banned from the instance, then from the group;
4. the actor's local account has not accepted a new version of the terms of use or the
   privacy policy (fedi/forum/terms.py says which versions bind whom);
5. the group was deleted;
6. per action: only moderators start threads in a moderators-only group; a reply needs a
   thread that exists, is neither deleted nor removed, and is not closed (locked), and a
   visible post to answer; a like needs a visible post. Reports pass rules 1-2 only: a
   ban ends taking part, but a report is how anyone, banned or not, reaches the
   moderators. Choosing a thread's accepted answer (ACCEPT_ANSWER, fedi/forum/answers.py)
   needs a visible thread and a visible reply in it, and is for the person who asked and
   the group's moderators. Creating or changing a group's events (CREATE_EVENT) is for
   its moderators and the instance's admins; registering (REGISTER) needs an event that
   is live, not cancelled, not over, open for registration here (free or restricted),
   before its deadline and not full (:func:`event_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fedi.core.errors import AppError, Forbidden, Gone
from fedi.core.i18n import gettext
from fedi.forum import confirmation, terms
from storage import accounts as account_store
from storage import groups as group_store
from storage import moderation as moderation_store
from storage import posts as post_store
from storage.actors import Actor
from storage.events import Event
from storage.posts import Post

__all__ = ["Action", "Refusal", "event_refusal", "refusal", "require", "thread_of",
           "thread_refusal"]


class Action(StrEnum):
    START_THREAD = "start_thread"
    REPLY = "reply"
    LIKE = "like"
    FOLLOW = "follow"
    REPORT = "report"
    ACCEPT_ANSWER = "accept_answer"
    CREATE_EVENT = "create_event"  # create, change, cancel an event of a group
    REGISTER = "register"  # register for an event (local users and remote Joins)


def N_(message: str) -> str:
    """Mark a message for the catalog (``pybabel extract -k N_``)."""
    return message


# rule -> (HTTP status, English sentence; {reason} and {domain} are filled in).
_SENTENCES: dict[str, tuple[int, str]] = {
    "domain_blocked": (403, N_("The instance {domain} is blocked here.")),
    "account_suspended": (403, N_("This account is suspended.")),
    "account_inactive": (403, N_("This account cannot take part yet.")),
    "banned_instance": (403, N_("You are banned from this instance.")),
    "banned_instance+reason": (403, N_("You are banned from this instance. Reason: {reason}")),
    "banned_group": (403, N_("You are banned from this group.")),
    "banned_group+reason": (403, N_("You are banned from this group. Reason: {reason}")),
    "email_unconfirmed": (403, N_("Please confirm your e-mail address first: open the link "
                                  "in the mail we sent you. Until then you can read but "
                                  "not write.")),
    "terms_not_accepted": (403, N_("The terms of use or the privacy policy have changed: "
                                   "please read and accept the new version before you "
                                   "write again.")),
    "group_gone": (410, N_("This group no longer exists.")),
    "group_moved": (403, N_("This group has moved to {target}: please follow it and "
                            "write there.")),
    "moderators_only": (403, N_("Only the moderators of this group may start threads in it.")),
    "thread_gone": (410, N_("This thread was deleted or removed.")),
    "thread_locked": (403, N_("This thread is closed: no new replies.")),
    "post_gone": (410, N_("This post was deleted or removed.")),
    "events_moderators_only": (403, N_("Only the moderators of this group may create and "
                                       "change its events.")),
    "event_gone": (410, N_("This event was deleted.")),
    "event_cancelled": (403, N_("This event was cancelled: no registrations.")),
    "event_over": (403, N_("This event is over: no registrations.")),
    "registration_closed": (403, N_("This event takes no registrations.")),
    "registration_external": (403, N_("Registration for this event is on another website: "
                                      "follow the link on the event page.")),
    "registration_deadline": (403, N_("The registration deadline for this event has "
                                      "passed.")),
    "event_full": (403, N_("This event is fully booked.")),
    "not_asker": (403, N_("Only the person who asked and the moderators of the group may "
                          "choose the accepted answer.")),
}
RULES = frozenset(rule for rule in _SENTENCES if "+" not in rule)
# The error code clients see, where it is not the rule's name: the JSON API has always
# answered "banned" for both kinds of ban (the sentence says which).
_CODES = {"banned_instance": "banned", "banned_group": "banned"}
CODES = frozenset(_CODES.get(rule, rule) for rule in RULES)


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: the ``rule`` that applies, its stable error ``code``
    and a sentence for people."""

    rule: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return _CODES.get(self.rule, self.rule)

    @property
    def _key(self) -> str:
        # A ban with a reason names it.
        with_reason = f"{self.rule}+reason"
        return with_reason if self.values.get("reason") and with_reason in _SENTENCES \
            else self.rule

    @property
    def status(self) -> int:
        return _SENTENCES[self._key][0]

    @property
    def message(self) -> str:
        """The English sentence (the API's and a Reject's)."""
        return self.text("en")

    def text(self, lang: str) -> str:
        return gettext(lang, _SENTENCES[self._key][1]).format(**self.values)

    def error(self) -> AppError:
        """The application error carrying this refusal (403, or 410 for what is gone)."""
        kind: type[AppError] = Gone if self.status == 410 else Forbidden
        error = kind(self.message, code=self.code)
        error.refusal = self
        return error


async def refusal(conn: Any, action: Action, actor: Actor, *, group: Actor | None = None,
                  thread: Post | None = None, post: Post | None = None,
                  event: Event | None = None) -> Refusal | None:
    """Why ``actor`` may not do ``action`` (None: it may).

    ``group`` is where it happens (None: only instance-wide rules apply); ``thread`` is the
    thread a reply goes into; ``post`` the post a like is for, or the one a reply answers.
    """
    if not actor.local and await moderation_store.is_domain_blocked(conn, actor.domain):
        return Refusal("domain_blocked", {"domain": actor.domain})
    account = None
    if actor.local and actor.type == "Person":
        account = await account_store.by_actor(conn, actor.id)
        if account is not None and account.status != "active":
            code = "account_suspended" if account.status == "suspended" else "account_inactive"
            return Refusal(code)
        if account is not None and await confirmation.writing_blocked(conn, account):
            return Refusal("email_unconfirmed")
    if action is Action.REPORT:
        return None
    ban = await moderation_store.active_ban(conn, actor.id, group.id if group else None)
    if ban is not None:
        code = "banned_instance" if ban.group_id is None else "banned_group"
        return Refusal(code, {"reason": ban.reason} if ban.reason else {})
    if account is not None and await terms.due(conn, account):
        return Refusal("terms_not_accepted")
    if group is not None and group.deleted_at is not None:
        return Refusal("group_gone")
    if group is not None and group.moved_to:
        # A group that moved (FEP-7628): ours (fedi/forum/group_move.py) or another
        # instance's (its document's movedTo, fedi/inbound/move.py) takes part no more.
        return Refusal("group_moved", {"target": group.moved_to})
    if (action is Action.START_THREAD and group is not None and group.local
            and group.posting_restricted_to_mods
            and not await group_store.is_moderator(conn, group.id, actor.id)):
        return Refusal("moderators_only")
    if action is Action.REPLY:
        return thread_refusal(thread) or _post_refusal(post)
    if action is Action.LIKE:
        return _post_refusal(post)
    if action is Action.ACCEPT_ANSWER:
        return await _accept_refusal(conn, actor, group=group, thread=thread, post=post)
    if (action is Action.CREATE_EVENT and group is not None and group.local
            and not await group_store.is_moderator(conn, group.id, actor.id)
            and not (account is not None and account.role == "admin")):
        return Refusal("events_moderators_only")
    if action is Action.REGISTER:
        return event_refusal(event)
    return None


def event_refusal(event: Event | None, *, now: datetime | None = None) -> Refusal | None:
    """Why nobody may register for ``event`` now (None: they may): deleted, cancelled,
    over, no registration here, the deadline passed, or full (accepted participants
    reached the capacity)."""
    moment = now or datetime.now(UTC)
    if event is None or event.deleted_at is not None:
        return Refusal("event_gone")
    if event.status == "cancelled":
        return Refusal("event_cancelled")
    if (event.ends_at or event.starts_at) < moment:
        return Refusal("event_over")
    if event.registration == "external":
        return Refusal("registration_external")
    if event.registration not in ("free", "restricted"):
        return Refusal("registration_closed")
    if event.registration_deadline is not None and event.registration_deadline < moment:
        return Refusal("registration_deadline")
    if event.capacity is not None and event.participant_count >= event.capacity:
        return Refusal("event_full")
    return None


async def _accept_refusal(conn: Any, actor: Actor, *, group: Actor | None,
                          thread: Post | None, post: Post | None) -> Refusal | None:
    """The asker (the thread's author) or a moderator of the group, on a visible reply
    of a visible thread."""
    if thread is None or thread.deleted_at is not None or thread.removed_at is not None:
        return Refusal("thread_gone")
    refused = _post_refusal(post)
    if refused is not None:
        return refused
    if actor.id == thread.author_id:
        return None
    if group is not None and await group_store.is_moderator(conn, group.id, actor.id):
        return None
    return Refusal("not_asker")


def _post_refusal(post: Post | None) -> Refusal | None:
    """A deleted or removed post takes no likes and no replies."""
    if post is not None and not post.visible:
        return Refusal("post_gone")
    return None


def thread_refusal(thread: Post | None) -> Refusal | None:
    """Why no reply may be added to ``thread`` now (None: it may)."""
    if thread is None or thread.deleted_at is not None or thread.removed_at is not None:
        return Refusal("thread_gone")
    if thread.locked:
        return Refusal("thread_locked")
    return None


async def require(conn: Any, action: Action, actor: Actor, *, group: Actor | None = None,
                  thread: Post | None = None, post: Post | None = None,
                  event: Event | None = None) -> None:
    """Raise the refusal's error (403 or 410) when ``actor`` may not do ``action``."""
    found = await refusal(conn, action, actor, group=group, thread=thread, post=post,
                          event=event)
    if found is not None:
        raise found.error()


async def thread_of(conn: Any, post: Post) -> Post | None:
    """The thread ``post`` belongs to (the post itself for a thread)."""
    if post.thread_id is None or post.thread_id == post.id:
        return post
    return await post_store.get(conn, post.thread_id)
