-- Issue 19: uploaded files (fedi/forum/media.py). A row per upload, owned by the local
-- actor that uploaded it; the files themselves live in the media store
-- (fedi/core/media_store.py) under content-addressed names (stored_name, preview_name),
-- which several rows may share (the same picture uploaded twice): a file is deleted only
-- when no row names it any more.
CREATE TABLE IF NOT EXISTS media (
    id bigserial PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    content_hash text NOT NULL,                 -- sha256 of the uploaded bytes (hex)
    kind text NOT NULL CHECK (kind IN ('image', 'document')),
    media_type text NOT NULL,                   -- of the served file (after re-encoding)
    size bigint NOT NULL,                       -- bytes of the served file
    width integer,
    height integer,
    blurhash text,
    alt text,
    filename text,                              -- the original name, for documents' downloads
    stored_name text NOT NULL,                  -- <hash>.<ext>
    preview_name text,                          -- <hash>-preview.webp (images)
    created_at timestamptz NOT NULL DEFAULT now(),
    attached_at timestamptz                     -- first attached to a post or an actor
);
CREATE INDEX IF NOT EXISTS media_owner ON media (owner_id);
CREATE INDEX IF NOT EXISTS media_stored_name ON media (stored_name);
CREATE INDEX IF NOT EXISTS media_preview_name ON media (preview_name);
CREATE INDEX IF NOT EXISTS media_unattached ON media (created_at) WHERE attached_at IS NULL;

-- Which posts use an upload (in the order attached). posts.attachments holds the copy that
-- pages, API and federation read; this table is what keeps a file alive.
CREATE TABLE IF NOT EXISTS post_media (
    post_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    media_id bigint NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    position integer NOT NULL DEFAULT 0,
    PRIMARY KEY (post_id, media_id)
);
CREATE INDEX IF NOT EXISTS post_media_media ON post_media (media_id);

-- Avatars, group icons and banners (actors.icon_url / image_url point at their file).
CREATE TABLE IF NOT EXISTS actor_media (
    actor_id bigint NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('icon', 'image')),
    media_id bigint NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    PRIMARY KEY (actor_id, role)
);
CREATE INDEX IF NOT EXISTS actor_media_media ON actor_media (media_id);
