-- The pages a German public body must publish (issue 18 point 2): the Impressum (§ 5 DDG),
-- the accessibility statement (BITV 2.0, § 12b BGG) and the Netiquette are versioned
-- documents like the terms of use and the privacy policy (migration 0010). Unlike those,
-- nothing is seeded: a placeholder Impressum must not be published, so the page says
-- "not yet published" until an administrator publishes version 1 (the German template
-- is only the starting text of the admin form, fedi/forum/legal_templates/). Only
-- 'terms' and 'privacy' ask for consent (storage/terms.py CONSENT_KINDS).

ALTER TABLE legal_documents DROP CONSTRAINT IF EXISTS legal_documents_kind_check;
ALTER TABLE legal_documents ADD CONSTRAINT legal_documents_kind_check
    CHECK (kind IN ('terms', 'privacy', 'impressum', 'accessibility', 'rules'));

-- Messages sent through the accessibility statement's feedback form (§ 12b Abs. 2 Nr. 3
-- BGG): anyone may write, without an account; name and address are optional. The
-- administrators get each one by mail and see them at /admin/feedback.
CREATE TABLE IF NOT EXISTS accessibility_feedback (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    email text NOT NULL DEFAULT '',
    message text NOT NULL,
    page text NOT NULL DEFAULT '',          -- the page the writer refers to (optional)
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS accessibility_feedback_created
    ON accessibility_feedback (created_at DESC, id DESC);
