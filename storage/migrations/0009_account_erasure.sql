-- Account deletion (DSGVO Art. 17, issue 13). The account row, its tokens and profile go at
-- once; the actor row stays as a tombstone (its username is never reused: actors_handle).
-- The private keys stay until the Delete activities signed with them have been delivered;
-- then a worker job (this queue) drops them.
CREATE TABLE account_erasures (
    id bigserial PRIMARY KEY,
    actor_id bigint NOT NULL UNIQUE REFERENCES actors(id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    claimed_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX account_erasures_due ON account_erasures (next_attempt_at) WHERE state = 'queued';
