-- Rate limits shared by every process on the database (issue 17): sign-up, log-in,
-- password resets, confirmation mails and exports count here, not in one process's memory,
-- so two `fedi serve` processes enforce one limit. One row per (action, key): the times of
-- the hits still inside the window (at most `limit` of them), updated by one atomic upsert
-- (storage/ratelimits.py). Rows whose window has passed are deleted now and then.

CREATE TABLE IF NOT EXISTS rate_limits (
    action text NOT NULL,                  -- "login", "signup", "export" ...
    key text NOT NULL,                     -- a client address, an e-mail address, an account
    hits timestamptz[] NOT NULL,           -- the allowed hits inside the window, oldest first
    allowed boolean NOT NULL,              -- whether the latest hit was allowed
    hit_at timestamptz NOT NULL,           -- the latest hit (allowed or not)
    expires_at timestamptz NOT NULL,       -- hit_at + window: the row means nothing after it
    PRIMARY KEY (action, key)
);

CREATE INDEX IF NOT EXISTS rate_limits_expires_at ON rate_limits (expires_at);
