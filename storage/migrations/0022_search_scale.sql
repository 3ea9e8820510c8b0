-- Search at scale (issue 17): a window's candidates for a rare term come from the GIN
-- index. Called with the tsquery as a value, the planner estimates a prefix term
-- ('zebra':*) at about 2 % of the documents whatever the statistics say, and over a million
-- documents it then prefers a (parallel) sequential scan of search_docs to the index: 230
-- ms for a term with no match. The service only takes this way for terms it has found
-- rare (storage/search.py, fedi/forum/search.py), so here the index is the way: no
-- sequential scan, no parallel workers. The newest ``cap`` matching documents with ids up
-- to ``top``, in a group / by an author when given, only opening posts when asked.
-- (A function with SET clauses is not inlined: its body is planned on its own, with
-- these settings.)
CREATE OR REPLACE FUNCTION search_index_candidates(
    tsquery, bigint, bigint, bigint, boolean, integer
) RETURNS TABLE (post_id bigint)
LANGUAGE sql STABLE
SET enable_seqscan = off
SET max_parallel_workers_per_gather = 0
AS $$
    SELECT d.post_id FROM search_docs d
    WHERE d.search @@ $1 AND d.post_id <= $2
      AND ($3 IS NULL OR d.group_id = $3)
      AND ($4 IS NULL OR d.author_id = $4)
      AND (NOT $5 OR d.is_thread)
    ORDER BY d.post_id + 0 DESC  -- "+ 0": collect the matches, never walk the key
    LIMIT $6
$$;
