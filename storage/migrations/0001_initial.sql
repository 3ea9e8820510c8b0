-- Core schema: actors (local and remote), accounts, groups, posts, follows, likes,
-- outbound activities and their deliveries, inbound activities, known instances.

CREATE TABLE instance_settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every actor we know: our own users, groups and instance actor (local = true) and remote ones.
CREATE TABLE actors (
    id bigserial PRIMARY KEY,
    ap_id text NOT NULL UNIQUE,
    type text NOT NULL,
    local boolean NOT NULL,
    username text NOT NULL,              -- preferredUsername
    domain text NOT NULL,                -- host as in the actor id, with port when present
    name text,                           -- display name or group title (any Unicode)
    summary text,                        -- sanitised HTML
    inbox text,
    outbox text,
    shared_inbox text,
    followers_url text,
    following_url text,
    featured_url text,
    moderators_url text,
    url text,
    icon_url text,
    public_key_id text,
    public_key_pem text,
    manually_approves_followers boolean NOT NULL DEFAULT false,
    posting_restricted_to_mods boolean NOT NULL DEFAULT false,
    moved_to text,
    raw jsonb,
    fetched_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
-- Users and groups share one namespace per host.
CREATE UNIQUE INDEX actors_handle ON actors (lower(username), domain);
CREATE INDEX actors_public_key_id ON actors (public_key_id);
CREATE INDEX actors_domain ON actors (domain);

-- Private keys of local actors.
CREATE TABLE actor_keys (
    actor_id bigint PRIMARY KEY REFERENCES actors(id) ON DELETE CASCADE,
    rsa_private_pem text NOT NULL,
    rsa_public_pem text NOT NULL,
    ed25519_private_pem text NOT NULL,
    ed25519_public_multibase text NOT NULL
);

CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    actor_id bigint NOT NULL UNIQUE REFERENCES actors(id) ON DELETE CASCADE,
    username text NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'pending', 'rejected', 'suspended')),
    locale text,
    registration_reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_username ON accounts (lower(username));
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));

CREATE TABLE api_tokens (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,    -- SHA-256 of the token; the token itself is never stored
    name text NOT NULL DEFAULT '',
    kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'session')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- Topic groups, local and remote; the actor row holds name/title/keys/urls.
CREATE TABLE groups (
    actor_id bigint PRIMARY KEY REFERENCES actors(id) ON DELETE CASCADE,
    summary_source text NOT NULL DEFAULT '',   -- Markdown (local groups)
    rules_source text NOT NULL DEFAULT '',
    language text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_moderators (
    group_id bigint NOT NULL REFERENCES groups(actor_id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, actor_id)
);

-- Threads (thread_id = id, parent_id null) and replies, local and remote.
CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    ap_id text NOT NULL UNIQUE,
    local boolean NOT NULL,
    group_id bigint REFERENCES groups(actor_id) ON DELETE CASCADE,
    author_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    thread_id bigint REFERENCES posts(id) ON DELETE CASCADE,
    parent_id bigint REFERENCES posts(id) ON DELETE CASCADE,
    depth integer NOT NULL DEFAULT 0,
    type text NOT NULL DEFAULT 'Note',
    title text,
    content_html text NOT NULL DEFAULT '',
    source text,
    source_media_type text,
    language text,
    summary text,                         -- content warning
    sensitive boolean NOT NULL DEFAULT false,
    url text,
    context_url text,
    hashtags text[] NOT NULL DEFAULT '{}',
    attachments jsonb NOT NULL DEFAULT '[]',
    raw jsonb,
    like_count integer NOT NULL DEFAULT 0,
    dislike_count integer NOT NULL DEFAULT 0,
    reply_count integer NOT NULL DEFAULT 0,
    locked boolean NOT NULL DEFAULT false,
    pinned_at timestamptz,
    removed_at timestamptz,
    removed_reason text,
    deleted_at timestamptz,
    published timestamptz NOT NULL DEFAULT now(),
    updated timestamptz,
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('german', coalesce(title, '')), 'A')
        || setweight(to_tsvector('german', coalesce(source, content_html)), 'B')
    ) STORED
);
CREATE INDEX posts_group_threads ON posts (group_id, last_activity_at DESC, id DESC)
    WHERE parent_id IS NULL;
CREATE INDEX posts_thread ON posts (thread_id, id);
CREATE INDEX posts_parent ON posts (parent_id);
CREATE INDEX posts_author ON posts (author_id);
CREATE INDEX posts_search ON posts USING gin (search);

CREATE TABLE likes (
    id bigserial PRIMARY KEY,
    ap_id text UNIQUE,
    post_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    kind text NOT NULL DEFAULT 'like' CHECK (kind IN ('like', 'dislike')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (post_id, actor_id, kind)
);

CREATE TABLE follows (
    id bigserial PRIMARY KEY,
    ap_id text UNIQUE,                     -- the Follow activity's id
    follower_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    target_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted')),
    created_at timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    UNIQUE (follower_id, target_id)
);
CREATE INDEX follows_target ON follows (target_id, state);

-- Activities we sent, kept so that each is fetchable at its id and listed in outboxes.
CREATE TABLE activities (
    id bigserial PRIMARY KEY,
    ap_id text NOT NULL UNIQUE,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    type text NOT NULL,
    object_ap_id text,
    post_id bigint REFERENCES posts(id) ON DELETE SET NULL,
    payload jsonb NOT NULL,
    public boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activities_actor ON activities (actor_id, id DESC);
CREATE INDEX activities_object ON activities (object_ap_id);

-- Known remote instances: software (from NodeInfo), signature scheme, delivery health.
CREATE TABLE instances (
    domain text PRIMARY KEY,
    software text,
    software_version text,
    nodeinfo_fetched_at timestamptz,
    signature_scheme text CHECK (signature_scheme IN ('cavage', 'rfc9421')),
    failure_days date[] NOT NULL DEFAULT '{}',
    failing_since timestamptz,
    last_success_at timestamptz,
    unavailable boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Outbound queue: one row per (activity, inbox). A worker claims due rows with
-- FOR UPDATE SKIP LOCKED and pushes next_attempt_at forward by a lease while it sends.
CREATE TABLE deliveries (
    id bigserial PRIMARY KEY,
    activity_id bigint NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    inbox_url text NOT NULL,
    domain text NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'delivered', 'failed', 'gone', 'cancelled')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (activity_id, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'queued';
CREATE INDEX deliveries_domain ON deliveries (domain, state);

-- Inbound queue: the raw activity, stored before the 202; a replay (same id) is a no-op.
CREATE TABLE inbox_activities (
    id bigserial PRIMARY KEY,
    ap_id text NOT NULL UNIQUE,
    type text NOT NULL,
    actor_ap_id text NOT NULL,
    signer_key_id text,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'done', 'ignored', 'parked')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX inbox_activities_due ON inbox_activities (next_attempt_at) WHERE state = 'queued';
