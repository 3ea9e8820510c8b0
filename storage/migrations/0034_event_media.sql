-- Issue 19 for events: files and pictures attached to an event (fedi/forum/events.py).
-- events.attachments holds the copy pages, API and federation read (the items of
-- posts.attachments; remote events keep their Image/Document attachments there);
-- event_media is what keeps an upload alive (fedi/forum/media.py, storage/media.py).
ALTER TABLE events ADD COLUMN IF NOT EXISTS attachments jsonb NOT NULL DEFAULT '[]';

CREATE TABLE IF NOT EXISTS event_media (
    event_id bigint NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    media_id bigint NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    position integer NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, media_id)
);
CREATE INDEX IF NOT EXISTS event_media_media ON event_media (media_id);
