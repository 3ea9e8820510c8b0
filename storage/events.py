"""Events of groups (local and remote) and their participants (migration 0016)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.actors import Actor
from storage.rows import maybe_row, to_row

STATUSES = ("tentative", "confirmed", "cancelled")
REGISTRATION_MODES = ("free", "restricted", "external", "none")
PARTICIPANT_STATES = ("pending", "accepted", "rejected", "cancelled")
ONLINE_VISIBILITY = ("participants", "public")

# The columns a service may set (everything but the bookkeeping ones).
EDITABLE = frozenset({
    "title", "description_source", "description_html", "starts_at", "ends_at", "timezone",
    "place_name", "street", "postal_code", "locality", "region", "country", "latitude",
    "longitude", "online_url", "online_visibility", "status", "registration", "external_url",
    "capacity", "registration_deadline", "agenda", "minutes_source", "minutes_html", "url",
    "raw", "organiser_id", "thread_id", "participant_count", "attachments",
})


@dataclass(frozen=True)
class Event:
    id: int
    ap_id: str
    local: bool
    group_id: int | None
    organiser_id: int | None
    url: str | None
    title: str
    description_source: str | None
    description_html: str
    starts_at: datetime
    ends_at: datetime | None
    timezone: str
    place_name: str | None
    street: str | None
    postal_code: str | None
    locality: str | None
    region: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    online_url: str | None
    online_visibility: str
    status: str
    registration: str
    external_url: str | None
    capacity: int | None
    registration_deadline: datetime | None
    agenda: list[dict[str, Any]]
    minutes_source: str | None
    minutes_html: str | None
    thread_id: int | None
    sequence: int
    participant_count: int
    raw: dict[str, Any] | None
    published: datetime
    updated_at: datetime
    deleted_at: datetime | None
    # Files and pictures (migration 0034): the items of posts.attachments.
    attachments: list[dict[str, Any]]

    @property
    def in_person(self) -> bool:
        return bool(self.place_name or self.street or self.locality)

    @property
    def remaining(self) -> int | None:
        """Places left (None: no limit)."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.participant_count, 0)


@dataclass(frozen=True)
class Participant:
    id: int
    event_id: int
    actor_id: int
    state: str
    join_ap_id: str | None
    message: str | None
    created_at: datetime
    updated_at: datetime


def _event(record: Any) -> Event:
    return to_row(Event, dict(record))


def _maybe_event(record: Any) -> Event | None:
    return None if record is None else _event(record)


def _db_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - EDITABLE - {"ap_id", "local", "group_id"}
    if unknown:
        raise ValueError(f"not event columns: {sorted(unknown)}")
    # agenda and raw go in as Python values: the connection's jsonb codec encodes them
    # (migration 0035 turned the once double-encoded rows into documents).
    return dict(values)


async def next_id(conn: Any) -> int:
    return int(await conn.fetchval("SELECT nextval(pg_get_serial_sequence('events', 'id'))"))


async def insert(conn: Any, values: dict[str, Any], *, event_id: int | None = None) -> Event:
    data = _db_values(values)
    if event_id is not None:
        data["id"] = event_id
    columns = list(data)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    record = await conn.fetchrow(
        f"INSERT INTO events ({', '.join(columns)}) VALUES ({placeholders}) RETURNING *",
        *data.values(),
    )
    return _event(record)


async def update(conn: Any, event_id: int, values: dict[str, Any], *,
                 bump: bool = True) -> Event:
    """Change columns; ``bump`` raises the iCalendar SEQUENCE (a change people see)."""
    data = _db_values(values)
    sets = [f"{column} = ${i}" for i, column in enumerate(data, start=2)]
    sets.append("updated_at = now()")
    if bump:
        sets.append("sequence = sequence + 1")
    record = await conn.fetchrow(
        f"UPDATE events SET {', '.join(sets)} WHERE id = $1 RETURNING *",
        event_id, *data.values(),
    )
    return _event(record)


