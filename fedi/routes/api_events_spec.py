"""OpenAPI paths and schemas of fedi/routes/api_events.py (events and registration)."""

from __future__ import annotations

from typing import Any

from fedi.forum.media import FILES_PER_POST
from fedi.routes.api_schemas import (
    BOOL,
    HANDLE,
    INT,
    OPT_INT,
    OPT_STR,
    OPT_TIME,
    STR,
    TIME,
    URI,
    define,
    define_page,
    nullable,
    obj,
    ok,
    operation,
    path_param,
    query_param,
    ref,
)

_PLACE_FIELDS = ("name", "street", "postal_code", "locality", "region", "country")
define("EventPlace", obj({k: OPT_STR for k in _PLACE_FIELDS},
                         description="Where an event takes place in person."))
define("AgendaItem", obj({"time": STR, "title": STR, "speaker": STR},
                         description="One item of an event's agenda, in order."))
_STATUS = {"type": "string", "enum": ["tentative", "confirmed", "cancelled"]}
_MODE = {"type": "string", "enum": ["free", "restricted", "external", "none"],
         "description": "free: anyone registers; restricted: organisers approve; external: "
                        "registration elsewhere (external_url); none: no registration"}
_VISIBILITY = {"type": "string", "enum": ["participants", "public"]}
_STATE = {"type": ["string", "null"],
          "enum": ["pending", "accepted", "rejected", "cancelled", None]}
define("Event", obj({
    "id": INT, "ap_id": URI, "url": URI, "local": BOOL, "group": HANDLE, "organiser": HANDLE,
    "title": STR, "description": {**OPT_STR, "description": "Markdown (local events)"},
    "description_html": STR, "starts_at": TIME, "ends_at": OPT_TIME,
    "timezone": {**STR, "description": "IANA time zone name"},
    "place": nullable(ref("EventPlace")),
    "online": {**BOOL, "description": "whether there is an online link"},
    "online_url": {**OPT_STR, "description": "shown to accepted participants and "
                                             "organisers, or to all when public"},
    "online_visibility": _VISIBILITY, "status": _STATUS, "registration": _MODE,
    "external_url": OPT_STR, "capacity": OPT_INT,
    "remaining": {**OPT_INT, "description": "places left; null: no limit"},
    "registration_deadline": OPT_TIME,
    "agenda": {"type": "array", "items": ref("AgendaItem")},
    "attachments": {"type": "array", "items": ref("Attachment"),
                    "description": "files and pictures (uploads here, or an event's "
                                   "Image/Document attachments from another server)"},
    "minutes": OPT_STR, "thread_id": {**OPT_INT, "description": "the discussion thread"},
    "participant_count": INT, "sequence": {**INT, "description": "iCalendar SEQUENCE"},
    "my_participation": _STATE, "published": TIME, "updated_at": TIME,
    "ics": {**URI, "description": "the event as iCalendar"},
}, description="An event of a group (fedi/forum/events_views.event_view)."))
define_page("EventPage", "Event", one_page=True)
define("EventRequest", {
    "type": "object",
    "description": "An event's fields; all but title and starts_at optional (PATCH: only "
                   "those to change). Times are ISO 8601; without an offset they are read "
                   "in `timezone`.",
    "properties": {
        "title": STR, "description": STR, "starts_at": STR, "ends_at": OPT_STR,
        "timezone": STR, "place": nullable(ref("EventPlace")), "online_url": OPT_STR,
        "online_visibility": _VISIBILITY, "status": _STATUS, "registration": _MODE,
        "external_url": OPT_STR, "capacity": {**OPT_INT, "minimum": 0},
        "registration_deadline": OPT_STR,
        "agenda": {"type": "array", "items": ref("AgendaItem")}, "minutes": OPT_STR,
        "media_ids": {"type": "array", "items": {"type": "integer"},
                      "maxItems": FILES_PER_POST,
                      "description": "uploads (POST /api/v1/media) to attach, in order: your "
                                     "own; when editing, the new list (files the event has "
                                     "may stay, whoever uploaded them; omit to keep them)"},
    },
})
define("ParticipationRequest", {"type": "object", "properties": {
    "message": {**STR, "description": "a note to the organisers"}}})
