"""Activities we sent: kept so each is fetchable at its id and listed in outboxes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import maybe_row, to_row


@dataclass(frozen=True)
class Activity:
    id: int
    ap_id: str
    actor_id: int
    type: str
    object_ap_id: str | None
    post_id: int | None
    payload: dict[str, Any]
    public: bool
    created_at: datetime


async def insert(
    conn: Any,
    *,
    ap_id: str,
    actor_id: int,
    type_: str,
    object_ap_id: str | None,
    payload: dict[str, Any],
    post_id: int | None = None,
    public: bool = True,
) -> Activity:
    """Store an outgoing activity. Raises asyncpg.UniqueViolationError on a reused id."""
    row = await conn.fetchrow(
        "INSERT INTO activities (ap_id, actor_id, type, object_ap_id, post_id, payload, public)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        ap_id, actor_id, type_, object_ap_id, post_id, payload, public,
    )
    return to_row(Activity, row)


async def get(conn: Any, activity_id: int) -> Activity | None:
    row = await conn.fetchrow("SELECT * FROM activities WHERE id = $1", activity_id)
    return maybe_row(Activity, row)


async def by_ap_id(conn: Any, ap_id: str) -> Activity | None:
    row = await conn.fetchrow("SELECT * FROM activities WHERE ap_id = $1", ap_id)
    return maybe_row(Activity, row)


# Outbox items: stored activities about posts whose post is still visible (or that name no
# post). ``actor_id`` picks the sender, ``group_id`` the posts' group; ``embedded_only``
# keeps activities whose object is an embedded document, not a bare id. The statement is
# put together for the case at hand (no ``$n IS NULL OR`` branches), so that its plan
# walks an index in ``id`` order: activities_actor for a sender, activities_type for a
# group's Creates (migration 0017), activities_outbox_announces for a group's embedded
# Announces (migration 0023); the counts come from actor_counts.

OUTBOX_TYPES = frozenset({"Create", "Announce"})


async def post_activities_page(
    conn: Any, *, type_: str, limit: int, actor_id: int | None = None,
    group_id: int | None = None, embedded_only: bool = False,
    before_id: int | None = None, after_id: int | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """(activity row id, payload); ascending from ``after_id``, else descending."""
    if type_ not in OUTBOX_TYPES:
        raise ValueError(f"not an outbox type: {type_!r}")
    # The type is written into the statement, not bound, so that the planner can match
    # the partial index of migration 0023 (a bound $n never proves its predicate).
    args: list[Any] = []
    where = ["a.public", f"a.type = '{type_}'", "p.deleted_at IS NULL",
             "p.removed_at IS NULL"]
    if actor_id is not None:
        args.append(actor_id)
        where.append(f"a.actor_id = ${len(args)}")
    if group_id is not None:
        args.append(group_id)
        where.append(f"p.group_id = ${len(args)}")
    if embedded_only:
        where.append("jsonb_typeof(a.payload -> 'object') = 'object'")
    if before_id is not None:
        args.append(before_id)
        where.append(f"a.id < ${len(args)}")
    if after_id is not None:
        args.append(after_id)
        where.append(f"a.id > ${len(args)}")
    args.append(limit)
    order = "ASC" if after_id is not None else "DESC"
    rows = await conn.fetch(
        "SELECT a.id, a.payload FROM activities a LEFT JOIN posts p ON p.id = a.post_id"
        f" WHERE {' AND '.join(where)} ORDER BY a.id {order} LIMIT ${len(args)}", *args)
    return [(r["id"], r["payload"]) for r in rows]


@dataclass(frozen=True)
class OutboxCounts:
    """An actor's outbox sizes (actor_counts, kept by the triggers of migration 0017)."""

    creates: int = 0        # public Creates it sent, post visible or gone
    announces: int = 0      # public Announces with an embedded object it sent, likewise
    group_creates: int = 0  # public Creates about visible posts in the group
    threads: int = 0        # a group's visible threads (its outbox, group_outbox_page)


