-- Questions that get solved (issue 15): a thread is a question or a discussion; a
-- question's accepted answer is one of its replies; a moderator can highlight a reply as
-- the official answer. The state is derived, never stored: solved (an accepted answer),
-- answered (replies), open (neither) -- see fedi/forum/answers.py.

-- Existing threads stay discussions (they were not asked as questions, and their replies
-- keep the order people know); new threads take their group's default_kind.
ALTER TABLE posts
    ADD COLUMN kind text NOT NULL DEFAULT 'discussion'
        CHECK (kind IN ('question', 'discussion')),
    ADD COLUMN accepted_answer_id bigint REFERENCES posts(id) ON DELETE SET NULL,
    ADD COLUMN accepted_at timestamptz,
    ADD COLUMN accepted_by bigint REFERENCES actors(id) ON DELETE SET NULL,
    ADD COLUMN highlighted_at timestamptz,
    ADD COLUMN highlighted_by bigint REFERENCES actors(id) ON DELETE SET NULL;

CREATE INDEX posts_accepted_answer ON posts (accepted_answer_id)
    WHERE accepted_answer_id IS NOT NULL;
-- Lists by state ("Offene Fragen" across groups, a group's unanswered threads).
CREATE INDEX posts_open_questions ON posts (last_activity_at DESC, id DESC)
    WHERE parent_id IS NULL AND kind = 'question' AND accepted_answer_id IS NULL
      AND deleted_at IS NULL AND removed_at IS NULL;

-- Existing groups keep discussions as their default; groups made from now on ask
-- questions by default (the issue: "the default for new groups").
ALTER TABLE groups
    ADD COLUMN default_kind text NOT NULL DEFAULT 'discussion'
        CHECK (default_kind IN ('question', 'discussion'));
ALTER TABLE groups ALTER COLUMN default_kind SET DEFAULT 'question';
