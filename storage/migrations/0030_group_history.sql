-- Issue 20, parts 1, 2 and the microblog setting.
--
-- A group's outbox lists every visible thread of the group, newest first
-- (storage/activities.py group_outbox_page): this index holds exactly those rows in that
-- order, so a page is one index walk (the count is actor_counts.threads).
CREATE INDEX IF NOT EXISTS posts_group_outbox ON posts (group_id, id DESC)
    WHERE parent_id IS NULL AND deleted_at IS NULL AND removed_at IS NULL;

-- What the group's followers on microblog software (Mastodon and kin) get
-- (fedi/federation/fanout.py): 'threads' the Announce of new threads and events only,
-- 'everything' also of every reply.
ALTER TABLE groups ADD COLUMN IF NOT EXISTS microblog_fanout text NOT NULL DEFAULT 'threads'
    CHECK (microblog_fanout IN ('threads', 'everything'));

-- A backfill is bounded per run and resumable: where the walk of the remote outbox
-- stopped (the page to read next), what the runs took in all, and how many runs it took.
ALTER TABLE backfill_jobs ADD COLUMN IF NOT EXISTS resume_url text;
ALTER TABLE backfill_jobs ADD COLUMN IF NOT EXISTS runs integer NOT NULL DEFAULT 0;

-- One delivery per host (fedi/core/outbox.py): a personal inbox among an activity's
-- recipients is replaced by its actor's shared inbox, looked up by this index.
CREATE INDEX IF NOT EXISTS actors_inbox_shared ON actors (inbox)
    WHERE shared_inbox IS NOT NULL;
