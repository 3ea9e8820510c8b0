"""Events of groups (congresses, meetings): create, change, cancel, delete, and who takes
part. Every write and the activities it sends happen in one transaction, as for posts.

A local event is announced by its group like a thread: the organiser's ``Create`` (or
``Update``, ``Delete``) of the ``Event`` is relayed to the group's followers
(fedi/federation/fanout.py: forum software gets the activity embedded, Mastodon an
``Announce`` of the id). Every event has a discussion thread in its group, made with it.

Registration follows Mobilizon's flow: local users register here (``free``: at once,
``restricted``: pending until an organiser decides); remote people send a ``Join``
(fedi/inbound/join.py) and the group answers ``Accept`` or ``Reject`` (with the policy's
sentence). Our users register for a remote event with a ``Join`` to its group and
organiser, pending until their ``Accept`` or ``Reject`` arrives. Who may register is
fedi.forum.policy's to say (REGISTER); who may create and change events too
(CREATE_EVENT). Registered local users get an e-mail at once when time or place change
or the event is cancelled (fedi/forum/events_reminders.py sends the day-before ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fedi.core.context import Context
from fedi.core.errors import Forbidden, NotFound, ValidationFailed
from fedi.core.markup import render_markdown
from fedi.core.outbox import enqueue_activity, new_activity_id
from fedi.core.urls import Urls
from fedi.federation.documents import PUBLIC, activity, strip_context
from fedi.federation.events import event_document, event_url
from fedi.federation.fanout import relay
from fedi.forum import events_mail, policy
from fedi.forum import media as media_service
from fedi.forum import posts as post_service
from fedi.forum.policy import Action, Refusal
from fedi.forum.rejects import reject_fields, translated
from storage import accounts as account_store
from storage import actors as actor_store
from storage import events as event_store
from storage import groups as group_store
from storage.accounts import Account
from storage.actors import Actor
from storage.events import Event, Participant

TITLE_MAX = 200
TEXT_MAX = 20_000
SHORT_MAX = 200
AGENDA_MAX = 100

def N_(message: str) -> str:
    """Mark a message for the catalogs (the pages translate it, fedi/web/messages.py)."""
    return message


_BAD_TIME = "must be an ISO 8601 date and time, such as 2026-03-14T10:00"
_TIME_MESSAGES = {
    "starts_at": N_("starts_at must be an ISO 8601 date and time, such as 2026-03-14T10:00"),
    "ends_at": N_("ends_at must be an ISO 8601 date and time, such as 2026-03-14T10:00"),
    "registration_deadline": N_("registration_deadline must be an ISO 8601 date and time, "
                                "such as 2026-03-14T10:00"),
}
# Fixed forms of the messages built from a field's name (for the catalogs).
MESSAGES = (
    N_("starts_at is required"),
    N_("online_url must be an http(s) URL"),
    N_("external_url must be an http(s) URL"),
    N_("description must be at most 20000 characters"),
    N_("minutes must be at most 20000 characters"),
)

# The Reject of a remote registration an organiser declined (the group's language, with
# English beside it: fedi/forum/rejects.py).
DECLINED = N_("Your registration was declined by the organisers.")

# Changes registered people are told about at once.
_NOTIFY_FIELDS = frozenset({"starts_at", "ends_at", "timezone", "place_name", "street",
                            "postal_code", "locality", "country", "online_url"})


@dataclass(frozen=True)
class Registration:
    """The outcome of registering: ``accepted`` (201) or ``pending`` (202)."""

    participant: Participant
    event: Event


# --- validation -----------------------------------------------------------------------


def _text(value: Any, name: str, *, limit: int = SHORT_MAX, required: bool = False
          ) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string", field=name)
    text: str = value.strip()
    if len(text) > limit:
        raise ValidationFailed(f"{name} must be at most {limit} characters", field=name)
    return text


def _url(value: Any, name: str) -> str | None:
    text = _text(value, name, limit=2000)
    if text is not None and not re.match(r"^https?://[^\s/]+", text):
        raise ValidationFailed(f"{name} must be an http(s) URL", field=name)
    return text


def check_timezone(value: Any) -> str:
    if value is None:
        return "Europe/Berlin"
    if not isinstance(value, str) or value not in available_timezones():
        raise ValidationFailed(N_("unknown time zone: use an IANA name such as "
                                  "Europe/Berlin"), field="timezone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(N_("unknown time zone: use an IANA name such as "
                                  "Europe/Berlin"), field="timezone") from None
    return value


def _moment(value: Any, name: str, timezone: str, *, required: bool = False
            ) -> datetime | None:
    """An ISO 8601 date-time; without an offset it is read in the event's time zone."""
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(_TIME_MESSAGES.get(name, f"{name}: {_BAD_TIME}"),
                                   field=name) from None
    else:
        raise ValidationFailed(f"{name} must be a string", field=name)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in choices:
        raise ValidationFailed(f"{name} must be one of {', '.join(choices)}", field=name)
    return str(value)


