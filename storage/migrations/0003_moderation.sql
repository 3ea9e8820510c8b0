-- Moderation and administration: the modlog, reports, the domain allowlist, and the
-- marker that tells content hidden by a domain block from a moderator's removal.

-- Does a block (or allow) entry cover this host? The entry as given (with its port),
-- the host without its port, and every parent domain: the rule of
-- storage.moderation.domain_candidates, in SQL for queries over many rows.
CREATE FUNCTION domain_covered(host text, entry text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(host) = entry
        OR (lower(host) NOT LIKE '[%' AND split_part(lower(host), ':', 1) = entry)
        OR (lower(host) NOT LIKE '[%' AND split_part(host, ':', 1) !~ '^[0-9.]+$'
            AND right(split_part(lower(host), ':', 1), length(entry) + 1) = '.' || entry)
$$;

-- Every moderation and administration action: who, what, why, when. ``public`` rows are
-- listed in the public modlog; the rest (reports, registrations, queue repairs) only for
-- admins. ``remote`` rows record what moderators elsewhere did to content we hold.
CREATE TABLE modlog (
    id bigserial PRIMARY KEY,
    action text NOT NULL,
    public boolean NOT NULL DEFAULT true,
    remote boolean NOT NULL DEFAULT false,
    group_id bigint REFERENCES actors(id) ON DELETE SET NULL,
    moderator_id bigint REFERENCES actors(id) ON DELETE SET NULL,
    target_actor_id bigint REFERENCES actors(id) ON DELETE SET NULL,
    target_post_id bigint REFERENCES posts(id) ON DELETE SET NULL,
    target_domain text,
    reason text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}',
    ap_id text,                          -- the activity that carried it (sent or received)
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX modlog_public ON modlog (id DESC) WHERE public;
CREATE INDEX modlog_group ON modlog (group_id, id DESC);

-- Reports of posts or actors: by local users, or received as Flags.
CREATE TABLE reports (
    id bigserial PRIMARY KEY,
    ap_id text UNIQUE,                   -- the Flag received, or the Flag we forwarded
    remote boolean NOT NULL,             -- received from another instance
    reporter_id bigint REFERENCES actors(id) ON DELETE SET NULL,
    target_actor_id bigint REFERENCES actors(id) ON DELETE SET NULL,
    post_ids bigint[] NOT NULL DEFAULT '{}',
    group_id bigint REFERENCES actors(id) ON DELETE SET NULL,  -- whose moderators handle it
    reason text NOT NULL DEFAULT '',
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    assigned_to bigint REFERENCES actors(id) ON DELETE SET NULL,
    resolved_by bigint REFERENCES actors(id) ON DELETE SET NULL,
    resolved_at timestamptz,
    resolution text,
    forwarded_to text,                   -- the host a Flag went to (remote group or author)
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_state ON reports (state, id DESC);
CREATE INDEX reports_group ON reports (group_id, state);

-- Allowlist mode (instance setting ``federation_allowlist``): only these hosts federate.
CREATE TABLE domain_allows (
    domain text PRIMARY KEY,
    reason text NOT NULL DEFAULT '',
    created_by bigint REFERENCES accounts(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Posts hidden because their author's domain is blocked carry the block's domain, so an
-- unblock shows exactly those again (and not what moderators removed).
ALTER TABLE posts ADD COLUMN hidden_by_domain text;
CREATE INDEX posts_hidden_by_domain ON posts (hidden_by_domain) WHERE hidden_by_domain IS NOT NULL;
CREATE INDEX bans_expiry ON bans (expires_at) WHERE lifted_at IS NULL AND expires_at IS NOT NULL;
