"""Events and participants as API JSON (the shapes ``api_events_spec`` documents), and
the read side the pages share: the online link only for those who may see it."""

from __future__ import annotations

from typing import Any

from fedi.core.times import iso
from fedi.core.urls import Urls
from fedi.federation.events import event_url
from storage import actors as actor_store
from storage import events as event_store
from storage.actors import Actor
from storage.events import Event, ParticipantWithActor


def place_view(event: Event) -> dict[str, Any] | None:
    if not event.in_person:
        return None
    return {"name": event.place_name, "street": event.street,
            "postal_code": event.postal_code, "locality": event.locality,
            "region": event.region, "country": event.country}


def online_link_for(event: Event, *, participant_state: str | None, organiser: bool
                    ) -> str | None:
    """The online link: public, or for accepted participants and organisers."""
    if not event.online_url:
        return None
    if event.online_visibility == "public" or organiser or participant_state == "accepted":
        return event.online_url
    return None


async def event_view(conn: Any, event: Event, *, urls: Urls, viewer: Actor | None = None,
                     organiser: bool = False) -> dict[str, Any]:
    group = await actor_store.get(conn, event.group_id) if event.group_id else None
    owner = await actor_store.get(conn, event.organiser_id) if event.organiser_id else None
    mine = (await event_store.participant(conn, event.id, viewer.id)
            if viewer is not None else None)
    state = mine.state if mine is not None else None
    return {
        "id": event.id,
        "ap_id": event.ap_id,
        "url": event_url(urls, event.id),
        "local": event.local,
        "group": group.handle if group else None,
        "organiser": owner.handle if owner else None,
        "title": event.title,
        "description": event.description_source,
        "description_html": event.description_html,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "timezone": event.timezone,
        "place": place_view(event),
        "online": bool(event.online_url),
        "online_url": online_link_for(event, participant_state=state, organiser=organiser),
        "online_visibility": event.online_visibility,
        "status": event.status,
        "registration": event.registration,
        "external_url": event.external_url,
        "capacity": event.capacity,
        "remaining": event.remaining,
        "registration_deadline": iso(event.registration_deadline),
        "agenda": event.agenda,
        "attachments": event.attachments,
        "minutes": event.minutes_source,
        "thread_id": event.thread_id,
        "participant_count": event.participant_count,
        "sequence": event.sequence,
        "my_participation": state,
        "published": iso(event.published),
        "updated_at": iso(event.updated_at),
        "ics": f"{event_url(urls, event.id)}.ics",
    }


def participant_view(item: ParticipantWithActor) -> dict[str, Any]:
    return {
        "id": item.participant.id,
        "actor": item.actor.handle,
        "ap_id": item.actor.ap_id,
        "name": item.actor.name or item.actor.username,
        "local": item.actor.local,
        "state": item.participant.state,
        "message": item.participant.message,
        "created_at": iso(item.participant.created_at),
    }
