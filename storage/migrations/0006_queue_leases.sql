-- Leased queues with short, renewed leases and an owner (issue 11 points 1 and 6).

-- The queue workers alive now: each beats every few seconds while it runs and removes
-- its row on a clean stop. A row whose heartbeat is old belongs to a worker that died;
-- the first other worker to notice deletes it and reclaims the rows it held.
CREATE TABLE queue_workers (
    id uuid PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queue_workers_heartbeat ON queue_workers (heartbeat_at);

-- Who holds a claimed row (NULL when nobody does). No foreign key: a reaped worker's
-- rows are reclaimed by the reaper itself, and a clean stop releases its own.
ALTER TABLE deliveries ADD COLUMN claimed_by uuid;
ALTER TABLE inbox_activities ADD COLUMN claimed_by uuid;
ALTER TABLE backfill_jobs ADD COLUMN claimed_by uuid;
CREATE INDEX deliveries_claimed ON deliveries (claimed_by)
    WHERE claimed_by IS NOT NULL AND state = 'queued';
CREATE INDEX inbox_activities_claimed ON inbox_activities (claimed_by)
    WHERE claimed_by IS NOT NULL AND state = 'queued';
CREATE INDEX backfill_jobs_claimed ON backfill_jobs (claimed_by)
    WHERE claimed_by IS NOT NULL AND state = 'queued';
