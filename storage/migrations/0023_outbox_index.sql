-- A group's outbox lists the Announces that embed their object (FEP-1b12 backfill reads
-- them); the bare Announce(id) sent for Mastodon and the Announces of Likes sit between
-- them in activities_actor. The planner cannot estimate jsonb_typeof(...) = 'object' and
-- at a few thousand rows chose a sequential scan and a sort for every outbox page. This
-- index holds exactly the rows the page lists, in page order.
CREATE INDEX IF NOT EXISTS activities_outbox_announces ON activities (actor_id, id DESC)
    WHERE public AND type = 'Announce' AND jsonb_typeof(payload -> 'object') = 'object';