async def outbox_counts(conn: Any, actor_id: int) -> OutboxCounts:
    row = await conn.fetchrow(
        "SELECT outbox_creates, outbox_announces, group_creates, threads FROM actor_counts"
        " WHERE actor_id = $1", actor_id)
    if row is None:
        return OutboxCounts()
    return OutboxCounts(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


@dataclass(frozen=True)
class OutboxThread:
    """One thread of a group's outbox, with what the outbox item is built from."""

    post_id: int
    ap_id: str
    author_id: int
    published: datetime
    announce: dict[str, Any] | None  # the group's Announce embedding the thread's Create
    # the author's stored Create (local authors), read only when ``announce`` is None
    create: dict[str, Any] | None


async def group_outbox_page(
    conn: Any, group_id: int, *, limit: int, before_id: int | None = None,
    after_id: int | None = None,
) -> list[OutboxThread]:
    """The visible threads of a group by post id (ascending from ``after_id``, else
    descending), walking posts_group_outbox (migration 0030); each with the group's
    first embedded Announce(Create) of it or else the author's Create, if stored (by
    activities_post)."""
    args: list[Any] = [group_id]
    where = ["p.group_id = $1", "p.parent_id IS NULL", "p.deleted_at IS NULL",
             "p.removed_at IS NULL"]
    if before_id is not None:
        args.append(before_id)
        where.append(f"p.id < ${len(args)}")
    if after_id is not None:
        args.append(after_id)
        where.append(f"p.id > ${len(args)}")
    args.append(limit)
    order = "ASC" if after_id is not None else "DESC"
    # The author's Create only for threads without the group's Announce (which embeds it):
    # each payload is decoded here and encoded again in the page, so not twice.
    rows = await conn.fetch(
        "SELECT p.id, p.ap_id, p.author_id, p.published, an.payload AS announce,"
        " CASE WHEN an.payload IS NULL THEN"
        " (SELECT a.payload FROM activities a WHERE a.post_id = p.id"
        "   AND a.actor_id = p.author_id AND a.type = 'Create' AND a.public"
        "   ORDER BY a.id LIMIT 1) END AS create_payload"
        " FROM posts p LEFT JOIN LATERAL"
        " (SELECT a.payload FROM activities a WHERE a.post_id = p.id AND a.actor_id = $1"
        "   AND a.type = 'Announce' AND a.public"
        "   AND a.payload -> 'object' ->> 'type' = 'Create' ORDER BY a.id LIMIT 1) an ON true"
        f" WHERE {' AND '.join(where)} ORDER BY p.id {order} LIMIT ${len(args)}",
        *args)
    return [OutboxThread(r["id"], r["ap_id"], r["author_id"], r["published"], r["announce"],
                         r["create_payload"]) for r in rows]


async def count_post_activities(conn: Any, *, type_: str, actor_id: int | None = None,
                                group_id: int | None = None,
                                embedded_only: bool = False) -> int:
    """What :func:`post_activities_page` lists in all. The outbox cases read the counter
    row; any other combination counts (not used by a page)."""
    if group_id is None and actor_id is not None:
        counts = await outbox_counts(conn, actor_id)
        if type_ == "Create" and not embedded_only:
            return counts.creates
        if type_ == "Announce" and embedded_only:
            return counts.announces
    if actor_id is None and group_id is not None and type_ == "Create" and not embedded_only:
        return (await outbox_counts(conn, group_id)).group_creates
    return int(await conn.fetchval(
        "SELECT count(*) FROM activities a LEFT JOIN posts p ON p.id = a.post_id"
        " WHERE a.public AND a.type = $1"
        " AND ($2::bigint IS NULL OR a.actor_id = $2)"
        " AND ($3::bigint IS NULL OR p.group_id = $3)"
        " AND (NOT $4::boolean OR jsonb_typeof(a.payload -> 'object') = 'object')"
        " AND p.deleted_at IS NULL AND p.removed_at IS NULL",
        type_, actor_id, group_id, embedded_only))
