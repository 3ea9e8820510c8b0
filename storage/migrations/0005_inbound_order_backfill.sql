-- Inbound federation that survives disorder and restarts (issue 5 follow-up).

-- A Delete that arrived before the Create of its object (Mastodon's "delete upon
-- arrival"): remembered for a while, so the late Create is not stored.
CREATE TABLE early_deletes (
    object_ap_id text PRIMARY KEY,
    actor_ap_id text NOT NULL,              -- who deleted it: only their Create is dropped
    expires_at timestamptz NOT NULL
);
CREATE INDEX early_deletes_expiry ON early_deletes (expires_at);

-- The backfill of a remote group's recent history, one job per group, run by the
-- workers (claimed with FOR UPDATE SKIP LOCKED and a lease, like the other queues).
CREATE TABLE backfill_jobs (
    id bigserial PRIMARY KEY,
    group_id bigint NOT NULL UNIQUE REFERENCES actors(id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    threads integer NOT NULL DEFAULT 0,
    replies integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX backfill_jobs_due ON backfill_jobs (next_attempt_at) WHERE state = 'queued';