async def mark_deleted(conn: Any, event_id: int) -> None:
    await conn.execute(
        "UPDATE events SET deleted_at = coalesce(deleted_at, now()), updated_at = now(),"
        " sequence = sequence + 1 WHERE id = $1", event_id)


async def get(conn: Any, event_id: int) -> Event | None:
    return _maybe_event(await conn.fetchrow("SELECT * FROM events WHERE id = $1", event_id))


async def get_for_update(conn: Any, event_id: int) -> Event | None:
    return _maybe_event(await conn.fetchrow(
        "SELECT * FROM events WHERE id = $1 FOR UPDATE", event_id))


async def by_ap_id(conn: Any, ap_id: str) -> Event | None:
    return _maybe_event(await conn.fetchrow("SELECT * FROM events WHERE ap_id = $1", ap_id))


async def by_thread(conn: Any, thread_id: int) -> Event | None:
    return _maybe_event(await conn.fetchrow(
        "SELECT * FROM events WHERE thread_id = $1 AND deleted_at IS NULL", thread_id))


async def listing(conn: Any, *, group_id: int | None = None, start: datetime | None = None,
                  end: datetime | None = None, past: bool = False, limit: int = 100
                  ) -> list[Event]:
    """Live events, upcoming first (soonest first), or past ones (latest first). An
    event counts as upcoming until it ends."""
    conditions = ["deleted_at IS NULL"]
    args: list[Any] = []
    if group_id is not None:
        args.append(group_id)
        conditions.append(f"group_id = ${len(args)}")
    if start is not None:
        args.append(start)
        conditions.append(f"coalesce(ends_at, starts_at) >= ${len(args)}")
    if end is not None:
        args.append(end)
        conditions.append(f"starts_at < ${len(args)}")
    if start is None and end is None:
        conditions.append("coalesce(ends_at, starts_at) "
                          + ("< now()" if past else ">= now()"))
    order = "starts_at DESC, id DESC" if past else "starts_at, id"
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT * FROM events WHERE {' AND '.join(conditions)} ORDER BY {order}"
        f" LIMIT ${len(args)}", *args)
    return [_event(r) for r in rows]


async def feed(conn: Any, *, since: datetime, group_id: int | None, limit: int = 1000
               ) -> list[Event]:
    """Events for a calendar feed: ending after ``since``, deleted ones included (the
    feed shows them cancelled), soonest first."""
    rows = await conn.fetch(
        "SELECT * FROM events WHERE coalesce(ends_at, starts_at) >= $1"
        " AND ($2::bigint IS NULL OR group_id = $2) ORDER BY starts_at, id LIMIT $3",
        since, group_id, limit)
    return [_event(r) for r in rows]


# --- participants ------------------------------------------------------------------------


async def participant(conn: Any, event_id: int, actor_id: int) -> Participant | None:
    return maybe_row(Participant, await conn.fetchrow(
        "SELECT * FROM event_participants WHERE event_id = $1 AND actor_id = $2",
        event_id, actor_id))


async def participant_by_id(conn: Any, participant_id: int) -> Participant | None:
    return maybe_row(Participant, await conn.fetchrow(
        "SELECT * FROM event_participants WHERE id = $1", participant_id))


async def participant_by_join(conn: Any, join_ap_id: str) -> Participant | None:
    return maybe_row(Participant, await conn.fetchrow(
        "SELECT * FROM event_participants WHERE join_ap_id = $1", join_ap_id))


async def set_participant(conn: Any, *, event_id: int, actor_id: int, state: str,
                          join_ap_id: str | None = None, message: str | None = None
                          ) -> Participant:
    """Record (or change) someone's registration; a new Join id replaces the old one."""
    record = await conn.fetchrow(
        """
        INSERT INTO event_participants (event_id, actor_id, state, join_ap_id, message)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (event_id, actor_id) DO UPDATE
            SET state = EXCLUDED.state,
                join_ap_id = coalesce(EXCLUDED.join_ap_id, event_participants.join_ap_id),
                message = coalesce(EXCLUDED.message, event_participants.message),
                updated_at = now()
        RETURNING *
        """,
        event_id, actor_id, state, join_ap_id, message)
    return to_row(Participant, record)


