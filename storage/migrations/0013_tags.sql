-- Hashtags (issue 14): the tag page /tags/{name} finds the posts carrying a tag through
-- posts.hashtags (lower-case names, local and remote posts); a GIN index answers its
-- "hashtags @> ARRAY[tag]" without reading every post.
CREATE INDEX posts_hashtags ON posts USING gin (hashtags);
