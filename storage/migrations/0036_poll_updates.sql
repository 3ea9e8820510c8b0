-- Poll updates are coalesced (fedi/forum/poll_updates.py): a counted vote sets
-- update_due_at (if not set already) instead of sending an Update(Question) at once, so
-- a hundred votes in a minute send one Update to the followers, not a hundred (Mastodon
-- delays its poll updates the same way). end_sent: the Update that tells the followers a
-- local poll has ended went out (remote polls are their origin's to tell).
ALTER TABLE polls ADD COLUMN IF NOT EXISTS update_due_at timestamptz;
ALTER TABLE polls ADD COLUMN IF NOT EXISTS end_sent boolean NOT NULL DEFAULT false;
-- Polls that ended before this migration are not announced again.
UPDATE polls SET end_sent = true WHERE ends_at IS NOT NULL AND ends_at <= now();
CREATE INDEX IF NOT EXISTS polls_update_due ON polls (update_due_at)
    WHERE update_due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS polls_end_pending ON polls (ends_at) WHERE NOT end_sent;