async def set_state(conn: Any, participant_id: int, state: str) -> Participant:
    return to_row(Participant, await conn.fetchrow(
        "UPDATE event_participants SET state = $2, updated_at = now() WHERE id = $1"
        " RETURNING *", participant_id, state))


async def recount(conn: Any, event_id: int) -> int:
    """Store and return the number of accepted participants (no SEQUENCE bump: the
    count is not part of the calendar entry)."""
    return int(await conn.fetchval(
        "UPDATE events SET participant_count = (SELECT count(*) FROM event_participants"
        " WHERE event_id = $1 AND state = 'accepted') WHERE id = $1"
        " RETURNING participant_count", event_id))


@dataclass(frozen=True)
class ParticipantWithActor:
    participant: Participant
    actor: Actor


async def participants(conn: Any, event_id: int, *, states: tuple[str, ...] = PARTICIPANT_STATES
                       ) -> list[ParticipantWithActor]:
    rows = await conn.fetch(
        "SELECT p.id AS p_id, p.event_id, p.actor_id, p.state, p.join_ap_id, p.message,"
        " p.created_at AS p_created_at, p.updated_at AS p_updated_at, a.*"
        " FROM event_participants p JOIN actors a ON a.id = p.actor_id"
        " WHERE p.event_id = $1 AND p.state = ANY($2::text[]) ORDER BY p.id",
        event_id, list(states))
    out = []
    for r in rows:
        part = Participant(id=r["p_id"], event_id=r["event_id"], actor_id=r["actor_id"],
                           state=r["state"], join_ap_id=r["join_ap_id"], message=r["message"],
                           created_at=r["p_created_at"], updated_at=r["p_updated_at"])
        out.append(ParticipantWithActor(part, to_row(Actor, r)))
    return out


@dataclass(frozen=True)
class LocalRecipient:
    """A registered local user to remind or notify, with the address to write to."""

    account_id: int
    email: str
    language: str | None
    name: str


async def local_recipients(conn: Any, event_id: int) -> list[LocalRecipient]:
    """Active local accounts registered (accepted or pending) for the event."""
    rows = await conn.fetch(
        "SELECT ac.id AS account_id, ac.email, ac.locale AS language,"
        " coalesce(a.name, a.username) AS name"
        " FROM event_participants p JOIN actors a ON a.id = p.actor_id"
        " JOIN accounts ac ON ac.actor_id = a.id"
        " WHERE p.event_id = $1 AND p.state IN ('accepted', 'pending')"
        " AND ac.status = 'active' AND ac.email IS NOT NULL ORDER BY ac.id", event_id)
    return [to_row(LocalRecipient, r) for r in rows]


async def due_reminders(conn: Any, *, start: datetime, end: datetime
                        ) -> list[tuple[int, int]]:
    """(event id, account id) pairs: local registrations for live, not cancelled events
    starting in [start, end) that have had no reminder yet."""
    rows = await conn.fetch(
        "SELECT e.id AS event_id, ac.id AS account_id FROM events e"
        " JOIN event_participants p ON p.event_id = e.id AND p.state = 'accepted'"
        " JOIN accounts ac ON ac.actor_id = p.actor_id AND ac.status = 'active'"
        " WHERE e.deleted_at IS NULL AND e.status <> 'cancelled'"
        " AND e.starts_at >= $1 AND e.starts_at < $2"
        " AND NOT EXISTS (SELECT 1 FROM event_reminders r WHERE r.event_id = e.id"
        " AND r.account_id = ac.id) ORDER BY e.id, ac.id", start, end)
    return [(r["event_id"], r["account_id"]) for r in rows]


async def mark_reminded(conn: Any, event_id: int, account_id: int) -> bool:
    status = await conn.execute(
        "INSERT INTO event_reminders (event_id, account_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING", event_id, account_id)
    return bool(status.endswith(" 1"))
