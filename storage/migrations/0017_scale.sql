-- Flat at scale (issue 17): an index for every foreign key that rows are deleted (or set
-- null) through, and the counts pages and collections show kept in counter rows by
-- triggers, in the same transaction as the writes, instead of count(*) per request.

-- Foreign keys without an index on the referencing column: deleting (or erasing) the
-- referenced row scanned the whole referencing table. activities.post_id was the one
-- that hurt (222 ms of a 243 ms post deletion at 100,000 posts). Partial indexes where
-- the column is mostly NULL: the lookups by the foreign key are equalities.
CREATE INDEX IF NOT EXISTS activities_post ON activities (post_id) WHERE post_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS likes_actor ON likes (actor_id);
CREATE INDEX IF NOT EXISTS group_moderators_actor ON group_moderators (actor_id);
CREATE INDEX IF NOT EXISTS posts_accepted_by ON posts (accepted_by)
    WHERE accepted_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS posts_highlighted_by ON posts (highlighted_by)
    WHERE highlighted_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS modlog_target_post ON modlog (target_post_id)
    WHERE target_post_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS modlog_target_actor ON modlog (target_actor_id)
    WHERE target_actor_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS modlog_moderator ON modlog (moderator_id)
    WHERE moderator_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS bans_created_by ON bans (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_reporter ON reports (reporter_id)
    WHERE reporter_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_target_actor ON reports (target_actor_id)
    WHERE target_actor_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_assigned_to ON reports (assigned_to)
    WHERE assigned_to IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_resolved_by ON reports (resolved_by)
    WHERE resolved_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS domain_blocks_created_by ON domain_blocks (created_by)
    WHERE created_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS domain_allows_created_by ON domain_allows (created_by)
    WHERE created_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS legal_documents_created_by ON legal_documents (created_by)
    WHERE created_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS legal_acceptances_kind ON legal_acceptances (kind);

-- The outbox of the instance actor and of a group with nothing announced yet lists
-- Creates by type; the user outbox by actor (activities_actor serves it).
CREATE INDEX IF NOT EXISTS activities_type ON activities (type, id DESC) WHERE public;

-- A group's pinned threads, listed on their own before the rest (storage/posts.py
-- threads_page, pinned): the rest then come straight from posts_group_threads.
CREATE INDEX IF NOT EXISTS posts_group_pinned ON posts (group_id, pinned_at DESC)
    WHERE parent_id IS NULL AND pinned_at IS NOT NULL;
-- A person's newest posts (the profile page, the user API): ordered by the index, not
-- sorted out of every post they ever wrote. Serves the author_id foreign key too.
CREATE INDEX IF NOT EXISTS posts_author_recent ON posts (author_id, id DESC);
DROP INDEX IF EXISTS posts_author;

-- Counts per actor, each what a page or collection shows:
--   threads, posts   a group's visible threads and posts (group page, group lists, API);
--   followers, following   accepted follows (followers/following collections, pages);
--   authored         visible posts the actor wrote (NodeInfo's localPosts: the sum over
--                    local actors);
--   outbox_creates   public Creates the actor sent whose post is visible (or gone
--                    altogether), the outbox of a person;
--   outbox_announces public Announces with an embedded object the actor sent, same
--                    rule, the outbox of a group;
--   group_creates    public Creates about visible posts in the group, the outbox of a
--                    group that has announced nothing yet.
-- "Visible" is deleted_at IS NULL AND removed_at IS NULL, the rule of the queries these
-- replace (storage/groups.py stats, storage/activities.py). No foreign key: the rows are
-- written by triggers during cascades too, and actor ids are never reused (actors are
-- tombstoned, not deleted), so a left-over row is harmless.
CREATE TABLE actor_counts (
    actor_id bigint PRIMARY KEY,
    threads bigint NOT NULL DEFAULT 0,
    posts bigint NOT NULL DEFAULT 0,
    followers bigint NOT NULL DEFAULT 0,
    following bigint NOT NULL DEFAULT 0,
    outbox_creates bigint NOT NULL DEFAULT 0,
    outbox_announces bigint NOT NULL DEFAULT 0,
    group_creates bigint NOT NULL DEFAULT 0,
    authored bigint NOT NULL DEFAULT 0
);