define("Participation", obj({"state": _STATE, "event": ref("Event")},
                            description="The caller's registration and the event."))
define("Participant", obj({
    "id": INT, "actor": HANDLE, "ap_id": URI, "name": STR, "local": BOOL,
    "state": {"type": "string", "enum": ["pending", "accepted", "rejected", "cancelled"]},
    "message": OPT_STR, "created_at": TIME,
}, description="A registration, as the organisers see it."))
define_page("ParticipantList", "Participant", one_page=True)

_ID = path_param("id", integer=True)
_PID = path_param("pid", integer=True, description="the registration's id")
_REF = path_param("ref", description="group name, or name@host")
_NO_EVENT = "no such event (`not_found`)"
_INVALID = "a field is invalid (`field` says which): end before start, unknown time zone, " \
    "negative capacity, a file not yours or without alt text ..."
_NOT_ORGANISER = "only the organisers (`events_moderators_only`, `forbidden`)"
_REFUSED = ("refused: `event_full`, `event_cancelled`, `event_over`, `registration_closed`, "
            "`registration_external`, `registration_deadline`, `banned` ...")
_GONE = "the event was deleted (`event_gone`)"

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/groups/{ref}/events": {"post": operation(
        "createEvent", "Create an event in a group (moderators)", "events", auth=True,
        params=[_REF], body="EventRequest",
        responses={"201": ok("the new event", "Event"), "403": _NOT_ORGANISER,
                   "404": "no such group (`not_found`)", "410": "the group is gone",
                   "422": _INVALID, "502": "the group's host could not be reached"})},
    "/api/v1/events": {"get": operation(
        "listEvents", "Events: upcoming first, or in a time range, or past", "events",
        params=[query_param("from", "ISO 8601 start of the range", format="date-time"),
                query_param("to", "ISO 8601 end of the range", format="date-time"),
                query_param("group", "only this group's (name or name@host)"),
                query_param("past", "true: past events, latest first")],
        responses={"200": ok("the events, in one page", "EventPage"),
                   "404": "no such group", "422": "bad from, to or group",
                   "502": "the group's host could not be reached"})},
    "/api/v1/events/{id}": {
        "get": operation("getEvent", "An event", "events", params=[_ID],
                         responses={"200": ok("the event", "Event"), "404": _NO_EVENT}),
        "patch": operation(
            "editEvent", "Change or cancel (status: cancelled) an event", "events",
            auth=True, params=[_ID], body="EventRequest",
            responses={"200": ok("the changed event", "Event"), "403": _NOT_ORGANISER,
                       "404": _NO_EVENT, "410": _GONE, "422": _INVALID}),
        "delete": operation(
            "deleteEvent", "Delete an event", "events", auth=True, params=[_ID],
            responses={"204": {"description": "deleted"}, "403": _NOT_ORGANISER,
                       "404": _NO_EVENT, "410": _GONE}),
    },
    "/api/v1/events/{id}/participation": {
        "post": operation(
            "register", "Register for an event", "events", auth=True, params=[_ID],
            body="ParticipationRequest", body_required=False,
            responses={"201": ok("registered", "Participation"),
                       "202": ok("pending: the organisers (or the event's server) decide",
                                 "Participation"),
                       "403": _REFUSED, "404": _NO_EVENT, "410": _GONE}),
        "delete": operation(
            "unregister", "Withdraw your registration", "events", auth=True, params=[_ID],
            responses={"200": ok("withdrawn (state null: there was none)", "Participation"),
                       "404": _NO_EVENT}),
    },
    "/api/v1/events/{id}/participants": {"get": operation(
        "listParticipants", "Who registered (organisers)", "events", auth=True,
        params=[_ID],
        responses={"200": ok("every registration", "ParticipantList"),
                   "403": "only the organisers (`forbidden`)", "404": _NO_EVENT})},
    **{f"/api/v1/events/{{id}}/participants/{{pid}}/{verb}": {"post": operation(
        f"{verb}Participant", f"{verb.title()} a registration (organisers)", "events",
        auth=True, params=[_ID, _PID],
        responses={"200": ok("the registration", "Participant"),
                   "403": "only the organisers (`forbidden`), or full (`event_full`)",
                   "404": "no such event or registration"})}
       for verb in ("approve", "reject")},
}
