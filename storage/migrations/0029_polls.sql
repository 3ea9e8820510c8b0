-- Polls (issue 20, part 4; fedi/forum/polls.py): a thread that is a poll, local or remote
-- (an ActivityPub Question), and the votes counted here.
--
-- Local polls count their votes in poll_votes (one row per actor and chosen option; a
-- single-choice poll allows one row per actor, which fedi/forum/polls.py checks under
-- the poll row's lock). Remote polls keep the counts their origin last published
-- (remote_counts, voters_count) and the votes our users sent there (poll_votes, so that
-- nobody votes twice and the page knows they voted).

CREATE TABLE IF NOT EXISTS polls (
    post_id bigint PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    options text[] NOT NULL,
    multiple boolean NOT NULL DEFAULT false,
    ends_at timestamptz,
    remote_counts integer[],
    voters_count integer,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS poll_votes (
    post_id bigint NOT NULL REFERENCES polls(post_id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    choice smallint NOT NULL,
    ap_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, actor_id, choice)
);

CREATE UNIQUE INDEX IF NOT EXISTS poll_votes_ap_id ON poll_votes (ap_id) WHERE ap_id IS NOT NULL;

-- The thread page shows the counts and the form: a vote or a new count changes it
-- (the page cache of migration 0020). A poll is always a thread root: its scope is
-- thread:<post_id>.
CREATE OR REPLACE FUNCTION polls_page_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM bump_page_version('thread:' || OLD.post_id);
    ELSE
        PERFORM bump_page_version('thread:' || NEW.post_id);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS polls_page_version ON polls;
CREATE CONSTRAINT TRIGGER polls_page_version
    AFTER INSERT OR UPDATE OR DELETE ON polls
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION polls_page_version();

DROP TRIGGER IF EXISTS poll_votes_page_version ON poll_votes;
CREATE CONSTRAINT TRIGGER poll_votes_page_version
    AFTER INSERT OR UPDATE OR DELETE ON poll_votes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION polls_page_version();

-- Remote Questions stored before this migration become polls (their options, end and
-- counts as last received; the next Update brings new counts). Odd values are skipped,
-- never fatal: a date that does not parse is no end, a count that is no number is 0.
CREATE OR REPLACE FUNCTION pg_temp.poll_time(value text) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    RETURN value::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

INSERT INTO polls (post_id, options, multiple, ends_at, remote_counts, voters_count)
SELECT q.id,
       ARRAY(SELECT o->>'name' FROM jsonb_array_elements(q.opts) AS o),
       q.multiple,
       pg_temp.poll_time(coalesce(q.raw->>'endTime', q.raw->>'closed')),
       ARRAY(SELECT CASE WHEN jsonb_typeof(o->'replies'->'totalItems') = 'number'
                         THEN least(greatest((o->'replies'->>'totalItems')::numeric, 0),
                                    2147483647)::int
                         ELSE 0 END
             FROM jsonb_array_elements(q.opts) AS o),
       CASE WHEN jsonb_typeof(q.raw->'votersCount') = 'number'
            THEN least(greatest((q.raw->>'votersCount')::numeric, 0), 2147483647)::int END
FROM (SELECT a.id, a.raw, a.any_of IS NOT NULL AS multiple,
             coalesce(a.any_of, a.one_of, '[]'::jsonb) AS opts
      FROM (SELECT p.id, p.raw,
                   CASE WHEN jsonb_typeof(p.raw->'anyOf') = 'array' THEN
                       CASE WHEN jsonb_array_length(p.raw->'anyOf') > 0 THEN p.raw->'anyOf' END
                   END AS any_of,
                   CASE WHEN jsonb_typeof(p.raw->'oneOf') = 'array' THEN p.raw->'oneOf' END
                       AS one_of
            FROM posts p
            WHERE p.type = 'Question' AND p.parent_id IS NULL AND NOT p.local) a) q
WHERE jsonb_array_length(q.opts) > 0
  AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(q.opts) AS o
                  WHERE jsonb_typeof(o) <> 'object' OR jsonb_typeof(o->'name') IS DISTINCT
                        FROM 'string')
ON CONFLICT (post_id) DO NOTHING;

DROP FUNCTION pg_temp.poll_time(text);