def _agenda(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > AGENDA_MAX:
        raise ValidationFailed(f"agenda must be a list of at most {AGENDA_MAX} items",
                               field="agenda")
    items = []
    for item in value:
        if not isinstance(item, dict):
            raise ValidationFailed("each agenda item is an object with time, title and "
                                   "speaker", field="agenda")
        if not isinstance(item.get("title"), str) or not item["title"].strip():
            raise ValidationFailed(N_("each agenda item needs a title"), field="agenda")
        title = _text(item.get("title"), "agenda")
        items.append({"time": _text(item.get("time"), "agenda", limit=40) or "",
                      "title": title or "",
                      "speaker": _text(item.get("speaker"), "agenda") or ""})
    return items


def check_fields(data: dict[str, Any], *, current: Event | None = None) -> dict[str, Any]:
    """The columns ``data`` (API/form JSON) sets; with ``current`` only those given
    (PATCH), checked against the rest of the event."""
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object")
    partial = current is not None
    out: dict[str, Any] = {}

    def given(key: str) -> bool:
        return not partial or key in data

    if given("timezone"):
        out["timezone"] = check_timezone(data.get("timezone") if "timezone" in data
                                         else None)
    timezone = out.get("timezone") or (current.timezone if current else "Europe/Berlin")
    if given("title"):
        out["title"] = " ".join((_text(data.get("title"), "title", limit=TITLE_MAX,
                                       required=True) or "").split())
    if given("description"):
        source = _text(data.get("description"), "description", limit=TEXT_MAX) or ""
        out["description_source"] = source
        out["description_html"] = render_markdown(source) if source else ""
    if given("starts_at"):
        out["starts_at"] = _moment(data.get("starts_at"), "starts_at", timezone, required=True)
    if given("ends_at"):
        out["ends_at"] = _moment(data.get("ends_at"), "ends_at", timezone)
    if given("place"):
        place = data.get("place") or {}
        if not isinstance(place, dict):
            raise ValidationFailed("place must be an object (name, street, postal_code, "
                                   "locality, region, country)", field="place")
        for key, column in (("name", "place_name"), ("street", "street"),
                            ("postal_code", "postal_code"), ("locality", "locality"),
                            ("region", "region"), ("country", "country")):
            out[column] = _text(place.get(key), f"place.{key}")
    if given("online_url"):
        out["online_url"] = _url(data.get("online_url"), "online_url")
    if given("online_visibility"):
        out["online_visibility"] = _choice(data.get("online_visibility"), "online_visibility",
                                           event_store.ONLINE_VISIBILITY) or "participants"
    if given("status"):
        out["status"] = _choice(data.get("status"), "status",
                                event_store.STATUSES) or "confirmed"
    if given("registration"):
        out["registration"] = _choice(data.get("registration"), "registration",
                                      event_store.REGISTRATION_MODES) or "free"
    if given("external_url"):
        out["external_url"] = _url(data.get("external_url"), "external_url")
    if given("capacity"):
        capacity = data.get("capacity")
        if capacity is not None and (isinstance(capacity, bool)
                                     or not isinstance(capacity, int) or capacity < 0):
            raise ValidationFailed(N_("capacity must be a whole number, 0 or more (or empty: "
                                      "no limit)"), field="capacity")
        out["capacity"] = capacity
    if given("registration_deadline"):
        out["registration_deadline"] = _moment(data.get("registration_deadline"),
                                               "registration_deadline", timezone)
    if given("agenda"):
        out["agenda"] = _agenda(data.get("agenda"))
    if "minutes" in data:
        minutes = _text(data.get("minutes"), "minutes", limit=TEXT_MAX)
        out["minutes_source"] = minutes
        out["minutes_html"] = render_markdown(minutes) if minutes else None
    if partial and not out:
        raise ValidationFailed(N_("nothing to change"))

    # Rules across fields, on the event as it would be.
    def final(key: str) -> Any:
        return out[key] if key in out else getattr(current, key, None)

    starts, ends = final("starts_at"), final("ends_at")
    if starts is not None and ends is not None and ends < starts:
        raise ValidationFailed(N_("the event cannot end before it starts"), field="ends_at")
    if final("registration") == "external" and not final("external_url"):
        raise ValidationFailed(N_("external registration needs external_url"),
                               field="external_url")
    deadline = final("registration_deadline")
    if deadline is not None and starts is not None and ends is None and deadline > starts:
        raise ValidationFailed(N_("the registration deadline must not be after the start"),
                               field="registration_deadline")
    return out


# --- helpers ----------------------------------------------------------------------------


async def get_event(ctx: Context, event_id: int) -> Event:
    async with ctx.pool.acquire() as conn:
        event = await event_store.get(conn, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    return event


async def is_organiser(conn: Any, actor: Actor | None, event: Event) -> bool:
    """The organiser, a moderator of the event's (local) group, or an admin."""
    if actor is None or not actor.local:
        return False
    if event.organiser_id == actor.id and event.local:
        return True
    if event.group_id is not None and event.local and await group_store.is_moderator(
            conn, event.group_id, actor.id):
        return True
    account = await _account(conn, actor)
    return account is not None and account.role == "admin"


async def _account(conn: Any, actor: Actor) -> Account | None:
    return await account_store.by_actor(conn, actor.id)


async def _group_of(conn: Any, event: Event) -> Actor | None:
    return await actor_store.get(conn, event.group_id) if event.group_id else None


async def document_for(conn: Any, ctx: Context, event: Event) -> dict[str, Any]:
    group = await _group_of(conn, event)
    organiser = await actor_store.get(conn, event.organiser_id) if event.organiser_id else None
    return event_document(event, group=group, organiser=organiser,
                          urls=Urls(ctx.settings.base_url))


async def _publish(conn: Any, ctx: Context, event: Event, kind: str) -> None:
    """The organiser's Create/Update/Delete of the event, relayed by the group."""
    group = await _group_of(conn, event)
    organiser = await actor_store.get(conn, event.organiser_id) if event.organiser_id else None
    author = organiser if organiser is not None and organiser.local else group
    if author is None or not author.local:
        return
    doc = (await document_for(conn, ctx, event) if kind != "Delete"
           else {"id": event.ap_id, "type": "Tombstone", "formerType": "Event"})
    cc = [group.ap_id] + ([group.followers_url] if group and group.followers_url else []) \
        if group else []
    inner = activity(new_activity_id(ctx), kind, author, strip_context(doc), to=[PUBLIC],
                     cc=cc, audience=group.ap_id if group else None)
    inboxes: list[str] = []
    if group is not None and group.local and group.deleted_at is None:
        inboxes = await relay(conn, ctx, group=group, inner=inner, author=author,
                              object_id=event.ap_id)
    await enqueue_activity(conn, ctx, actor=author, activity=inner, inboxes=inboxes)


# --- events -----------------------------------------------------------------------------


async def create_event(ctx: Context, *, organiser: Actor, group: Actor,
                       data: dict[str, Any]) -> Event:
    """A new event of a local group, with its discussion thread; ``media_ids`` in
    ``data``: the organiser's uploads to attach (as for posts, fedi/forum/media.py)."""
    values = check_fields({k: v for k, v in data.items() if k != "media_ids"}
                          if isinstance(data, dict) else data)
    if not group.local:
        raise ValidationFailed(N_("events are created in groups of this instance"),
                               field="group")
    media_ids = data.get("media_ids") or []
    async with ctx.pool.acquire() as conn:
        await policy.require(conn, Action.CREATE_EVENT, organiser, group=group)
        # The files checked before the thread is made (and again when attached).
        await media_service.event_attachments(conn, ctx, owner=organiser,
                                              media_ids=media_ids, event_id=None)
        event_id = await event_store.next_id(conn)
    urls = Urls(ctx.settings.base_url)
    ap_id = event_url(urls, event_id)
    # The discussion thread first (its own transaction and Create): it links the event.
    intro = (values.get("description_source") or "").strip()
    body = (f"Diskussion zur Veranstaltung [{values['title']}]({ap_id})"
            + (f"\n\n{intro}" if intro else ""))
    thread = await post_service.create_thread(ctx, author=organiser, group=group,
                                              title=values["title"], content=body[:20_000])
    async with ctx.pool.acquire() as conn, conn.transaction():
        files, attachments = await media_service.event_attachments(
            conn, ctx, owner=organiser, media_ids=media_ids, event_id=None)
        event = await event_store.insert(conn, {
            **values, "ap_id": ap_id, "local": True, "group_id": group.id,
            "organiser_id": organiser.id, "url": ap_id, "thread_id": thread.id,
            "attachments": attachments,
        }, event_id=event_id)
        await media_service.link_event(conn, event.id, files)
        await _publish(conn, ctx, event, "Create")
    return event


async def update_event(ctx: Context, *, actor: Actor, event: Event,
                       data: dict[str, Any]) -> Event:
    """Change (or cancel, ``status: cancelled``) a local event: Update sent, SEQUENCE
    bumped, registered people told at once when time, place or status change.
    ``media_ids`` (a list) replaces the attached uploads; absent keeps them."""
    if not event.local:
        raise Forbidden("this event belongs to another server: change it there")
    if event.deleted_at is not None:
        raise Refusal("event_gone").error()
    media_ids = data.get("media_ids") if isinstance(data, dict) else None
    rest = ({k: v for k, v in data.items() if k != "media_ids"}
            if isinstance(data, dict) else data)
    values = check_fields(rest, current=event) if rest or media_ids is None else {}
    released: list[int] = []
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _require_organiser(conn, actor, event)
        if media_ids is not None:
            # The uploads are the caller's (an organiser may replace files others added:
            # the ones the event keeps need not be theirs).
            files, values["attachments"] = await _changed_files(conn, ctx, actor, event,
                                                                media_ids)
            released = await media_service.link_event(conn, event.id, files)
        updated = await event_store.update(conn, event.id, values)
        await _publish(conn, ctx, updated, "Update")
        changed = {k for k, v in values.items() if getattr(event, k) != v}
        if updated.status == "cancelled" and event.status != "cancelled":
            await events_mail.tell_participants(conn, ctx, updated, "cancelled")
        elif changed & _NOTIFY_FIELDS:
            await events_mail.tell_participants(conn, ctx, updated, "changed")
    if released:
        await media_service.delete_unused(ctx, released)
    return updated


async def _changed_files(conn: Any, ctx: Context, actor: Actor, event: Event,
                         media_ids: Any) -> tuple[list[int], list[dict[str, Any]]]:
    """The event's new files: those it has already stay as they are (whoever uploaded
    them); the new ones must be ``actor``'s own, as for posts."""
    ids = media_service.check_ids(media_ids)
    kept = {a["media_id"]: a for a in event.attachments
            if isinstance(a, dict) and isinstance(a.get("media_id"), int)}
    new_ids, items = await media_service.event_attachments(
        conn, ctx, owner=actor, media_ids=[m for m in ids if m not in kept],
        event_id=event.id)
    fresh = dict(zip(new_ids, items, strict=True))
    return ids, [kept[m] if m in kept else fresh[m] for m in ids]


async def delete_event(ctx: Context, *, actor: Actor, event: Event) -> None:
    if not event.local:
        raise Forbidden("this event belongs to another server: change it there")
    if event.deleted_at is not None:
        raise Refusal("event_gone").error()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _require_organiser(conn, actor, event)
        if event.status != "cancelled" and (event.ends_at or event.starts_at) > datetime.now(UTC):
            await events_mail.tell_participants(conn, ctx, event, "cancelled")
        await event_store.mark_deleted(conn, event.id)
        released = await media_service.release_event(conn, event.id)
        await _publish(conn, ctx, event, "Delete")
    # Its files go too, unless a post, another event or an actor uses them.
    await media_service.delete_unused(ctx, released)


async def _require_organiser(conn: Any, actor: Actor, event: Event) -> None:
    group = await _group_of(conn, event)
    if not await is_organiser(conn, actor, event):
        if group is not None:
            await policy.require(conn, Action.CREATE_EVENT, actor, group=group)
        raise Refusal("events_moderators_only").error()
    # Organisers are still subject to bans and the like.
    await policy.require(conn, Action.FOLLOW, actor, group=group)


# --- participation ----------------------------------------------------------------------


async def register(ctx: Context, *, actor: Actor, event: Event,
                   message: str | None = None) -> Registration:
    """A local user registers: for a local event here and now, for a remote one by a
    Join (pending until its Accept)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        locked = await event_store.get_for_update(conn, event.id)
        group = await _group_of(conn, event)
        current = await event_store.participant(conn, event.id, actor.id)
        if current is not None and current.state in ("accepted", "pending"):
            return Registration(current, locked or event)
        await policy.require(conn, Action.REGISTER, actor, group=group, event=locked)
        assert locked is not None
        if not locked.local:
            participant = await _join_remote(conn, ctx, actor, locked, message)
            return Registration(participant, locked)
        state = "accepted" if locked.registration == "free" else "pending"
        participant = await event_store.set_participant(
            conn, event_id=locked.id, actor_id=actor.id, state=state, message=message)
        updated = await _recounted(conn, ctx, locked)
    return Registration(participant, updated)


async def _join_remote(conn: Any, ctx: Context, actor: Actor, event: Event,
                       message: str | None) -> Participant:
    join_id = new_activity_id(ctx)
    group = await _group_of(conn, event)
    organiser = await actor_store.get(conn, event.organiser_id) if event.organiser_id else None
    to = [a.ap_id for a in (organiser, group) if a is not None]
    join: dict[str, Any] = activity(join_id, "Join", actor, event.ap_id, to=to, cc=[])
    if message:
        join["participationMessage"] = message
    inboxes = [a.delivery_inbox for a in (group, organiser)
               if a is not None and not a.local and a.delivery_inbox]
    await enqueue_activity(conn, ctx, actor=actor, activity=join, inboxes=inboxes,
                           public=False)
    return await event_store.set_participant(conn, event_id=event.id, actor_id=actor.id,
                                             state="pending", join_ap_id=join_id,
                                             message=message)


async def cancel_registration(ctx: Context, *, actor: Actor, event: Event) -> bool:
    """Withdraw a registration (False: there was none). A remote event gets a Leave."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        current = await event_store.participant(conn, event.id, actor.id)
        if current is None or current.state not in ("accepted", "pending"):
            return False
        await event_store.set_state(conn, current.id, "cancelled")
        if event.local:
            await _recounted(conn, ctx, event)
        else:
            group = await _group_of(conn, event)
            organiser = (await actor_store.get(conn, event.organiser_id)
                         if event.organiser_id else None)
            leave = activity(new_activity_id(ctx), "Leave", actor, event.ap_id,
                             to=[a.ap_id for a in (organiser, group) if a is not None], cc=[])
            inboxes = [a.delivery_inbox for a in (group, organiser)
                       if a is not None and not a.local and a.delivery_inbox]
            await enqueue_activity(conn, ctx, actor=actor, activity=leave, inboxes=inboxes,
                                   public=False)
    return True


async def send_updates_for_media(conn: Any, ctx: Context, media_id: int) -> None:
    """After the alt text of upload ``media_id`` changed (in ``conn``'s transaction): an
    Update of every live local event showing it (:mod:`fedi.forum.media_alt`)."""
    for event_id in await media_service.events_using(conn, media_id):
        event = await event_store.get(conn, event_id)
        if event is not None and event.local and event.deleted_at is None:
            await _publish(conn, ctx, event, "Update")


async def _recounted(conn: Any, ctx: Context, event: Event) -> Event:
    """Store the new participant count; a local event's Update tells the followers."""
    before = event.participant_count
    count = await event_store.recount(conn, event.id)
    fresh = await event_store.get(conn, event.id)
    assert fresh is not None
    if event.local and count != before and fresh.deleted_at is None:
        await _publish(conn, ctx, fresh, "Update")
    return fresh


async def participants(ctx: Context, *, actor: Actor, event: Event
                       ) -> list[event_store.ParticipantWithActor]:
    async with ctx.pool.acquire() as conn:
        if not await is_organiser(conn, actor, event):
            raise Forbidden("only the organisers see who registered", code="forbidden")
        return await event_store.participants(conn, event.id)


async def decide(ctx: Context, *, actor: Actor, event: Event, participant_id: int,
                 accept: bool) -> Participant:
    """An organiser approves or rejects a registration. A remote participant's Join gets
    the group's Accept or Reject. Approving past the capacity is refused."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await is_organiser(conn, actor, event):
            raise Forbidden("only the organisers approve or reject registrations")
        locked = await event_store.get_for_update(conn, event.id)
        found = await event_store.participant_by_id(conn, participant_id)
        if locked is None or found is None or found.event_id != event.id:
            raise NotFound(f"no registration {participant_id} for this event")
        if accept and found.state != "accepted":
            refused = policy.event_refusal(locked)
            if refused is not None and refused.rule == "event_full":
                raise refused.error()
        state = "accepted" if accept else "rejected"
        changed = await event_store.set_state(conn, found.id, state)
        participant_actor = await actor_store.get(conn, found.actor_id)
        group = await _group_of(conn, locked)
        if (participant_actor is not None and not participant_actor.local
                and group is not None and found.state != state):
            join = {"id": found.join_ap_id, "type": "Join", "actor": participant_actor.ap_id,
                    "object": locked.ap_id} if found.join_ap_id else None
            if join is not None:
                await answer_join(conn, ctx, group=group, to=participant_actor, join=join,
                                  accept=accept,
                                  reason=None if accept else translated(DECLINED))
        await _recounted(conn, ctx, locked)
    return changed


async def answer_join(conn: Any, ctx: Context, *, group: Actor, to: Actor,
                      join: dict[str, Any], accept: bool,
                      reason: Callable[[str], str] | None) -> None:
    """The group's Accept or Reject of a remote Join (embedded as received). ``reason``
    (the sentence in a language: ``Refusal.text``, ``translated(...)``) goes into
    ``summary``/``content`` in the group's language, with ``contentMap``/``summaryMap``
    {language, "en"} (fedi/forum/rejects.py), as for the Rejects of posts and Follows."""
    if group.deleted_at is not None:
        return
    fields: dict[str, Any] = {}
    if reason is not None:
        fields = await reject_fields(conn, group, reason)
    answer = activity(new_activity_id(ctx), "Accept" if accept else "Reject", group,
                      strip_context(join), to=[to.ap_id], cc=[], **fields)
    inbox = to.inbox or to.shared_inbox
    await enqueue_activity(conn, ctx, actor=group, activity=answer,
                           inboxes=[inbox] if inbox else [], public=False)


async def receive_join(ctx: Context, *, actor: Actor, event: Event,
                       join: dict[str, Any]) -> Refusal | None:
    """A remote Join of our event: accepted (free), pending (restricted), or refused with
    a Reject saying why (returned)."""
    message = join.get("participationMessage")
    message = message[:2000] if isinstance(message, str) else None
    async with ctx.pool.acquire() as conn, conn.transaction():
        locked = await event_store.get_for_update(conn, event.id)
        group = await _group_of(conn, event)
        assert locked is not None
        if group is None:
            return Refusal("event_gone")
        current = await event_store.participant(conn, event.id, actor.id)
        if current is not None and current.state == "accepted":
            # A repeated Join: accepted again, nothing counted twice.
            await answer_join(conn, ctx, group=group, to=actor, join=join, accept=True,
                              reason=None)
            return None
        refusal = await policy.refusal(conn, Action.REGISTER, actor, group=group, event=locked)
        if refusal is not None:
            await answer_join(conn, ctx, group=group, to=actor, join=join, accept=False,
                              reason=refusal.text)
            return refusal
        state = "accepted" if locked.registration == "free" else "pending"
        await event_store.set_participant(conn, event_id=locked.id, actor_id=actor.id,
                                          state=state, join_ap_id=join.get("id"),
                                          message=message)
        if state == "accepted":
            await answer_join(conn, ctx, group=group, to=actor, join=join, accept=True,
                              reason=None)
            await _recounted(conn, ctx, locked)
    return None


async def receive_leave(ctx: Context, *, actor: Actor, event: Event) -> bool:
    """A remote Leave (or Undo of a Join) of our event."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        current = await event_store.participant(conn, event.id, actor.id)
        if current is None or current.state not in ("accepted", "pending"):
            return False
        await event_store.set_state(conn, current.id, "cancelled")
        await _recounted(conn, ctx, event)
    return True


async def answered(ctx: Context, *, join_ap_id: str, by: Actor, accepted: bool) -> bool:
    """The Accept or Reject of one of our users' Joins arrived (from the event's group or
    organiser): the registration is accepted or rejected. False: no such Join of ours."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = await event_store.participant_by_join(conn, join_ap_id)
        if found is None:
            return False
        event = await event_store.get(conn, found.event_id)
        if event is None or event.local or by.id not in (event.group_id, event.organiser_id):
            return False
        await event_store.set_state(conn, found.id, "accepted" if accepted else "rejected")
    return True
