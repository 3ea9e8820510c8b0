-- Notification e-mail (issue 14): what each person wants mailed and when, which notices
-- went out by mail, the digests sent (one per account and period: two workers never send
-- the same digest), and the queue of mail jobs (grouped immediate mails per account, and
-- the digest scheduler).

-- No row: the defaults (daily digest, reports immediately, Europe/Berlin).
CREATE TABLE notification_mail_settings (
    account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    -- {"default": "daily", "report": "immediate", ...}; modes immediate|daily|weekly|off.
    modes jsonb NOT NULL DEFAULT '{}',
    timezone text NOT NULL DEFAULT 'Europe/Berlin',
    -- Key of the HMAC that signs this account's one-click unsubscribe links (RFC 8058);
    -- gen_random_uuid() draws from the server's strong random source.
    unsubscribe_secret bytea NOT NULL DEFAULT decode(
        replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- When a notice went out in an immediate mail or in a digest (at most once each).
ALTER TABLE notifications ADD COLUMN mailed_at timestamptz;
ALTER TABLE notifications ADD COLUMN digested_at timestamptz;
CREATE INDEX notifications_unmailed ON notifications (account_id, created_at)
    WHERE mailed_at IS NULL AND digested_at IS NULL AND read_at IS NULL;

-- Every digest built: period 'daily:2026-12-05' or 'weekly:2026-W49'. The UNIQUE key is
-- what keeps two workers (or the CLI beside them) from sending one digest twice.
CREATE TABLE notification_digests (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    period text NOT NULL,
    items integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, period)
);

-- The queue: 'immediate' (one per account while queued: notices of the same minute go in
-- one mail) and 'digests' (a single row that runs the digest pass and re-schedules
-- itself). ``wanted`` counts hook calls: a job that saw an older count runs again.
CREATE TABLE notification_mail_jobs (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('immediate', 'digests')),
    account_id bigint REFERENCES accounts(id) ON DELETE CASCADE,
    wanted bigint NOT NULL DEFAULT 1,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    claimed_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK ((kind = 'immediate') = (account_id IS NOT NULL))
);
CREATE INDEX notification_mail_jobs_due ON notification_mail_jobs (next_attempt_at)
    WHERE state = 'queued';
CREATE UNIQUE INDEX notification_mail_jobs_account ON notification_mail_jobs (account_id)
    WHERE state = 'queued' AND kind = 'immediate';
-- The digest scheduler's row is made by the first long-running worker (not by run_once).
CREATE UNIQUE INDEX notification_mail_jobs_scheduler ON notification_mail_jobs (kind)
    WHERE kind = 'digests';
