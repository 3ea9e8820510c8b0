"""Events as ActivityPub ``Event`` documents, in Mobilizon's shape (civic-anchors.md §5),
and the reverse: the fields of a remote ``Event`` (Mobilizon, Gancio, another dEMiSA) as
the columns we store.

Our document: ``attributedTo`` the group (Mobilizon's rule for group events; the
organiser is ``actor``), ``name``, ``content`` (HTML) with the Markdown ``source``,
``startTime``/``endTime`` in the event's own offset and its IANA ``timezone``,
``location`` a ``Place`` with a ``PostalAddress``, ``isOnline``, ``joinMode``
(free/restricted/external/invite, where our "none" is sent as ``invite``: nobody can
join by a Join), ``externalParticipationUrl``, ``maximumAttendeeCapacity``,
``remainingAttendeeCapacity``, ``participantCount``, ``ical:status`` and ``status``,
``context`` the discussion thread's context collection. The online link is put in an
``attachment`` Link named "Website" (as Mobilizon does) only when it is public; the
uploads (migration 0034) are ``Image``/``Document`` attachments beside it, as for posts.
A remote Event's ``Image``/``Document`` attachments (Mobilizon's banner is a
``Document`` of an image type) are kept in ``events.attachments``.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from activitypub import vocab
from fedi.core.markup import sanitize_html
from fedi.core.times import iso
from fedi.core.urls import Urls
from fedi.federation.documents import AS, PUBLIC, attachment_documents
from storage.actors import Actor
from storage.events import Event

__all__ = ["EVENT_CONTEXT", "event_document", "event_fields", "event_url", "local_time",
           "summary_line", "zone"]

# Mobilizon's JSON-LD terms for the fields we send (lib/federation/activity_pub/utils.ex).
EVENT_CONTEXT: list[Any] = [
    AS,
    {
        "sc": "http://schema.org#",
        "mz": "https://joinmobilizon.org/ns#",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "toot": "http://joinmastodon.org/ns#",
        "Hashtag": "as:Hashtag",
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressCountry": "sc:addressCountry",
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "postalCode": "sc:postalCode",
        "streetAddress": "sc:streetAddress",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
        "joinModeType": {"@id": "mz:joinModeType", "@type": "rdfs:Class"},
        "externalParticipationUrl": {"@id": "mz:externalParticipationUrl",
                                     "@type": "sc:URL"},
        "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
        "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
        "participationMessage": {"@id": "mz:participationMessage", "@type": "sc:Text"},
        "inLanguage": "sc:inLanguage",
        "uuid": "sc:identifier",
    },
]

_JOIN_MODES = {"free": "free", "restricted": "restricted", "external": "external",
               "none": "invite"}
_FROM_JOIN_MODE = {"free": "free", "restricted": "restricted", "external": "external",
                   "invite": "none"}


def event_url(urls: Urls, event_id: int) -> str:
    return f"{urls.base}/events/{event_id}"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, timezone: str | None) -> datetime:
    """``moment`` in the event's own time zone."""
    return moment.astimezone(zone(timezone))


def _iso_local(moment: datetime | None, timezone: str) -> str | None:
    if moment is None:
        return None
    return local_time(moment, timezone).isoformat()


def _place(event: Event, urls: Urls) -> dict[str, Any] | None:
    if not event.in_person:
        return None
    address = {"type": "PostalAddress", "streetAddress": event.street or "",
               "postalCode": event.postal_code or "", "addressLocality": event.locality or "",
               "addressRegion": event.region or "", "addressCountry": event.country or ""}
    place: dict[str, Any] = {"type": "Place", "name": event.place_name or event.locality or "",
                             "address": address}
    if event.local:
        place["id"] = f"{event_url(urls, event.id)}#place"
    if event.latitude is not None and event.longitude is not None:
        place["latitude"] = event.latitude
        place["longitude"] = event.longitude
    return place


def summary_line(event: Event) -> str:
    """Place and time in one line, for microblog software (Mobilizon's ``summary``)."""
    start = local_time(event.starts_at, event.timezone)
    where = event.place_name or event.locality or ("online" if event.online_url else "")
    parts = [start.strftime("%Y-%m-%d %H:%M"), event.timezone]
    if where:
        parts.append(where)
    return ", ".join(parts)


