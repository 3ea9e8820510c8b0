-- Moderation basics the inbox needs: blocked domains and bans (per group, or the whole
-- instance when group_id is NULL). Issue 6 builds the moderation tools on these.

CREATE TABLE domain_blocks (
    domain text PRIMARY KEY,            -- lower-case host; a block covers its subdomains
    reason text NOT NULL DEFAULT '',
    created_by bigint REFERENCES accounts(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bans (
    id bigserial PRIMARY KEY,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    group_id bigint REFERENCES groups(actor_id) ON DELETE CASCADE,  -- NULL = the whole instance
    reason text NOT NULL DEFAULT '',
    expires_at timestamptz,
    remove_content boolean NOT NULL DEFAULT false,
    ap_id text UNIQUE,                  -- the Block activity's id
    created_by bigint REFERENCES actors(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    lifted_at timestamptz
);
CREATE INDEX bans_actor ON bans (actor_id) WHERE lifted_at IS NULL;
CREATE INDEX bans_group ON bans (group_id, created_at DESC);