-- Adds the deltas, summed per actor, in actor id order (concurrent writers lock the
-- counter rows in the same order). Rows whose deltas are all zero are skipped.
CREATE FUNCTION actor_counts_add(deltas actor_counts[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO actor_counts AS c (actor_id, threads, posts, followers, following,
                                   outbox_creates, outbox_announces, group_creates, authored)
    SELECT d.actor_id, sum(d.threads), sum(d.posts), sum(d.followers), sum(d.following),
           sum(d.outbox_creates), sum(d.outbox_announces), sum(d.group_creates),
           sum(d.authored)
    FROM unnest(deltas) AS d
    WHERE d.actor_id IS NOT NULL
    GROUP BY d.actor_id
    HAVING sum(abs(d.threads) + abs(d.posts) + abs(d.followers) + abs(d.following)
               + abs(d.outbox_creates) + abs(d.outbox_announces) + abs(d.group_creates)
               + abs(d.authored)) > 0
    ORDER BY d.actor_id
    ON CONFLICT (actor_id) DO UPDATE SET
        threads = c.threads + EXCLUDED.threads,
        posts = c.posts + EXCLUDED.posts,
        followers = c.followers + EXCLUDED.followers,
        following = c.following + EXCLUDED.following,
        outbox_creates = c.outbox_creates + EXCLUDED.outbox_creates,
        outbox_announces = c.outbox_announces + EXCLUDED.outbox_announces,
        group_creates = c.group_creates + EXCLUDED.group_creates,
        authored = c.authored + EXCLUDED.authored;
$$;

-- Which counters an activity adds to, given the visibility of its post (NULL: no post).
-- Returns rows for the sender and (for a Create) the post's group.
CREATE FUNCTION activity_count_rows(actor_id bigint, type text, public boolean,
                                    payload jsonb, post_visible boolean, post_group bigint,
                                    sign integer) RETURNS SETOF actor_counts
LANGUAGE sql IMMUTABLE AS $$
    SELECT actor_id, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
           (sign * (type = 'Create')::int)::bigint,
           (sign * (type = 'Announce' AND jsonb_typeof(payload -> 'object') = 'object')::int)::bigint,
           0::bigint, 0::bigint
    WHERE public AND coalesce(post_visible, true)
    UNION ALL
    SELECT post_group, 0, 0, 0, 0, 0, 0, sign::bigint, 0
    WHERE public AND type = 'Create' AND post_visible AND post_group IS NOT NULL
$$;

-- Hashtag pages: which threads carry a tag (a visible post with it in a visible thread,
-- the rule of storage/tags.py), and how many per tag, kept by posts_counts below.
CREATE TABLE tag_threads (
    tag text NOT NULL,
    thread_id bigint NOT NULL,
    PRIMARY KEY (tag, thread_id)
);
CREATE INDEX tag_threads_thread ON tag_threads (thread_id);
CREATE TABLE tag_counts (
    tag text PRIMARY KEY,
    threads bigint NOT NULL DEFAULT 0
);

-- Decides membership anew for the (tag, thread) pairs a write touched; each decision
-- reads one thread (posts_thread), so a write costs the size of its thread at most.
CREATE FUNCTION tag_threads_refresh(pairs tag_threads[]) RETURNS void
LANGUAGE sql AS $$
    WITH touched AS (
        SELECT DISTINCT tag, thread_id FROM unnest(pairs) WHERE thread_id IS NOT NULL
    ), wanted AS (
        SELECT x.tag, x.thread_id,
               EXISTS (SELECT 1 FROM posts t WHERE t.id = x.thread_id
                         AND t.deleted_at IS NULL AND t.removed_at IS NULL)
               AND EXISTS (SELECT 1 FROM posts p WHERE p.thread_id = x.thread_id
                             AND p.hashtags @> ARRAY[x.tag]
                             AND p.deleted_at IS NULL AND p.removed_at IS NULL) AS member
        FROM touched x
    ), added AS (
        INSERT INTO tag_threads (tag, thread_id)
        SELECT tag, thread_id FROM wanted WHERE member ORDER BY tag, thread_id
        ON CONFLICT DO NOTHING RETURNING tag
    ), removed AS (
        DELETE FROM tag_threads tt USING wanted w
        WHERE tt.tag = w.tag AND tt.thread_id = w.thread_id AND NOT w.member
        RETURNING tt.tag
    )
    INSERT INTO tag_counts AS c (tag, threads)
    SELECT tag, sum(d) FROM (SELECT tag, 1 AS d FROM added
                             UNION ALL SELECT tag, -1 FROM removed) AS changes
    GROUP BY tag HAVING sum(d) <> 0 ORDER BY tag
    ON CONFLICT (tag) DO UPDATE SET threads = c.threads + EXCLUDED.threads;
$$;

-- posts: thread and post counts of the group; a post that becomes (in)visible or moves
-- group also moves the counts of the activities about it.
CREATE FUNCTION posts_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM actor_counts_add(ARRAY(
            SELECT ROW(n.group_id,
                       (n.parent_id IS NULL AND n.deleted_at IS NULL AND n.removed_at IS NULL)::int,
                       (n.deleted_at IS NULL AND n.removed_at IS NULL)::int, 0, 0, 0, 0, 0, 0)::actor_counts
            FROM new_posts n WHERE n.group_id IS NOT NULL
            UNION ALL
            SELECT ROW(n.author_id, 0, 0, 0, 0, 0, 0, 0,
                       (n.deleted_at IS NULL AND n.removed_at IS NULL)::int)::actor_counts
            FROM new_posts n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM actor_counts_add(ARRAY(
            SELECT ROW(o.group_id,
                       -(o.parent_id IS NULL AND o.deleted_at IS NULL AND o.removed_at IS NULL)::int,
                       -(o.deleted_at IS NULL AND o.removed_at IS NULL)::int, 0, 0, 0, 0, 0, 0)::actor_counts
            FROM old_posts o WHERE o.group_id IS NOT NULL
            UNION ALL
            SELECT ROW(o.author_id, 0, 0, 0, 0, 0, 0, 0,
                       -(o.deleted_at IS NULL AND o.removed_at IS NULL)::int)::actor_counts
            FROM old_posts o));
    ELSE
        PERFORM actor_counts_add(ARRAY(
            WITH changed AS (
                SELECT o.id, o.group_id AS old_group, n.group_id AS new_group,
                       o.author_id AS old_author, n.author_id AS new_author,
                       o.parent_id IS NULL AS old_root, n.parent_id IS NULL AS new_root,
                       (o.deleted_at IS NULL AND o.removed_at IS NULL) AS old_visible,
                       (n.deleted_at IS NULL AND n.removed_at IS NULL) AS new_visible
                FROM old_posts o JOIN new_posts n ON n.id = o.id
                WHERE (o.deleted_at IS NULL AND o.removed_at IS NULL)
                          IS DISTINCT FROM (n.deleted_at IS NULL AND n.removed_at IS NULL)
                   OR o.group_id IS DISTINCT FROM n.group_id
                   OR o.author_id IS DISTINCT FROM n.author_id
                   OR (o.parent_id IS NULL) IS DISTINCT FROM (n.parent_id IS NULL)
            )
            SELECT ROW(c.old_group, -(c.old_root AND c.old_visible)::int, -c.old_visible::int,
                       0, 0, 0, 0, 0, 0)::actor_counts
            FROM changed c WHERE c.old_group IS NOT NULL
            UNION ALL
            SELECT ROW(c.new_group, (c.new_root AND c.new_visible)::int, c.new_visible::int,
                       0, 0, 0, 0, 0, 0)::actor_counts
            FROM changed c WHERE c.new_group IS NOT NULL
            UNION ALL
            SELECT ROW(c.old_author, 0, 0, 0, 0, 0, 0, 0, -c.old_visible::int)::actor_counts
            FROM changed c
            UNION ALL
            SELECT ROW(c.new_author, 0, 0, 0, 0, 0, 0, 0, c.new_visible::int)::actor_counts
            FROM changed c
            UNION ALL
            SELECT r FROM changed c JOIN activities a ON a.post_id = c.id,
                   LATERAL activity_count_rows(a.actor_id, a.type, a.public, a.payload,
                                               c.old_visible, c.old_group, -1) r
            UNION ALL
            SELECT r FROM changed c JOIN activities a ON a.post_id = c.id,
                   LATERAL activity_count_rows(a.actor_id, a.type, a.public, a.payload,
                                               c.new_visible, c.new_group, 1) r));
    END IF;
    -- Hashtag membership: the tags of inserted and deleted posts; on an update only of
    -- posts whose tags, visibility or thread changed, and for a thread root whose
    -- visibility changed every tag in its thread.
    IF TG_OP = 'INSERT' THEN
        PERFORM tag_threads_refresh(ARRAY(
            SELECT ROW(tag, n.thread_id)::tag_threads
            FROM new_posts n, unnest(n.hashtags) AS tag));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM tag_threads_refresh(ARRAY(
            SELECT ROW(tag, o.thread_id)::tag_threads
            FROM old_posts o, unnest(o.hashtags) AS tag));
    ELSE
        PERFORM tag_threads_refresh(ARRAY(
            WITH moved AS (
                SELECT o.hashtags AS old_tags, n.hashtags AS new_tags,
                       o.thread_id AS old_thread, n.thread_id AS new_thread,
                       n.parent_id IS NULL
                       AND (o.deleted_at IS NULL AND o.removed_at IS NULL)
                           IS DISTINCT FROM (n.deleted_at IS NULL AND n.removed_at IS NULL)
                           AS root_shown_or_hidden
                FROM old_posts o JOIN new_posts n ON n.id = o.id
                WHERE o.hashtags IS DISTINCT FROM n.hashtags
                   OR o.thread_id IS DISTINCT FROM n.thread_id
                   OR (o.deleted_at IS NULL AND o.removed_at IS NULL)
                          IS DISTINCT FROM (n.deleted_at IS NULL AND n.removed_at IS NULL)
            )
            SELECT ROW(tag, m.old_thread)::tag_threads FROM moved m, unnest(m.old_tags) AS tag
            UNION ALL
            SELECT ROW(tag, m.new_thread)::tag_threads FROM moved m, unnest(m.new_tags) AS tag
            UNION ALL
            SELECT ROW(tag, p.thread_id)::tag_threads
            FROM moved m JOIN posts p ON p.thread_id = m.new_thread, unnest(p.hashtags) AS tag
            WHERE m.root_shown_or_hidden));
    END IF;
    RETURN NULL;
END;
$$;

-- A deleted post's activities get post_id = NULL (ON DELETE SET NULL) and from then on
-- count as about no post. By the time activities_counts sees that update the post is
-- gone, so it counts their old state as "no post" too; the difference is made up here,
-- before the row goes (row level: posts are deleted only by cascades, rarely).
CREATE FUNCTION posts_counts_before_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM actor_counts_add(ARRAY(
        SELECT r FROM activities a,
               LATERAL activity_count_rows(a.actor_id, a.type, a.public, a.payload,
                                           NULL, NULL, 1) r
        WHERE a.post_id = OLD.id
        UNION ALL
        SELECT r FROM activities a,
               LATERAL activity_count_rows(a.actor_id, a.type, a.public, a.payload,
                                           OLD.deleted_at IS NULL AND OLD.removed_at IS NULL,
                                           OLD.group_id, -1) r
        WHERE a.post_id = OLD.id));
    RETURN OLD;
END;
$$;

CREATE TRIGGER posts_counts_before_delete BEFORE DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_counts_before_delete();
CREATE TRIGGER posts_counts_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS new_posts FOR EACH STATEMENT EXECUTE FUNCTION posts_counts();
CREATE TRIGGER posts_counts_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS old_posts FOR EACH STATEMENT EXECUTE FUNCTION posts_counts();
CREATE TRIGGER posts_counts_update AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS old_posts NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION posts_counts();

-- activities: the outbox counts of the sender and the group's Creates.
CREATE FUNCTION activities_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM actor_counts_add(ARRAY(
            SELECT r FROM old_activities a LEFT JOIN posts p ON p.id = a.post_id,
                   LATERAL activity_count_rows(
                       a.actor_id, a.type, a.public, a.payload,
                       CASE WHEN p.id IS NOT NULL
                            THEN p.deleted_at IS NULL AND p.removed_at IS NULL END,
                       p.group_id, -1) r));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM actor_counts_add(ARRAY(
            SELECT r FROM new_activities a LEFT JOIN posts p ON p.id = a.post_id,
                   LATERAL activity_count_rows(
                       a.actor_id, a.type, a.public, a.payload,
                       CASE WHEN p.id IS NOT NULL
                            THEN p.deleted_at IS NULL AND p.removed_at IS NULL END,
                       p.group_id, 1) r));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER activities_counts_insert AFTER INSERT ON activities
    REFERENCING NEW TABLE AS new_activities
    FOR EACH STATEMENT EXECUTE FUNCTION activities_counts();
CREATE TRIGGER activities_counts_delete AFTER DELETE ON activities
    REFERENCING OLD TABLE AS old_activities
    FOR EACH STATEMENT EXECUTE FUNCTION activities_counts();
CREATE TRIGGER activities_counts_update AFTER UPDATE ON activities
    REFERENCING OLD TABLE AS old_activities NEW TABLE AS new_activities
    FOR EACH STATEMENT EXECUTE FUNCTION activities_counts();

-- follows: accepted followers of the target, accepted following of the follower.
CREATE FUNCTION follows_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM actor_counts_add(ARRAY(
            SELECT ROW(o.target_id, 0, 0, -1, 0, 0, 0, 0, 0)::actor_counts
            FROM old_follows o WHERE o.state = 'accepted'
            UNION ALL
            SELECT ROW(o.follower_id, 0, 0, 0, -1, 0, 0, 0, 0)::actor_counts
            FROM old_follows o WHERE o.state = 'accepted'));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM actor_counts_add(ARRAY(
            SELECT ROW(n.target_id, 0, 0, 1, 0, 0, 0, 0, 0)::actor_counts
            FROM new_follows n WHERE n.state = 'accepted'
            UNION ALL
            SELECT ROW(n.follower_id, 0, 0, 0, 1, 0, 0, 0, 0)::actor_counts
            FROM new_follows n WHERE n.state = 'accepted'));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER follows_counts_insert AFTER INSERT ON follows
    REFERENCING NEW TABLE AS new_follows FOR EACH STATEMENT EXECUTE FUNCTION follows_counts();
CREATE TRIGGER follows_counts_delete AFTER DELETE ON follows
    REFERENCING OLD TABLE AS old_follows FOR EACH STATEMENT EXECUTE FUNCTION follows_counts();
CREATE TRIGGER follows_counts_update AFTER UPDATE ON follows
    REFERENCING OLD TABLE AS old_follows NEW TABLE AS new_follows
    FOR EACH STATEMENT EXECUTE FUNCTION follows_counts();

-- Counts stay right when a bulk load skips triggers (session_replication_role =
-- replica, as storage/seed.py does for the search trigger).
ALTER TABLE posts ENABLE ALWAYS TRIGGER posts_counts_insert;
ALTER TABLE posts ENABLE ALWAYS TRIGGER posts_counts_delete;
ALTER TABLE posts ENABLE ALWAYS TRIGGER posts_counts_before_delete;
ALTER TABLE posts ENABLE ALWAYS TRIGGER posts_counts_update;
ALTER TABLE activities ENABLE ALWAYS TRIGGER activities_counts_insert;
ALTER TABLE activities ENABLE ALWAYS TRIGGER activities_counts_delete;
ALTER TABLE activities ENABLE ALWAYS TRIGGER activities_counts_update;
ALTER TABLE follows ENABLE ALWAYS TRIGGER follows_counts_insert;
ALTER TABLE follows ENABLE ALWAYS TRIGGER follows_counts_delete;
ALTER TABLE follows ENABLE ALWAYS TRIGGER follows_counts_update;

-- Every count from scratch: the backfill below, and a repair for an operator (or a
-- test comparing the counters with the queries they replace).
CREATE FUNCTION actor_counts_rebuild() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM actor_counts;
    INSERT INTO actor_counts (actor_id, threads, posts, followers, following,
                              outbox_creates, outbox_announces, group_creates, authored)
    SELECT d.actor_id, sum(d.threads), sum(d.posts), sum(d.followers), sum(d.following),
           sum(d.outbox_creates), sum(d.outbox_announces), sum(d.group_creates),
           sum(d.authored)
    FROM (
        SELECT p.group_id AS actor_id, (p.parent_id IS NULL)::int::bigint AS threads,
               1::bigint AS posts, 0::bigint AS followers, 0::bigint AS following,
               0::bigint AS outbox_creates, 0::bigint AS outbox_announces,
               0::bigint AS group_creates, 0::bigint AS authored
        FROM posts p
        WHERE p.group_id IS NOT NULL AND p.deleted_at IS NULL AND p.removed_at IS NULL
        UNION ALL
        SELECT p.author_id, 0, 0, 0, 0, 0, 0, 0, 1 FROM posts p
        WHERE p.deleted_at IS NULL AND p.removed_at IS NULL
        UNION ALL
        SELECT f.target_id, 0, 0, 1, 0, 0, 0, 0, 0 FROM follows f WHERE f.state = 'accepted'
        UNION ALL
        SELECT f.follower_id, 0, 0, 0, 1, 0, 0, 0, 0 FROM follows f WHERE f.state = 'accepted'
        UNION ALL
        SELECT r.* FROM activities a LEFT JOIN posts p ON p.id = a.post_id,
               LATERAL activity_count_rows(
                   a.actor_id, a.type, a.public, a.payload,
                   CASE WHEN p.id IS NOT NULL
                        THEN p.deleted_at IS NULL AND p.removed_at IS NULL END,
                   p.group_id, 1) r
    ) d
    WHERE d.actor_id IS NOT NULL
    GROUP BY d.actor_id;
$$;

SELECT actor_counts_rebuild();

CREATE FUNCTION tag_threads_rebuild() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM tag_threads;
    DELETE FROM tag_counts;
    INSERT INTO tag_threads (tag, thread_id)
    SELECT DISTINCT tag, p.thread_id
    FROM posts p JOIN posts t ON t.id = p.thread_id, unnest(p.hashtags) AS tag
    WHERE p.deleted_at IS NULL AND p.removed_at IS NULL
      AND t.deleted_at IS NULL AND t.removed_at IS NULL;
    INSERT INTO tag_counts (tag, threads)
    SELECT tag, count(*) FROM tag_threads GROUP BY tag;
$$;

SELECT tag_threads_rebuild();
