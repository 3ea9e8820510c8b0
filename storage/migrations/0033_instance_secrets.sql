-- Issue 19: secrets of the instance itself (not of an account), one row per use.
-- 'media_proxy' is the key of the HMAC that signs /media-proxy/ URLs (fedi/web/media_proxy.py),
-- so that the proxy fetches only URLs our own pages named. gen_random_uuid() draws from the
-- server's strong random source (as migration 0012's unsubscribe secrets do).
CREATE TABLE instance_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL DEFAULT decode(
        replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO instance_secrets (name) VALUES ('media_proxy');