def event_document(event: Event, *, group: Actor | None, organiser: Actor | None,
                   urls: Urls) -> dict[str, Any]:
    """Our event as an ActivityPub ``Event`` (with its @context)."""
    ap_id = event.ap_id
    status = event.status.upper()
    cc: list[str] = []
    if group is not None:
        cc.append(group.ap_id)
        if group.followers_url:
            cc.append(group.followers_url)
    doc: dict[str, Any] = {
        "id": ap_id,
        "type": "Event",
        "url": event.url or ap_id,
        "uuid": str(event.id),
        "name": event.title,
        "content": event.description_html,
        "mediaType": "text/html",
        "summary": html.escape(summary_line(event)),
        "startTime": _iso_local(event.starts_at, event.timezone),
        "timezone": event.timezone,
        "to": [PUBLIC],
        "cc": cc,
        "published": iso(event.published),
        "updated": iso(event.updated_at),
        "isOnline": bool(event.online_url),
        "joinMode": _JOIN_MODES.get(event.registration, "free"),
        "participantCount": event.participant_count,
        "ical:status": status,
        "status": status,
        "commentsEnabled": event.thread_id is not None,
    }
    if event.ends_at is not None:
        doc["endTime"] = _iso_local(event.ends_at, event.timezone)
    if event.description_source is not None:
        doc["source"] = {"content": event.description_source, "mediaType": "text/markdown"}
    if group is not None:
        doc["attributedTo"] = group.ap_id
        doc["audience"] = group.ap_id
    elif organiser is not None:
        doc["attributedTo"] = organiser.ap_id
    if organiser is not None:
        doc["actor"] = organiser.ap_id
        doc["contacts"] = [organiser.ap_id]
    place = _place(event, urls)
    if place is not None:
        doc["location"] = place
    if event.capacity is not None:
        doc["maximumAttendeeCapacity"] = event.capacity
        doc["remainingAttendeeCapacity"] = event.remaining
    if event.registration == "external" and event.external_url:
        doc["externalParticipationUrl"] = event.external_url
    attachment = attachment_documents(event.attachments or [])
    if event.online_url and event.online_visibility == "public":
        attachment.append({"type": "Link", "name": "Website", "href": event.online_url,
                           "mediaType": "text/html"})
    if attachment:
        doc["attachment"] = attachment
    if event.thread_id is not None:
        doc["context"] = urls.context(event.thread_id)
        doc["replies"] = urls.context(event.thread_id)
    return {"@context": EVENT_CONTEXT, **doc}


# --- reading remote events ---------------------------------------------------------------

_MAX_TEXT = 20_000


def _text(value: Any, limit: int = 500) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _capacity(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None  # Mobilizon sends 0 for "no limit"
    return value


def _http(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value[:2000]
    return None


def event_fields(obj: vocab.APObject) -> dict[str, Any]:
    """The columns of a remote ``Event``. Raises ValueError when it has no start time."""
    raw = obj.to_json()
    if obj.start_time is None:
        raise ValueError("the Event has no startTime")
    timezone = raw.get("timezone") if isinstance(raw.get("timezone"), str) else None
    if timezone is None or zone(timezone).key != timezone:
        timezone = "UTC"
    starts = obj.start_time if obj.start_time.tzinfo else obj.start_time.replace(tzinfo=UTC)
    ends = obj.end_time
    if ends is not None and ends.tzinfo is None:
        ends = ends.replace(tzinfo=UTC)
    if ends is not None and ends < starts:
        ends = None
    location = raw.get("location")
    if isinstance(location, list):
        location = next((x for x in location if isinstance(x, dict)), None)
    place: dict[str, Any] = {}
    if isinstance(location, dict):
        address = location.get("address")
        place["place_name"] = _text(location.get("name"))
        if isinstance(address, dict):
            place.update(street=_text(address.get("streetAddress")),
                         postal_code=_text(address.get("postalCode"), 40),
                         locality=_text(address.get("addressLocality")),
                         region=_text(address.get("addressRegion")),
                         country=_text(address.get("addressCountry")))
        elif isinstance(address, str):  # Gancio: the address as plain text
            place["street"] = _text(address)
        place.update(latitude=_number(location.get("latitude")),
                     longitude=_number(location.get("longitude")))
    online = None
    for item in raw.get("attachment") or []:
        if isinstance(item, dict) and item.get("type") == "Link":
            online = _http(item.get("href"))
            if online:
                break
    files = _files(obj)
    status = raw.get("ical:status") or raw.get("status")
    status = status.lower() if isinstance(status, str) else "confirmed"
    if status not in ("tentative", "confirmed", "cancelled"):
        status = "confirmed"
    mode = raw.get("joinMode")
    registration = _FROM_JOIN_MODE.get(mode, "none") if isinstance(mode, str) else "none"
    content = obj.content or ""
    return {
        "title": _text(obj.name, 300) or "(ohne Titel)",
        "description_html": sanitize_html(content[:_MAX_TEXT]),
        "starts_at": starts,
        "ends_at": ends,
        "timezone": timezone,
        **place,
        "online_url": online,
        "online_visibility": "public",
        "status": status,
        "registration": registration,
        "external_url": _http(raw.get("externalParticipationUrl")),
        "capacity": _capacity(raw.get("maximumAttendeeCapacity")),
        "participant_count": max(int(raw["participantCount"]), 0)
        if isinstance(raw.get("participantCount"), int)
        and not isinstance(raw.get("participantCount"), bool) else 0,
        "url": obj.url or obj.id,
        "raw": raw,
        "attachments": files,
    }


_MAX_FILES = 20


def _files(obj: vocab.APObject) -> list[dict[str, Any]]:
    """The ``events.attachments`` items (the shape of posts.attachments) of a remote
    Event: its attachments but Links (the online link); odd values are dropped."""
    found: list[dict[str, Any]] = []
    for a in obj.attachments:
        url = _http(a.url)
        if url is None or a.type == "Link" or len(found) >= _MAX_FILES:
            continue
        found.append({
            "type": a.type[:40],
            "url": url,
            "media_type": a.media_type[:100] if a.media_type else None,
            "name": a.name[:1500] if a.name else None,
            "width": a.width if a.width is not None and 0 < a.width <= 100_000 else None,
            "height": a.height if a.height is not None and 0 < a.height <= 100_000 else None,
            "blurhash": a.blurhash if a.blurhash and len(a.blurhash) <= 100 else None,
        })
    return found
