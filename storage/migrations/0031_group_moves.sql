-- Issue 20, part 3: groups that move (FEP-7628).
-- A local actor's other addresses (`alsoKnownAs` of its document): a group that another
-- instance's group moves to names that group here (set by an admin). Remote actors keep
-- theirs in `raw`. `moved_to` (migration 0001) marks a moved actor, local or remote;
-- `moved_at` says when (a local group's pages redirect from then on).
ALTER TABLE actors ADD COLUMN IF NOT EXISTS also_known_as text[] NOT NULL DEFAULT '{}';
ALTER TABLE actors ADD COLUMN IF NOT EXISTS moved_at timestamptz;
