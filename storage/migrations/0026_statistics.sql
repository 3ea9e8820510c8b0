-- Instance statistics (issue 18, /statistik, /api/v1/statistics, NodeInfo): every count is
-- read from a counter row (actor_counts, migration 0017) or from an index that holds only
-- the rows counted, never from a pass over all posts.

-- A group's questions and how many are solved: the index holds exactly the visible
-- questions, so counting them reads as many entries as there are questions.
CREATE INDEX IF NOT EXISTS posts_group_questions ON posts (group_id, accepted_answer_id)
    WHERE parent_id IS NULL AND kind = 'question' AND deleted_at IS NULL AND removed_at IS NULL;
-- "Active" includes liking: a person's newest like is one probe, not a pass over their
-- likes (likes_actor has no order).
CREATE INDEX IF NOT EXISTS likes_actor_recent ON likes (actor_id, created_at DESC);
