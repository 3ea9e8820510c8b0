-- Events (issue 16): congresses and meetings of a group, local or from another server
-- (Mobilizon, Gancio, another dEMiSA), and who takes part (Join / Accept / Reject / Leave).

CREATE TABLE events (
    id bigserial PRIMARY KEY,
    ap_id text NOT NULL UNIQUE,
    local boolean NOT NULL,
    group_id bigint REFERENCES groups(actor_id) ON DELETE CASCADE,
    organiser_id bigint REFERENCES actors(id) ON DELETE SET NULL,
    url text,
    title text NOT NULL,
    description_source text,                  -- Markdown (local events)
    description_html text NOT NULL DEFAULT '', -- sanitised HTML
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    timezone text NOT NULL DEFAULT 'Europe/Berlin',  -- IANA name
    place_name text,
    street text,
    postal_code text,
    locality text,
    region text,
    country text,
    latitude double precision,
    longitude double precision,
    online_url text,
    online_visibility text NOT NULL DEFAULT 'participants'
        CHECK (online_visibility IN ('participants', 'public')),
    status text NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('tentative', 'confirmed', 'cancelled')),
    registration text NOT NULL DEFAULT 'free'
        CHECK (registration IN ('free', 'restricted', 'external', 'none')),
    external_url text,
    capacity integer CHECK (capacity IS NULL OR capacity >= 0),
    registration_deadline timestamptz,
    agenda jsonb NOT NULL DEFAULT '[]',        -- [{"time", "title", "speaker"}], in order
    minutes_source text,
    minutes_html text,
    thread_id bigint REFERENCES posts(id) ON DELETE SET NULL,  -- the discussion thread
    sequence integer NOT NULL DEFAULT 0,       -- iCalendar SEQUENCE, bumped on each change
    participant_count integer NOT NULL DEFAULT 0,
    raw jsonb,                                 -- the Event as received (remote events)
    published timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX events_upcoming ON events (starts_at) WHERE deleted_at IS NULL;
CREATE INDEX events_group ON events (group_id, starts_at) WHERE deleted_at IS NULL;
CREATE INDEX events_organiser ON events (organiser_id);
CREATE INDEX events_thread ON events (thread_id);

CREATE TABLE event_participants (
    id bigserial PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    state text NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected', 'cancelled')),
    join_ap_id text,                           -- the Join's id (ours or the sender's)
    message text,                              -- Mobilizon's participationMessage
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, actor_id)
);
CREATE INDEX event_participants_actor ON event_participants (actor_id);
CREATE UNIQUE INDEX event_participants_join ON event_participants (join_ap_id)
    WHERE join_ap_id IS NOT NULL;

-- Reminders by e-mail the day before: one row per (event, account), sent once.
CREATE TABLE event_reminders (
    event_id bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, account_id)
);
CREATE INDEX event_reminders_account ON event_reminders (account_id);
