-- Issue 19: an actor's banner (AS2 `image`) beside its avatar (`icon_url`, migration 0001).
-- Local actors: the public URL of the uploaded picture's rendition; remote actors: the URL
-- from their document (shown through the media proxy).
ALTER TABLE actors ADD COLUMN image_url text;
