-- Search that works for German (issue 15). The embedded PostgreSQL ships no contrib
-- extensions (no pg_trgm, no unaccent), so search is built-in full-text search on the
-- German-stemmed ``posts.search`` column (the snowball stemmer already folds umlauts and
-- ß: "Förderanträge" and "Förderantrag" are both 'forderantrag', "Straße" and "Strasse"
-- both 'strass'), plus:
--   * prefixes: a query term 'glas' is searched as 'glas:*' (GIN handles prefixes), so
--     "Glas" finds "Glasfaserausbau";
--   * parts inside compounds ("Faser" in "Glasfaserkabel", "Mittel" in "Fördermittel"):
--     a lexicon of the distinct lexemes of all posts and of their suffixes; a term is
--     expanded to the lexemes having a suffix that starts with it (a btree range scan on
--     ``search_suffixes``), capped, and the GIN index is searched for their OR.
-- fedi/forum/search.py builds the query; storage/search.py holds the statements.

-- Every distinct lexeme (3-40 characters) of every post. It only grows: a lexeme whose
-- posts are gone merely expands a query to a word that matches nothing.
CREATE TABLE search_words (
    word text COLLATE "C" PRIMARY KEY
);

-- The suffixes (at least four characters, the word's start excluded) of each lexeme:
-- "Faser" -> the range 'faser' .. 'faser\U0010FFFF' finds 'faserausbau' -> 'glasfaserausbau'.
-- "C" collation: byte order, so the range scan is exact for any pattern.
CREATE TABLE search_suffixes (
    suffix text COLLATE "C" NOT NULL,
    word text COLLATE "C" NOT NULL,
    PRIMARY KEY (suffix, word)
);

-- Adds the lexemes not yet known and their suffixes. Sorted, so that two transactions
-- adding overlapping new words take their key locks in the same order (no deadlock);
-- the suffixes of a word are inserted only by the transaction that added the word.
CREATE FUNCTION search_words_add(words text[]) RETURNS void
LANGUAGE sql AS $$
    WITH added AS (
        INSERT INTO search_words (word)
        SELECT DISTINCT w FROM unnest(words) AS w
        WHERE length(w) BETWEEN 3 AND 40
        ORDER BY 1
        ON CONFLICT DO NOTHING
        RETURNING word
    )
    INSERT INTO search_suffixes (suffix, word)
    SELECT substr(a.word, i), a.word
    FROM added a, generate_series(2, length(a.word) - 3) AS i
    ON CONFLICT DO NOTHING;
$$;

-- The searched documents apart from the wide posts rows: a search visits one small row per
-- match (about 20 to a page instead of one), and the newest matches come from the primary
-- key in order. group_id, author_id and parent_id never change for a post; filters use them before
-- the candidates are capped. Visibility and thread state are read from posts afterwards.
CREATE TABLE search_docs (
    post_id bigint PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    group_id bigint,
    author_id bigint NOT NULL,
    is_thread boolean NOT NULL,  -- an opening post (parent_id never changes either)
    search tsvector NOT NULL  -- posts.search stripped of positions: smaller; ranking reads posts
);
CREATE INDEX search_docs_search ON search_docs USING gin (search);
CREATE INDEX search_docs_group ON search_docs (group_id, post_id);
CREATE INDEX search_docs_author ON search_docs (author_id, post_id);

-- Fills search_docs and the lexicon from posts (the migration; a bulk load that bypassed
-- the trigger: storage.search.rebuild).
CREATE FUNCTION search_rebuild() RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_docs (post_id, group_id, author_id, is_thread, search)
    SELECT id, group_id, author_id, parent_id IS NULL, strip(search) FROM posts
    ON CONFLICT (post_id) DO UPDATE
        SET group_id = EXCLUDED.group_id, search = EXCLUDED.search;
    SELECT search_words_add(coalesce(array_agg(word), '{}'))
    FROM ts_stat('SELECT search FROM search_docs');
$$;

CREATE FUNCTION posts_search_docs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_docs (post_id, group_id, author_id, is_thread, search)
    VALUES (NEW.id, NEW.group_id, NEW.author_id, NEW.parent_id IS NULL, strip(NEW.search))
    ON CONFLICT (post_id) DO UPDATE
        SET group_id = EXCLUDED.group_id, search = EXCLUDED.search;
    PERFORM search_words_add(tsvector_to_array(NEW.search));
    RETURN NULL;
END;
$$;

-- AFTER: the generated ``search`` column is computed by then.
CREATE TRIGGER posts_search_docs
    AFTER INSERT OR UPDATE OF title, source, content_html, group_id ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_docs();

-- The posts that exist already.
SELECT search_rebuild();
