-- Notifications (issue 14): what happened (notification_events, a queue the workers turn
-- into notifications after the post or decision is stored, never in a request), the
-- notifications themselves, what people watch or mute, how far they have read, and the
-- local and remote actors a post mentions.

-- A queue: one row per thing that may notify somebody. kind says what, payload the ids.
CREATE TABLE notification_events (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,                   -- 'post', 'like', 'moderation', 'report', 'signup', 'accepted_answer', ...
    payload jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    claimed_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX notification_events_due ON notification_events (next_attempt_at)
    WHERE state = 'queued';

CREATE TABLE notifications (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('reply', 'mention', 'like', 'accepted_answer',
                                       'moderation', 'report', 'signup', 'new_thread',
                                       'watched_post')),
    actor_id bigint REFERENCES actors(id) ON DELETE SET NULL,    -- who did it (latest, for likes)
    post_id bigint REFERENCES posts(id) ON DELETE CASCADE,
    thread_id bigint REFERENCES posts(id) ON DELETE CASCADE,
    group_id bigint REFERENCES groups(actor_id) ON DELETE CASCADE,
    count integer NOT NULL DEFAULT 1,      -- grouped notices: how many people liked
    data jsonb NOT NULL DEFAULT '{}',      -- e.g. the moderation action and its reason
    -- One notice per (account, key): a replayed event changes nothing, likes of one post
    -- update one notice.
    dedupe_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    UNIQUE (account_id, dedupe_key)
);
CREATE INDEX notifications_account ON notifications (account_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (account_id) WHERE read_at IS NULL;
CREATE INDEX notifications_post ON notifications (post_id);
CREATE INDEX notifications_thread ON notifications (thread_id);
CREATE INDEX notifications_actor ON notifications (actor_id);
CREATE INDEX notifications_group ON notifications (group_id);

-- Watching ("beobachten") or muting a thread; the asker watches their own thread.
CREATE TABLE thread_watches (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    thread_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    level text NOT NULL CHECK (level IN ('watching', 'muted')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, thread_id)
);
CREATE INDEX thread_watches_thread ON thread_watches (thread_id);

-- Muting a group one follows (no new_thread notices from it).
CREATE TABLE group_mutes (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id bigint NOT NULL REFERENCES groups(actor_id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, group_id)
);
CREATE INDEX group_mutes_group ON group_mutes (group_id);

-- Unread tracking: per person and thread the newest post they have seen.
CREATE TABLE thread_reads (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    thread_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    last_read_post_id bigint NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, thread_id)
);
CREATE INDEX thread_reads_thread ON thread_reads (thread_id);

-- Who a post mentions (local and remote actors; from our Mention tags or a remote post's).
CREATE TABLE post_mentions (
    post_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, actor_id)
);
CREATE INDEX post_mentions_actor ON post_mentions (actor_id);
