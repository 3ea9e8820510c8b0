-- Versions of what anonymous readers see, for the page cache (fedi/web/page_cache.py).
--
-- Every write that changes a page bumps the version of its scope: 'thread:<id>' for any
-- insert, update or delete of a post of that thread (content, likes, accepted answers,
-- lock, pin, removal, deletion), 'global' for what many pages show (actors' names,
-- handles, badges and deletion; groups; instance settings; account status). A cached
-- page remembers the versions it was rendered under and is served only while they are
-- unchanged, so several processes on one database stay correct with one cheap query.
--
-- The triggers are DEFERRABLE INITIALLY DEFERRED constraint triggers: the version row is
-- locked at commit, after every other lock of the transaction, so a reply (post, then its
-- parent, then the thread root) and a like of the parent cannot deadlock on it. Versions
-- come from one sequence: a scope never returns to an earlier value.
-- Bulk loads in session_replication_role = replica (the seed) skip them: start the
-- servers afterwards, or they keep serving what they cached before.

CREATE SEQUENCE IF NOT EXISTS page_version_seq;

CREATE TABLE IF NOT EXISTS page_versions (
    scope text PRIMARY KEY,
    version bigint NOT NULL
);

CREATE OR REPLACE FUNCTION bump_page_version(scope_key text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO page_versions (scope, version) VALUES (scope_key, nextval('page_version_seq'))
    ON CONFLICT (scope) DO UPDATE SET version = EXCLUDED.version
$$;

CREATE OR REPLACE FUNCTION posts_page_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_page_version('thread:' || coalesce(OLD.thread_id, OLD.id));
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE'
            AND coalesce(NEW.thread_id, NEW.id) <> coalesce(OLD.thread_id, OLD.id)) THEN
        PERFORM bump_page_version('thread:' || coalesce(NEW.thread_id, NEW.id));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION global_page_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_page_version('global');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS posts_page_version ON posts;
CREATE CONSTRAINT TRIGGER posts_page_version
    AFTER INSERT OR UPDATE OR DELETE ON posts
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION posts_page_version();

-- Actors: anything shown (name, handle, url, badge, deletion ...), not the refresh
-- bookkeeping of remote actors (raw document, fetch time, keys).
DROP TRIGGER IF EXISTS actors_page_version ON actors;
CREATE CONSTRAINT TRIGGER actors_page_version
    AFTER UPDATE ON actors
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - ARRAY['raw', 'fetched_at', 'updated_at', 'public_key_pem',
                                 'public_key_id'])
          IS DISTINCT FROM
          (to_jsonb(NEW) - ARRAY['raw', 'fetched_at', 'updated_at', 'public_key_pem',
                                 'public_key_id']))
    EXECUTE FUNCTION global_page_version();

DROP TRIGGER IF EXISTS actors_deleted_page_version ON actors;
CREATE CONSTRAINT TRIGGER actors_deleted_page_version
    AFTER DELETE ON actors
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION global_page_version();

DROP TRIGGER IF EXISTS groups_page_version ON groups;
CREATE CONSTRAINT TRIGGER groups_page_version
    AFTER INSERT OR UPDATE OR DELETE ON groups
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION global_page_version();

DROP TRIGGER IF EXISTS instance_settings_page_version ON instance_settings;
CREATE CONSTRAINT TRIGGER instance_settings_page_version
    AFTER INSERT OR UPDATE OR DELETE ON instance_settings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION global_page_version();

-- A suspension or a renamed account.
DROP TRIGGER IF EXISTS accounts_page_version ON accounts;
CREATE CONSTRAINT TRIGGER accounts_page_version
    AFTER UPDATE ON accounts
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.username IS DISTINCT FROM NEW.username
          OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION global_page_version();
