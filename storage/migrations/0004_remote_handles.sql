-- Handles are unique among our own actors only. Remote software may give a user and a
-- community the same name (Lemmy's /u/x and /c/x) or reuse a name under a new actor id
-- after a reinstall; the actor id stays the identity of a remote actor.
DROP INDEX actors_handle;
CREATE UNIQUE INDEX actors_local_handle ON actors (lower(username), domain) WHERE local;
CREATE INDEX actors_handle ON actors (lower(username), domain);
